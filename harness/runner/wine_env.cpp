#include "wine_env.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "supervise.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

// The wineserver stays up this long after its last Windows process exits. The run's `down`
// stops it at once; this only bounds the life of a server whose run was killed outright.
constexpr const char* kServerIdleSeconds = "30";

// Bump when configure_prefix() changes: existing prefixes are then configured again.
constexpr const char* kPrefixSettingsVersion = "termsuite prefix settings 2";

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

}  // namespace

WineEnv::WineEnv(fs::path state_dir) : dir_(fs::absolute(std::move(state_dir))), prefix_(dir_ / "prefix") {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw EnvError(fmt::format("cannot create {}: {}", dir_.string(), ec.message()));
  load_state();
}

std::string WineEnv::wine_program() const {
  auto wine = env_or("TERMSUITE_WINE", "");
  if (!wine.empty()) {
    if (::access(wine.c_str(), X_OK) != 0) throw EnvError(fmt::format("TERMSUITE_WINE={} is not an executable", wine));
    return wine;
  }
  for (const char* name : {"wine64", "wine"}) {
    auto found = find_program(name);
    if (!found.empty()) return found;
  }
  throw EnvError("wine not found on PATH (./termsuite installs it; or set TERMSUITE_WINE)");
}

std::vector<std::pair<std::string, std::string>> WineEnv::variables() const {
  std::vector<std::pair<std::string, std::string>> v;
  v.emplace_back("WINEPREFIX", prefix_.string());
  v.emplace_back("WINEDEBUG", env_or("WINEDEBUG", "-all"));
  // No Mono or Gecko installer dialogs: the suite needs neither.
  v.emplace_back("WINEDLLOVERRIDES", env_or("WINEDLLOVERRIDES", "mscoree,mshtml="));
  if (!display_.empty()) v.emplace_back("DISPLAY", display_);
  return v;
}

void WineEnv::load_state() {
  auto file = dir_ / "state.json";
  if (!fs::exists(file)) {
    xvfb_pid_ = 0;
    display_.clear();
    return;
  }
  auto j = nlohmann::json::parse(read_file(file), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;  // rewritten by the next up()
  display_ = j.value("display", "");
  xvfb_pid_ = j.value("xvfb_pid", 0);
}

void WineEnv::save_state() const {
  nlohmann::json j;
  j["display"] = display_;
  j["xvfb_pid"] = xvfb_pid_;
  std::ofstream(dir_ / "state.json") << j.dump(2) << "\n";
}

int WineEnv::server_pid() const {
  // The wineserver of a prefix works in a folder named server-<dev>-<inode> after the prefix
  // folder's device and inode (under /tmp/.wine-<uid>/ or a private /tmp/wine-XXXXXX/, as the
  // build decides), so find the wineserver process whose working directory has that name.
  struct stat st{};
  if (::stat(prefix_.c_str(), &st) != 0) return 0;
  const auto want = fmt::format("server-{:x}-{:x}", static_cast<unsigned long long>(st.st_dev),
                                static_cast<unsigned long long>(st.st_ino));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code e1, e2;
    auto cwd = fs::read_symlink(entry.path() / "cwd", e1);
    if (e1 || cwd.filename() != want) continue;
    auto exe = fs::read_symlink(entry.path() / "exe", e2).filename().string();
    if (!e2 && exe.find("wineserver") != std::string::npos) return std::stoi(name);
  }
  return 0;
}

bool WineEnv::server_running() const { return server_pid() != 0; }

void WineEnv::up() {
  DirLock lock(dir_ / "lock");
  load_state();  // what another process may have started since this object was made
  up_locked();
}

void WineEnv::up_locked() {
  bool need_display = env_or("DISPLAY", "").empty();
  if (need_display && !(xvfb_pid_ && pid_alive(xvfb_pid_))) start_xvfb();
  if (!need_display) display_ = env_or("DISPLAY", "");
  if (!fs::exists(dir_ / "prefix.ready")) create_prefix();
  if (!server_running()) start_server();
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
  Command wait{find_program("wineserver").empty() ? "wineserver" : find_program("wineserver"), {"-w"}, {}, {}, {}};
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
    auto r = run(reg, Deadline::in(milliseconds(60'000)), Output::discard, dir_ / "wineboot-init.log");
    throw_if_interrupted();
    if (!r.ok()) throw EnvError(fmt::format("configuring the Wine prefix ({} {}) failed (exit {})", st.key, st.value, r.exit_code));
  }
  std::ofstream(dir_ / "prefix.ready") << kPrefixSettingsVersion << "\n";
}

void WineEnv::start_server() {
  auto server = env_or("TERMSUITE_WINESERVER", find_program("wineserver"));
  if (server.empty()) throw EnvError("wineserver not found on PATH (./termsuite installs wine)");
  // Without -f the server forks and its first process returns once the socket is ready.
  Command c{server, {fmt::format("-p{}", kServerIdleSeconds)}, {}, {}, {}};
  for (auto& [k, v] : variables()) c.env[k] = v;
  auto f = run(c, Deadline::in(milliseconds(30'000)), Output::discard, dir_ / "wineserver.log");
  throw_if_interrupted();
  if (!f.ok() && !server_running())
    throw EnvError(fmt::format("the wineserver did not start (exit {}); see {}", f.exit_code,
                               (dir_ / "wineserver.log").string()));
  // The first Windows process of a server session starts Wine's services, and they inherit its
  // stdout and stderr. Start them here with a log file, so that no pipe of a test (or of ctest)
  // is held open by a service.
  auto wine = wine_program();
  Command boot{wine, {"wineboot"}, c.env, {}, {}};
  auto b = run(boot, Deadline::in(milliseconds(60'000)), Output::discard, dir_ / "wineboot.log");
  throw_if_interrupted();
  if (!b.ok())
    throw EnvError(fmt::format("wineboot failed (exit {}); see {}", b.exit_code, (dir_ / "wineboot.log").string()));
}

void WineEnv::start_xvfb() {
  auto xvfb = find_program("Xvfb");
  if (xvfb.empty()) throw EnvError("Xvfb not found on PATH and DISPLAY is not set (./termsuite installs xvfb)");
  // -displayfd: Xvfb picks a free display itself and writes its number once it accepts clients.
  auto fifo = dir_ / "xvfb.display";
  std::error_code ec;
  fs::remove(fifo, ec);
  // Not -terminate: Wine's desktop process leaves about a second after its last client and
  // comes back with the next one, and Xvfb must stay up across that gap. down() stops it.
  Command c{xvfb, {"-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp"}, {}, {}, {}};
  // Boost.Process v1 cannot hand a child an extra descriptor, so go through a shell one-liner
  // that opens fd 3 on a file, in the same process (exec), keeping the pid ours.
  Command sh{"/bin/sh", {"-c", "exec \"$0\" \"$@\" 3>\"$TERMSUITE_DISPLAY_FILE\""}, {{"TERMSUITE_DISPLAY_FILE", fifo.string()}}, {}, {}};
  sh.args.push_back(c.program);
  for (auto& a : c.args) sh.args.push_back(a);
  xvfb_pid_ = spawn_detached(sh, dir_ / "xvfb.log");
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
    throw EnvError(fmt::format("Xvfb did not start; see {}", (dir_ / "xvfb.log").string()));
  }
  display_ = ":" + number;
}

std::vector<std::string> WineEnv::down() {
  DirLock lock(dir_ / "lock");
  load_state();  // another process (a ctest fixture, wine-exec) may have brought it up
  std::vector<std::string> leftovers;
  if (server_running()) {
    auto server = env_or("TERMSUITE_WINESERVER", find_program("wineserver"));
    if (!server.empty()) {
      Command k{server, {"-k"}, {}, {}, {}};
      for (auto& [key, v] : variables()) k.env[key] = v;
      run(k, Deadline::in(milliseconds(10'000)), Output::discard);
    }
  }
  // The server ends its Windows processes, then itself; give them time to go.
  poll_until(Deadline::in(milliseconds(10'000)), [&] { return !server_running() && processes_of_prefix(prefix_).empty(); });
  // Anything of this prefix still alive is a leftover: say so and end it.
  for (int pid : processes_of_prefix(prefix_)) {
    auto comm = read_file(fmt::format("/proc/{}/comm", pid));
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    leftovers.push_back(fmt::format("left running: pid {} ({})", pid, comm));
    ::kill(pid, SIGKILL);
  }
  if (xvfb_pid_ && pid_alive(xvfb_pid_)) {
    ::kill(xvfb_pid_, SIGTERM);
    if (!poll_until(Deadline::in(milliseconds(5'000)), [&] { return !pid_alive(xvfb_pid_); })) {
      leftovers.push_back(fmt::format("Xvfb (pid {}) ignored SIGTERM", xvfb_pid_));
      ::kill(xvfb_pid_, SIGKILL);
    }
  }
  xvfb_pid_ = 0;
  display_.clear();
  std::error_code ec;
  fs::remove(dir_ / "state.json", ec);
  return leftovers;
}

void WineEnv::exec(const std::vector<std::string>& program_and_args) {
  {
    DirLock lock(dir_ / "lock");
    load_state();
    if (!server_running() || (env_or("DISPLAY", "").empty() && !(xvfb_pid_ && pid_alive(xvfb_pid_)))) up_locked();
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
  std::vector<int> pids;
  const std::string needle = "WINEPREFIX=" + prefix.string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    int pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    // Only Wine's own programs (loader, preloader, server): never a shell that merely exported
    // the same WINEPREFIX.
    auto exe = fs::read_symlink(entry.path() / "exe", ec).string();
    if (ec || exe.find("wine") == std::string::npos) continue;
    auto env = read_file(entry.path() / "environ");
    std::size_t pos = 0;
    while (pos < env.size()) {
      auto end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (std::string_view(env).substr(pos, end - pos) == needle) {
        pids.push_back(pid);
        break;
      }
      pos = end + 1;
    }
  }
  return pids;
}

}  // namespace termsuite::runner
