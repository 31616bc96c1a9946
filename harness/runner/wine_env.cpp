#include "wine_env.hpp"

#include "address_space.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "display_check.hpp"
#include "phase_line.hpp"
#include "supervise.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

// The wineserver stays up this long after its last Windows process exits. The run's `down`
// stops it at once; this only bounds the life of a server whose run was killed outright.
constexpr const char* kServerIdleSeconds = "30";

// Bump when configure_prefix() changes: existing prefixes are then configured again.
constexpr const char* kPrefixSettingsVersion = "termsuite prefix settings 2";

// Set in the environment of the Xvfb a state folder starts, naming the file Xvfb writes its
// display number to: it tells that folder's Xvfb from any other, recorded or not.
constexpr const char* kDisplayFileVariable = "TERMSUITE_DISPLAY_FILE";

class DirLock {
 public:
  explicit DirLock(const fs::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw EnvError(fmt::format("cannot open lock file {}: {}", file.string(), std::strerror(errno)));
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~DirLock() { ::close(fd_); }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

// Alive and not a zombie. A process this runner started (Xvfb) is reaped here once it exits.
bool pid_alive(int pid) {
  if (pid <= 0) return false;
  if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  std::getline(stat, line);
  auto paren = line.rfind(')');
  return !(paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z');
}

// Waits, polling, for `done` until the deadline. Only for bringing the environment up and down
// (a server's socket, a process's exit), never as synchronisation inside a test.
template <class F>
bool poll_until(Deadline d, F done) {
  for (;;) {
    if (done()) return true;
    if (d.passed()) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string comm_of(int pid) { return trimmed(read_file(fmt::format("/proc/{}/comm", pid))); }

// Whether NAME=value is one of the process's environment entries.
bool has_env_entry(int pid, std::string_view entry) {
  const auto env = read_file(fmt::format("/proc/{}/environ", pid));
  std::size_t pos = 0;
  while (pos < env.size()) {
    auto end = env.find('\0', pos);
    if (end == std::string::npos) end = env.size();
    if (std::string_view(env).substr(pos, end - pos) == entry) return true;
    pos = end + 1;
  }
  return false;
}

std::vector<int> all_pids() {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pids.push_back(std::stoi(name));
  }
  return pids;
}

// The process holding the write lock on `lock` (fcntl F_GETLK, as `wineserver -k` finds the server
// it stops), 0 if none or no such file.
int lock_holder(const fs::path& lock) {
  const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct flock fl{};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  const int r = ::fcntl(fd, F_GETLK, &fl);
  ::close(fd);
  return r == 0 && fl.l_type != F_UNLCK ? static_cast<int>(fl.l_pid) : 0;
}

// Whether the process has a listening Unix socket: a wineserver does from the moment it has the
// lock until it begins to shut down (it then closes its master socket, keeping the lock until it
// exits). /proc/net/unix flags 0x10000 is __SO_ACCEPTCON, a listening socket.
bool accepting_clients(int pid) {
  std::set<std::string> listening;
  std::istringstream table(read_file("/proc/net/unix"));
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream f(line);
    std::string num, refs, protocol, flags, type, state, inode;
    if (!(f >> num >> refs >> protocol >> flags >> type >> state >> inode)) continue;
    if (std::strtoul(flags.c_str(), nullptr, 16) & 0x10000) listening.insert("socket:[" + inode + "]");
  }
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator(fmt::format("/proc/{}/fd", pid), ec)) {
    std::error_code e;
    if (listening.contains(fs::read_symlink(fd.path(), e).string())) return true;
  }
  return false;
}

bool is_elf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in && std::string_view(magic, 4) == "\x7f" "ELF";
}

std::string cmdline_of(int pid) {
  auto text = read_file(fmt::format("/proc/{}/cmdline", pid));
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, ms);
}

// `program --version`'s first line, within a short deadline: a Wine answers at once.
std::string version_line(const fs::path& program) {
  auto f = run(Command{program.string(), {"--version"}, {{"WINEDEBUG", "-all"}}, {}, {}}, Deadline::in(milliseconds(10'000)));
  return f.ok() ? trimmed(f.output.substr(0, f.output.find('\n'))) : std::string();
}

}  // namespace

WineEnv::ProcessId WineEnv::ProcessId::of(int pid) {
  static const std::string boot = trimmed(read_file("/proc/sys/kernel/random/boot_id"));
  // /proc/<pid>/stat: "pid (comm) state ppid ...": the start time is field 22, the 20th after
  // the comm's closing parenthesis (the comm itself may hold spaces and parentheses).
  const auto stat = read_file(fmt::format("/proc/{}/stat", pid));
  const auto paren = stat.rfind(')');
  if (pid <= 0 || paren == std::string::npos) return {};
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 0; i < 20 && fields >> field; ++i) {
  }
  if (!fields) return {};
  return ProcessId{pid, boot + ":" + field};
}

bool WineEnv::ProcessId::alive() const {
  return pid > 0 && pid_alive(pid) && ProcessId::of(pid).start == start;
}

WineEnv::WineEnv(const fs::path& state_root, WineUnderTest wine)
    // One environment has one name, however it is reached: its Xvfb and its Wine processes are
    // found by the paths in their environment, so a state root reached through a link must name
    // the same folder (else a second up() through the link misses the Xvfb that runs, starts
    // another, and the first outlives every down()).
    : wine_(std::move(wine)),
      dir_(fs::weakly_canonical(fs::absolute(state_root)) / wine_.key()),
      prefix_(dir_ / "prefix") {
  // Every Wine process of this environment is started by this process or by a Wine process it
  // started: all inherit what this sets (address_space.hpp).
  fix_wine_address_space(wine_);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw EnvError(fmt::format("cannot create {}: {}", dir_.string(), ec.message()));
  load_state();
}

std::string WineEnv::wine_program() const { return wine_.launcher.string(); }

std::vector<std::pair<std::string, std::string>> WineEnv::variables() const {
  std::vector<std::pair<std::string, std::string>> v;
  v.emplace_back("WINEPREFIX", prefix_.string());
  // The server this Wine's processes start if they find none: the one that goes with it.
  v.emplace_back("WINESERVER", wine_.server.string());
  v.emplace_back("WINEDEBUG", env_or("WINEDEBUG", "-all"));
  // No Mono or Gecko installer dialogs: the suite needs neither.
  v.emplace_back("WINEDLLOVERRIDES", env_or("WINEDLLOVERRIDES", "mscoree,mshtml="));
  if (!display_.empty()) v.emplace_back("DISPLAY", display_);
  return v;
}

void WineEnv::load_state() {
  xvfb_pid_ = 0;
  display_.clear();
  owner_ = {};
  auto file = dir_ / "state.json";
  if (!fs::exists(file)) return;
  // Unreadable, or from a runner that recorded no owner: whatever runs is nobody's, and the
  // next up() stops it.
  auto j = nlohmann::json::parse(read_file(file), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;
  display_ = j.value("display", "");
  xvfb_pid_ = j.value("xvfb_pid", 0);
  if (auto o = j.find("owner"); o != j.end() && o->is_object()) {
    owner_.pid = o->value("pid", 0);
    owner_.start = o->value("start", "");
  }
}

void WineEnv::save_state() const {
  nlohmann::json j;
  j["display"] = display_;
  j["xvfb_pid"] = xvfb_pid_;
  j["owner"] = {{"pid", owner_.pid}, {"start", owner_.start}, {"command", comm_of(owner_.pid)}};
  j["wine"] = {{"launcher", wine_.launcher.string()}, {"server", wine_.server.string()}, {"version", wine_.version}};
  std::ofstream(dir_ / "state.json") << j.dump(2) << "\n";
}

bool WineEnv::xvfb_alive() const {
  return xvfb_pid_ > 0 && pid_alive(xvfb_pid_) &&
         has_env_entry(xvfb_pid_, fmt::format("{}={}", kDisplayFileVariable, (dir_ / "xvfb.display").string()));
}

std::vector<int> WineEnv::xvfb_processes() const {
  return processes_with_env(fmt::format("{}={}", kDisplayFileVariable, (dir_ / "xvfb.display").string()), "Xvfb");
}

// The server folder is named after the prefix folder's device and inode, server-<dev>-<inode>
// (Wine's server/request.c, create_server_dir). Upstream Wine puts it in /tmp/.wine-<uid>/;
// Debian's Wine (its temporary-directory patch) in /run/user/<uid>/wine/ when that folder exists,
// else in a folder of $TMPDIR (or /tmp) whose name it keeps in the prefix's file `wineserver`.
std::vector<fs::path> WineEnv::server_dirs() const {
  struct stat st{};
  if (::stat(prefix_.c_str(), &st) != 0) return {};
  const auto name = fmt::format("server-{:x}-{:x}", static_cast<unsigned long long>(st.st_dev),
                                static_cast<unsigned long long>(st.st_ino));
  const auto uid = ::getuid();
  std::vector<fs::path> dirs{fs::path(fmt::format("/run/user/{}/wine", uid)) / name};
  if (auto named = trimmed(read_file(prefix_ / "wineserver")); !named.empty() && named.find('\n') == std::string::npos)
    dirs.push_back(fs::path(env_or("TMPDIR", "/tmp")) / named / name);
  dirs.push_back(fs::path(fmt::format("/tmp/.wine-{}", uid)) / name);
  return dirs;
}

// The server is the process that holds the lock of the server folder, for its whole life (Wine's
// server/request.c, acquire_lock): not a process found by its working directory, which the server
// leaves for the prefix each time it saves the registry (every 30 s, and as it exits).
WineEnv::Server WineEnv::find_server() const {
  for (const auto& dir : server_dirs()) {
    if (int pid = lock_holder(dir / "lock")) {
      std::error_code ec;
      return Server{pid, dir, fs::read_symlink(fmt::format("/proc/{}/exe", pid), ec)};
    }
  }
  return {};
}

bool WineEnv::server_running() const { return find_server().pid != 0; }

void WineEnv::up(Lifetime lifetime) {
  DirLock lock(dir_ / "lock");
  load_state();  // what another process may have started since this object was made
  up_locked(lifetime);
}

void WineEnv::up_locked(Lifetime lifetime) {
  if (!owner_.alive()) {
    // Its owner is gone (a run killed outright, a ctest that never reached wine-down), or none
    // was recorded: nothing that runs is in use. Stop it all and start afresh, so that what
    // this run starts is its own.
    const auto gone = owner_.pid ? fmt::format("pid {}, gone", owner_.pid) : std::string("no owner recorded");
    auto stopped = stop_locked();
    if (!stopped.asked.empty() || !stopped.killed.empty()) {
      fmt::print(stderr, "termsuite: stopped what an earlier run ({}) left of the Wine environment:\n", gone);
      for (const auto& line : stopped.asked) fmt::print(stderr, "termsuite:   {}\n", line);
      for (const auto& line : stopped.killed) fmt::print(stderr, "termsuite:   {}\n", line);
    }
    owner_ = ProcessId::of(lifetime == Lifetime::run ? ::getpid() : ::getppid());
  } else if (lifetime == Lifetime::run) {
    owner_ = ProcessId::of(::getpid());  // this run takes over what is up, and stops it at its end
  }
  save_state();  // the owner first: a failure below leaves nothing unowned
  if (lifetime == Lifetime::run) start_guard();
  // A DISPLAY that is set but does not answer (a stale ssh -X, a CI that exports one) would fail
  // every GUI test for the machine's sake: use a private Xvfb instead, and say so.
  const auto user_display = env_or("DISPLAY", "");
  const bool need_display = user_display.empty() || !display_answers(user_display);
  if (need_display && !xvfb_alive()) {
    start_xvfb(lifetime, user_display.empty() ? "DISPLAY is not set" : fmt::format("DISPLAY={} does not answer", user_display));
    if (!user_display.empty())
      fmt::print(stderr, "termsuite: DISPLAY={} does not answer; using a private Xvfb ({}) instead\n", user_display, display_);
  }
  if (!need_display) display_ = user_display;
  // A first run's Wine prefix takes a while (wineboot --init, then the first boot): a phase of its
  // own, said as it starts.
  std::optional<PhaseLine> phase;
  if (!fs::exists(dir_ / "prefix.ready")) {
    const auto what = fmt::format("Wine prefix: creating {} and booting it", shown_path(prefix_));
    // wine-exec's standard output is the Windows program's (a test's, read by ctest): its phase
    // line goes to standard error.
    if (phase_to_stderr_) phase.emplace(what, dir_ / "wineboot-init.log", false, stderr);
    else phase.emplace(what, dir_ / "wineboot-init.log");
    create_prefix();
  }
  ensure_server();
  if (phase) phase->done();
  // A prefix made by an older version gets the newer settings, through the running server.
  if (read_file(dir_ / "prefix.ready").find(kPrefixSettingsVersion) == std::string::npos) configure_prefix();
  save_state();
}

void WineEnv::create_prefix() {
  // A prefix without the marker is a creation that was interrupted: start over.
  std::error_code ec;
  fs::remove_all(prefix_, ec);
  fs::create_directories(prefix_, ec);
  auto wine = wine_program();
  Command boot{wine, {"wineboot", "--init"}, {}, {}, {}};
  for (auto& [k, v] : variables()) boot.env[k] = v;
  auto f = run(boot, Deadline::in(milliseconds(180'000)), Output::discard, dir_ / "wineboot-init.log");
  throw_if_interrupted();
  if (!f.ok())
    throw EnvError(fmt::format("creating the Wine prefix {} failed (exit {}{}); see {}", prefix_.string(), f.exit_code,
                               f.timed_out ? ", timed out" : "", (dir_ / "wineboot-init.log").string()));
  configure_prefix();
  // Let the server that created the prefix finish writing the registry and exit before ours
  // starts (a server of its own would start the services with our caller's stdout).
  Command wait{wine_.server.string(), {"-w"}, {}, {}, {}};
  wait.env = boot.env;
  run(wait, Deadline::in(milliseconds(60'000)), Output::discard);
}

// Settings of the prefix, applied once per settings version (an existing prefix of an older
// version gets the newer settings without being recreated).
void WineEnv::configure_prefix() {
  auto wine = wine_program();
  Command base{wine, {}, {}, {}, {}};
  for (auto& [k, v] : variables()) base.env[k] = v;
  struct Setting {
    const char* key;
    const char* value;
    const char* data;
  };
  const Setting settings[] = {
      // An unhandled exception must end the process with its exception code, as on a Windows
      // machine with error reporting off, not attach winedbg (which pauses the process and
      // prints a crash report). With Auto=1 and an empty Debugger, Wine's
      // UnhandledExceptionFilter finds no debugger to start and lets the process die
      // (dlls/kernelbase/debug.c, start_debugger).
      {R"(HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug)", "Debugger", ""},
      {R"(HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug)", "Auto", "1"},
      // Xvfb runs no window manager: with managed windows, Wine's X11 driver waits 2 s for one
      // each time a visible window is destroyed (wait_for_withdrawn_state).
      {R"(HKCU\Software\Wine\X11 Driver)", "Managed", "N"},
  };
  for (const auto& st : settings) {
    Command reg = base;
    reg.args = {"reg", "add", st.key, "/v", st.value, "/t", "REG_SZ", "/d", st.data, "/f"};
    auto r = run(reg, Deadline::in(milliseconds(60'000)), Output::discard, dir_ / "prefix-settings.log");
    throw_if_interrupted();
    if (!r.ok())
      throw EnvError(fmt::format("configuring the Wine prefix ({} {}) failed (exit {}); see {}", st.key, st.value,
                                 r.exit_code, (dir_ / "prefix-settings.log").string()));
  }
  std::ofstream(dir_ / "prefix.ready") << kPrefixSettingsVersion << "\n";
}

void WineEnv::log_line(const fs::path& log, const std::string& text) const {
  // One write with O_APPEND: lines of concurrent writers do not interleave.
  const auto line = fmt::format("== {} pid {}: {}\n", utc_now(), ::getpid(), text);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  [[maybe_unused]] auto written = ::write(fd, line.data(), line.size());
  ::close(fd);
}

void WineEnv::ensure_server() {
  const auto s = find_server();
  if (s.pid && !s.exe.empty()) {  // (no exe: the holder is exiting; start_server waits for it)
    std::string why;
    if (!server_is_ours(s, why)) stop_foreign_server(s, why);
    else if (accepting_clients(s.pid)) return;  // up: the common case
    // Otherwise it is starting or shutting down: start_server waits for it to be one or the other.
  }
  start_server();
}

// Who holds the lock when ours is refused: a server that a Wine process started by itself (one
// that finds no server starts one), one that is shutting down (its last process gone 30 s ago, or
// stopped), or our own from a moment ago. The lock decides, as it does for Wine: a second server
// exits with status 2, silently (Wine's server/request.c, acquire_lock). Then the holder is
// watched until it accepts clients (a server is up: this run uses it, if it is ours) or lets the
// lock go (it has exited: ours is started again), within the start's deadline.
void WineEnv::start_server() {
  const auto server = wine_.server.string();
  const auto log = dir_ / "wineserver.log";
  Command c{server, {fmt::format("-p{}", kServerIdleSeconds)}, {}, {}, {}};
  for (auto& [k, v] : variables()) c.env[k] = v;
  const auto deadline = Deadline::in(milliseconds(30'000));
  const auto who = fmt::format("{} (parent pid {}: {})", cmdline_of(::getpid()), ::getppid(), comm_of(::getppid()));
  for (int attempt = 1;; ++attempt) {
    // Each start is kept: several runs and ctest's parallel tests share this log.
    log_line(log, fmt::format("{} starts `{} -p{}` (attempt {}) for {}", who, server, kServerIdleSeconds, attempt,
                              prefix_.string()));
    auto f = run(c, deadline, Output::discard, log, LogMode::append);
    throw_if_interrupted();
    if (f.ok()) {
      // What our start ran as, to know our server by later (server_is_ours).
      const auto ours = find_server();
      log_line(log, fmt::format("started: pid {} ({}) holds the lock", ours.pid, ours.exe.string()));
      if (ours.pid) {
        nlohmann::json j{{"server", fs::absolute(wine_.server).string()}, {"binary", ours.exe.string()}};
        std::ofstream(dir_ / "wineserver.json") << j.dump(2) << "\n";
      }
      break;
    }
    const auto status = f.timed_out ? std::string("it passed its deadline")
                        : f.signal  ? fmt::format("signal {}", f.signal)
                                    : fmt::format("exit {}", f.exit_code);
    if (f.exit_code != 2 || f.timed_out)
      throw EnvError(fmt::format("the wineserver {} did not start ({}); see {}", server, status, log.string()));
    Server holder;
    poll_until(deadline, [&] {
      holder = find_server();
      return !holder.pid || (accepting_clients(holder.pid) && !holder.exe.empty());
    });
    throw_if_interrupted();
    if (!holder.pid) {
      log_line(log, "exit 2: another server held the lock, and has exited since: starting again");
      continue;
    }
    if (accepting_clients(holder.pid) && !holder.exe.empty()) {
      std::string why;
      log_line(log, fmt::format("exit 2: pid {} ({}) holds the lock and accepts clients: using it", holder.pid,
                                holder.exe.string()));
      if (server_is_ours(holder, why)) break;
      stop_foreign_server(holder, why);
      continue;
    }
    log_line(log, fmt::format("exit 2: pid {} ({}) still holds the lock and accepts no clients", holder.pid,
                              holder.exe.string()));
    throw EnvError(fmt::format("the wineserver {} did not start: pid {} ({}) holds the lock of {} and accepted no "
                               "clients within 30 s; see {}",
                               server, holder.pid, holder.exe.string(), holder.dir.string(), log.string()));
  }
  // The first Windows process of a server session starts Wine's services, and they inherit its
  // stdout and stderr. Start them here with a log file, so that no pipe of a test (or of ctest)
  // is held open by a service.
  auto wine = wine_program();
  Command boot{wine, {"wineboot"}, c.env, {}, {}};
  const auto boot_log = dir_ / "wineboot.log";
  log_line(boot_log, fmt::format("{} runs `{} wineboot`", who, wine));
  auto b = run(boot, Deadline::in(milliseconds(60'000)), Output::discard, boot_log, LogMode::append);
  throw_if_interrupted();
  if (!b.ok())
    throw EnvError(fmt::format("wineboot failed (exit {}); see {}", b.exit_code, boot_log.string()));
}

// The server under test runs as its own file, or, when that is a script (Debian's /usr/bin/
// wineserver execs /usr/lib/wine/wineserver64), as the binary our last start of it ran as
// (wineserver.json). Without that record, the versions decide.
bool WineEnv::server_is_ours(const Server& s, std::string& why) const {
  const auto running = s.exe.string();
  std::error_code ec;
  const auto chosen = fs::canonical(wine_.server, ec);
  if (running.ends_with(" (deleted)")) {
    why = fmt::format("{}, whose file has been deleted or replaced since it started", running);
    return false;
  }
  if (!ec && is_elf(chosen)) {
    if (fs::equivalent(s.exe, chosen, ec)) return true;
    why = running;
    return false;
  }
  auto j = nlohmann::json::parse(read_file(dir_ / "wineserver.json"), nullptr, false);
  if (j.is_object() && j.value("server", "") == fs::absolute(wine_.server).string()) {
    if (j.value("binary", "") == running) return true;
    why = running;
    return false;
  }
  const auto theirs = version_line(s.exe);
  if (!theirs.empty() && theirs == version_line(wine_.server)) return true;
  why = fmt::format("{} ({})", running, theirs.empty() ? "no version" : theirs);
  return false;
}

// A server of another Wine for our prefix (someone ran their own Wine on it): it is not what the
// suite tests, and its prefix is ours. It is stopped, said in one line, and ours takes its place.
void WineEnv::stop_foreign_server(const Server& s, const std::string& why) {
  fmt::print(stderr, "termsuite: the wineserver running for {} is {} (pid {}), not the one under test ({}): "
                     "stopping it and starting ours\n",
             prefix_.string(), why, s.pid, wine_.server.string());
  log_line(dir_ / "wineserver.log", fmt::format("pid {} runs {}, not {}: stopping it", s.pid, why, wine_.server.string()));
  // `wineserver -k` stops whichever server holds the prefix's lock, of any Wine: it ends that
  // server's processes, then the server itself.
  Command k{wine_.server.string(), {"-k"}, {}, {}, {}};
  for (auto& [key, v] : variables()) k.env[key] = v;
  run(k, Deadline::in(milliseconds(15'000)), Output::discard);
  if (!poll_until(Deadline::in(milliseconds(5'000)), [&] { return find_server().pid != s.pid; }) &&
      find_server().pid == s.pid)
    ::kill(s.pid, SIGKILL);
  poll_until(Deadline::in(milliseconds(5'000)), [&] { return find_server().pid != s.pid; });
}

void WineEnv::start_xvfb(Lifetime lifetime, const std::string& why) {
  auto xvfb = find_program("Xvfb");
  if (xvfb.empty()) throw EnvError(fmt::format("{} and Xvfb is not on PATH (./termsuite installs xvfb)", why));
  // -displayfd: Xvfb picks a free display itself and writes its number once it accepts clients.
  auto fifo = dir_ / "xvfb.display";
  std::error_code ec;
  fs::remove(fifo, ec);
  // Not -terminate: Wine's desktop process leaves about a second after its last client and
  // comes back with the next one, and Xvfb must stay up across that gap. down() stops it.
  Command c{xvfb, {"-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp"}, {}, {}, {}};
  // Boost.Process v1 cannot hand a child an extra descriptor, so go through a shell one-liner
  // that opens fd 3 on a file, in the same process (exec), keeping the pid ours.
  // The variable also marks the process as this folder's Xvfb (xvfb_processes).
  Command sh{"/bin/sh", {"-c", fmt::format("exec \"$0\" \"$@\" 3>\"${}\"", kDisplayFileVariable)},
             {{kDisplayFileVariable, fifo.string()}}, {}, {}};
  sh.args.push_back(c.program);
  for (auto& a : c.args) sh.args.push_back(a);
  // A run's Xvfb dies with the runner (SIGTERM from the kernel, even if the runner is killed
  // outright); the fixtures' Xvfb lives on until wine-down, or until a later up() finds its owner
  // gone.
  xvfb_pid_ = spawn_detached(sh, dir_ / "xvfb.log", Detach{.dies_with_runner = lifetime == Lifetime::run});
  std::string number;
  bool ok = poll_until(Deadline::in(milliseconds(10'000)), [&] {
    auto text = read_file(fifo);
    if (text.find('\n') == std::string::npos) return !pid_alive(xvfb_pid_);
    number = text.substr(0, text.find('\n'));
    return true;
  });
  if (interrupted()) {
    ::kill(xvfb_pid_, SIGKILL);
    pid_alive(xvfb_pid_);  // reap it
    xvfb_pid_ = 0;
    throw Interrupted();
  }
  if (!ok || number.empty()) {
    if (pid_alive(xvfb_pid_)) ::kill(xvfb_pid_, SIGKILL);
    xvfb_pid_ = 0;
    throw EnvError(fmt::format("{} and Xvfb did not start; see {}", why, (dir_ / "xvfb.log").string()));
  }
  display_ = ":" + number;
}

// The guard of a run: a small process of its own session (a signal to the runner's process
// group does not reach it), blocked reading a pipe whose only writer is the runner. The runner
// never writes; when it ends, however it ends, the kernel closes its end and the read returns.
// The guard then stops whatever the run still owns: what died with the runner is gone already,
// but the wineserver and any Wine process it kept (an actor the suite had not yet put into its
// job) would otherwise live on.
void WineEnv::start_guard() {
  if (guard_pipe_ >= 0) return;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw EnvError(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  // /proc/self/exe: this very program, even if a build has replaced its file since it started.
  Command c{"/proc/self/exe",
            {"wine-guard", "--state", dir_.parent_path().string(), "--fd", std::to_string(fds[0]), "--owner-pid",
             std::to_string(owner_.pid), "--owner-start", owner_.start},
            {{"WINE", wine_.launcher.string()}, {"WINESERVER", wine_.server.string()}}, {}, {}};
  try {
    spawn_detached(c, dir_ / "guard.log", Detach{.own_session = true, .keep_fd = fds[0]});
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[0]);
  guard_pipe_ = fds[1];  // open, never written, until this process ends
}

int WineEnv::guard(const fs::path& state_root, int fd, int owner_pid, const std::string& owner_start) {
  WineEnv env(state_root, choose_wine());  // the run's Wine, from WINE and WINESERVER
  char byte;
  while (::read(fd, &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(fd);
  DirLock lock(env.dir_ / "lock");
  env.load_state();
  // Ended as it should (down() removed the state), or someone else's now: nothing to do.
  if (env.owner_.pid != owner_pid || env.owner_.start != owner_start) return 0;
  auto stopped = env.stop_locked();
  env.owner_ = {};
  std::error_code ec;
  fs::remove(env.dir_ / "state.json", ec);
  fmt::print(stderr, "termsuite: the run (pid {}) ended without stopping its Wine environment; stopped:\n", owner_pid);
  for (const auto& line : stopped.asked) fmt::print(stderr, "termsuite:   {}\n", line);
  for (const auto& line : stopped.killed) fmt::print(stderr, "termsuite:   {}\n", line);
  return 0;
}

std::vector<std::string> WineEnv::down() {
  DirLock lock(dir_ / "lock");
  load_state();  // another process (a ctest fixture, wine-exec) may have brought it up
  auto stopped = stop_locked();
  owner_ = {};
  std::error_code ec;
  fs::remove(dir_ / "state.json", ec);
  return stopped.killed;
}

WineEnv::Stopped WineEnv::stop_locked() {
  Stopped out;
  if (int pid = find_server().pid) {
    out.asked.push_back(fmt::format("wineserver (pid {})", pid));
    Command k{wine_.server.string(), {"-k"}, {}, {}, {}};
    for (auto& [key, v] : variables()) k.env[key] = v;
    run(k, Deadline::in(milliseconds(10'000)), Output::discard);
  }
  // The server ends its Windows processes, then itself; give them time to go.
  poll_until(Deadline::in(milliseconds(10'000)), [&] { return !server_running() && processes_of_prefix(prefix_).empty(); });
  // Anything of this prefix still alive is a leftover: say so and end it.
  for (int pid : processes_of_prefix(prefix_)) {
    out.killed.push_back(fmt::format("left running: pid {} ({})", pid, comm_of(pid)));
    ::kill(pid, SIGKILL);
  }
  // Every Xvfb of this folder, recorded or not (a lost state file, an older runner's).
  auto xvfbs = xvfb_processes();
  if (xvfb_alive() && std::find(xvfbs.begin(), xvfbs.end(), xvfb_pid_) == xvfbs.end()) xvfbs.push_back(xvfb_pid_);
  for (int pid : xvfbs) {
    out.asked.push_back(fmt::format("Xvfb (pid {})", pid));
    ::kill(pid, SIGTERM);
  }
  if (!poll_until(Deadline::in(milliseconds(5'000)), [&] {
        return std::none_of(xvfbs.begin(), xvfbs.end(), [](int pid) { return pid_alive(pid); });
      }))
    for (int pid : xvfbs)
      if (pid_alive(pid)) {
        out.killed.push_back(fmt::format("Xvfb (pid {}) ignored SIGTERM", pid));
        ::kill(pid, SIGKILL);
      }
  xvfb_pid_ = 0;
  display_.clear();
  return out;
}

void WineEnv::exec(const std::vector<std::string>& program_and_args) {
  {
    DirLock lock(dir_ / "lock");
    load_state();
    phase_to_stderr_ = true;
    up_locked(Lifetime::kept);
  }
  for (auto& [k, v] : variables()) ::setenv(k.c_str(), v.c_str(), 1);
  auto wine = wine_program();
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(wine.c_str()));
  for (const auto& a : program_and_args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(wine.c_str(), argv.data());
  throw EnvError(fmt::format("cannot run {}: {}", wine, std::strerror(errno)));
}

std::vector<int> processes_of_prefix(const fs::path& prefix) {
  // Only Wine's own programs (loader, preloader, server): never a shell that merely exported
  // the same WINEPREFIX.
  return processes_with_env("WINEPREFIX=" + prefix.string(), "wine");
}

std::vector<int> processes_with_env(const std::string& entry, const std::string& exe_part) {
  std::vector<int> pids;
  for (int pid : all_pids()) {
    if (pid == ::getpid()) continue;
    if (!exe_part.empty()) {
      std::error_code ec;
      auto exe = fs::read_symlink(fmt::format("/proc/{}/exe", pid), ec).string();
      if (ec || exe.find(exe_part) == std::string::npos) continue;
    }
    if (has_env_entry(pid, entry)) pids.push_back(pid);
  }
  return pids;
}

}  // namespace termsuite::runner
