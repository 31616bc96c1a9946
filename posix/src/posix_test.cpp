#include "termsuite/posix/posix_test.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <fmt/format.h>

#include "termsuite/backend.hpp"
#include "termsuite/posix/protocol.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace bp = boost::process;

namespace termsuite {

std::string_view backend_name() { return "posix"; }

// linux-<kernel major.minor>-<arch>: the kernel's release without what a distribution or a
// machine adds ("6.1.0-18-amd64" is 6.1), so the results file is the same across machines.
Platform backend_platform() {
  Platform p;
  utsname u{};
  ::uname(&u);
  std::string sys = u.sysname;
  for (auto& c : sys) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.os = sys;  // "linux"
  std::string release = u.release;
  int major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) == 2) p.version = fmt::format("{}.{}", major, minor);
  else p.version = "0.0";
  std::string machine = u.machine;
  p.arch = machine == "aarch64" ? "arm64" : machine == "i686" || machine == "i386" ? "x86" : machine;
  p.host = fmt::format("{} {}", u.sysname, u.release);
  p.id = make_platform_id(p);
  return p;
}

std::string backend_path(std::string_view path) { return std::string(path); }

namespace posix {

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool readable(int fd, Deadline d) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(d.remaining_ms()));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Between fork and exec, in the actor: the options' group or session, the suite's death signal,
// default dispositions and an empty signal mask, and the descriptors it is to keep.
struct ActorSetup : bp::extend::handler {
  bool new_group = false;
  bool new_session = false;
  bool tied = true;
  std::vector<int> keep;
  pid_t suite = ::getpid();
  template <class Executor>
  void on_exec_setup(Executor& e) const {
    auto die = [&](const char* what) {
      e.set_error(std::error_code(errno, std::system_category()), what);
      ::_exit(127);
    };
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; ++s)
      if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
    if (new_session && ::setsid() < 0) die("setsid");
    if (new_group && !new_session && ::setpgid(0, 0) < 0) die("setpgid");
    // The actor inherits exactly the report channel and the descriptors it is given: nothing the
    // suite has open (its results stream, Boost.Process's /dev/null) reaches it.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    for (int fd : keep)
      if (::fcntl(fd, F_SETFD, 0) != 0) die("fcntl(F_SETFD)");
    if (tied) {
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("prctl(PR_SET_PDEATHSIG)");
      if (::getppid() != suite) ::_exit(127);  // the suite died before the prctl
    }
  }
};

// Every process whose parent is this one (its orphaned descendants too: it is their subreaper).
std::vector<pid_t> children() {
  std::vector<pid_t> out;
  const pid_t self = ::getpid();
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (!end || *end || pid <= 0) continue;
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == self) out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

}  // namespace

std::string Ending::describe() const {
  if (exited) return fmt::format("exit status {}", status);
  if (killed) return fmt::format("killed by SIG{}", signal_name(status));
  return "no ending";
}

std::string signal_name(int sig) {
  if (const char* n = find_signal_name(sig)) return n;
  return std::to_string(sig);
}

std::optional<int> signal_number(std::string_view name) {
  std::string n(name);
  if (int s = find_signal_number(n.c_str())) return s;
  return std::nullopt;
}

std::string actor_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "termsuite-posix-actor").string();
}

Channel::~Channel() {
  if (fd_ >= 0) ::close(fd_);
}

bool Channel::read_some(Deadline d) {
  if (eof_) return false;
  if (!readable(fd_, d)) return false;
  char buf[4096];
  ssize_t n = ::read(fd_, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    eof_ = true;
    if (auto last = splitter_.finish()) events_.push_back(std::move(*last));
    return false;
  }
  for (auto& e : splitter_.feed(std::string_view(buf, static_cast<std::size_t>(n)))) events_.push_back(std::move(e));
  return true;
}

std::optional<Event> Channel::await(std::string_view ev, Deadline d, pid_t pid) {
  for (std::size_t seen = 0;;) {
    for (; seen < events_.size(); ++seen)
      if (events_[seen].is(ev) && (pid == 0 || events_[seen].pid == static_cast<std::uint32_t>(pid))) return events_[seen];
    if (!read_some(d)) {
      for (; seen < events_.size(); ++seen)  // what the last read brought
        if (events_[seen].is(ev) && (pid == 0 || events_[seen].pid == static_cast<std::uint32_t>(pid)))
          return events_[seen];
      return std::nullopt;
    }
  }
}

std::vector<Event> Channel::await_n(std::string_view ev, std::size_t count, Deadline d) {
  for (;;) {
    std::vector<Event> found;
    for (const auto& e : events_)
      if (e.is(ev)) found.push_back(e);
    if (found.size() >= count) {
      found.resize(count);
      return found;
    }
    if (!read_some(d)) {
      found.clear();
      for (const auto& e : events_)
        if (e.is(ev)) found.push_back(e);
      if (found.size() > count) found.resize(count);
      return found;
    }
  }
}

bool Channel::drain(Deadline d) {
  while (read_some(d)) {
  }
  return eof_;
}

void PosixClaimTest::SetUp() {
  JudgedTest::SetUp();
  // Orphans of the test's actors become this process's children, to be found and reaped.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

PosixActor PosixClaimTest::start(std::vector<std::string> verbs) {
  ActorOptions o;
  o.verbs = std::move(verbs);
  return start(std::move(o));
}

PosixActor PosixClaimTest::start(ActorOptions options) {
  PosixActor a;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed: " << std::strerror(errno);
    return a;
  }
  a.channel = std::make_shared<Channel>(pipe_fds[0]);
  ActorSetup setup;
  setup.new_group = options.new_group;
  setup.new_session = options.new_session;
  setup.tied = options.tied;
  setup.keep = options.pass_fds;
  setup.keep.push_back(pipe_fds[1]);
  auto env = boost::this_process::environment();
  env[kReportFdVariable] = std::to_string(pipe_fds[1]);
  std::error_code ec;
  bp::child child(actor_path(), bp::args(options.verbs), env, bp::std_in < bp::null, setup, ec);
  ::close(pipe_fds[1]);
  if (ec) {
    ADD_FAILURE() << "the actor could not start: " << ec.message();
    return a;
  }
  a.pid = child.id();
  child.detach();  // waited for here, through its pidfd (waitid P_PIDFD)
  a.pidfd = pidfd_open(a.pid);
  if (a.pidfd < 0) ADD_FAILURE() << "pidfd_open(" << a.pid << ") failed: " << std::strerror(errno);
  else pidfds_.push_back(a.pidfd);
  return a;
}

std::optional<Event> PosixClaimTest::await_event(const PosixActor& a, std::string_view ev, milliseconds budget,
                                                 pid_t pid) {
  if (!a.channel) return std::nullopt;
  return a.channel->await(ev, Deadline::in(budget), pid);
}

std::optional<Event> PosixClaimTest::expect_event(const PosixActor& a, std::string_view ev, milliseconds budget,
                                                  pid_t pid) {
  auto d = Deadline::in(budget);
  auto e = a.channel ? a.channel->await(ev, d, pid) : std::nullopt;
  if (!e) {
    if (d.passed()) note_timeout(fmt::format("no '{}' record within {} ms", ev, budget.count()));
    else ADD_FAILURE() << "the report channel closed without a '" << ev << "' record";
  }
  return e;
}

std::vector<Event> PosixClaimTest::records(const PosixActor& a, std::string_view ev, pid_t pid) {
  std::vector<Event> out;
  if (!a.channel) return out;
  a.channel->drain(Deadline::now());  // what has arrived by now
  for (const auto& e : a.channel->events())
    if (e.is(ev) && (pid == 0 || e.pid == static_cast<std::uint32_t>(pid))) out.push_back(e);
  return out;
}

bool PosixClaimTest::drained(const PosixActor& a, milliseconds budget) {
  if (a.channel && a.channel->drain(Deadline::in(budget))) return true;
  note_timeout(fmt::format("the report channel was still open after {} ms", budget.count()));
  return false;
}

int PosixClaimTest::open_pidfd(pid_t pid) {
  int fd = pidfd_open(pid);
  if (fd < 0) {
    ADD_FAILURE() << "pidfd_open(" << pid << ") failed: " << std::strerror(errno);
    return -1;
  }
  pidfds_.push_back(fd);
  return fd;
}

bool PosixClaimTest::ends(int pidfd, std::string_view what, milliseconds budget) {
  if (readable(pidfd, Deadline::in(budget))) return true;
  note_timeout(fmt::format("{} did not end within {} ms", what, budget.count()));
  return false;
}

bool PosixClaimTest::still_running(int pidfd, milliseconds watch) { return !readable(pidfd, Deadline::in(watch)); }

std::optional<Ending> PosixClaimTest::ending(const PosixActor& a, milliseconds budget, bool keep) {
  if (a.pidfd < 0 || !ends(a.pidfd, fmt::format("actor {}", a.pid), budget)) return std::nullopt;
  siginfo_t info{};
  int flags = WEXITED | (keep ? WNOWAIT : 0);
  int r;
  while ((r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(a.pidfd), &info, flags)) < 0 && errno == EINTR) {
  }
  if (r < 0) {
    ADD_FAILURE() << "waitid(P_PIDFD) for " << a.pid << " failed: " << std::strerror(errno);
    return std::nullopt;
  }
  Ending e;
  e.exited = info.si_code == CLD_EXITED;
  e.killed = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
  e.status = info.si_status;
  return e;
}

bool PosixClaimTest::blocked_in(pid_t pid, pid_t tid, long nr, std::optional<long> arg0, milliseconds budget) {
  const auto path = fmt::format("/proc/{}/task/{}/syscall", pid, tid);
  const auto deadline = Deadline::in(budget);
  const int pidfd = pidfd_open(pid);
  bool blocked = false, ended = false;
  for (;;) {
    std::ifstream in(path);
    if (!in) {
      const int e = errno;
      if (pidfd >= 0) ::close(pidfd);
      if (e == EACCES || e == EPERM) {
        skip(fmt::format("which system call a thread is blocked in cannot be read here (/proc/<pid>/task/<tid>/syscall: {})",
                         std::strerror(e)));
        return false;
      }
      ADD_FAILURE() << path << " cannot be read: " << std::strerror(e);
      return false;
    }
    std::string number, first_argument;
    in >> number >> first_argument;  // "running", or the call's number and its arguments
    char* end = nullptr;
    if (number != "running" && !number.empty() && std::strtol(number.c_str(), &end, 10) == nr && end && !*end &&
        (!arg0 || std::strtol(first_argument.c_str(), nullptr, 0) == *arg0)) {
      blocked = true;
      break;
    }
    if (deadline.passed() || pidfd < 0) break;
    if (readable(pidfd, Deadline::in(std::min(milliseconds(1), deadline.remaining())))) {
      ended = true;
      break;
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  if (ended)
    ADD_FAILURE() << "process " << pid << " ended before thread " << tid << " blocked in system call " << nr;
  else if (!blocked)
    note_timeout(fmt::format("thread {} of process {} was not seen blocked in system call {} within {} ms", tid, pid, nr,
                             budget.count()));
  return blocked;
}

bool PosixClaimTest::signal(const PosixActor& a, int sig) {
  if (::syscall(SYS_pidfd_send_signal, a.pidfd, sig, nullptr, 0) == 0) return true;
  ADD_FAILURE() << "pidfd_send_signal(" << a.pid << ", SIG" << signal_name(sig) << ") failed: " << std::strerror(errno);
  return false;
}

std::vector<std::string> PosixClaimTest::reap_actors() {
  std::vector<std::string> problems;
  for (int fd : pidfds_) ::close(fd);
  pidfds_.clear();
  // Kill and reap every child; the children of one killed become this process's (it is their
  // subreaper) before it can be reaped, and are found on the next round.
  const auto deadline = Deadline::in(milliseconds(10'000));
  for (;;) {
    auto kids = children();
    if (kids.empty()) break;
    if (deadline.passed()) {
      problems.push_back(fmt::format("{} process(es) of the test could not be reaped within 10 s (first: {})",
                                     kids.size(), kids.front()));
      break;
    }
    for (pid_t k : kids) {
      int fd = pidfd_open(k);
      ::kill(k, SIGKILL);
      if (fd >= 0) {
        readable(fd, deadline);
        ::close(fd);
        ::waitpid(k, nullptr, WNOHANG);
      } else {
        ::waitpid(k, nullptr, 0);  // no pidfd (no descriptor left): wait for the SIGKILLed child itself
      }
    }
  }
  return problems;
}

}  // namespace posix
}  // namespace termsuite
