#include "supervise.hpp"
#include "supervise_child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <memory>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <fmt/format.h>

namespace bp = boost::process;

namespace termsuite::runner {

namespace {

std::mutex g_children_mutex;
std::set<pid_t> g_children;
std::atomic<bool> g_interrupted{false};
bool g_signals_blocked = false;

struct ChildRegistration {
  explicit ChildRegistration(pid_t p) : pid(p) {
    std::lock_guard lock(g_children_mutex);
    g_children.insert(pid);
  }
  ~ChildRegistration() {
    std::lock_guard lock(g_children_mutex);
    g_children.erase(pid);
  }
  pid_t pid;
};


// Children must not inherit the runner's blocked SIGINT/SIGTERM.
struct UnblockSignals : bp::extend::handler {
  template <class Executor>
  void on_exec_setup(Executor&) const {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
  }
};

// In the child, between fork and exec.
//   death_signal: sent to the child when the thread that forked it ends (PR_SET_PDEATHSIG). The
//   runner's threads that start such children live until the process ends (run() waits on the
//   calling thread; spawn_detached() with dies_with_runner runs on the main thread), so that is
//   the runner's death, even by SIGKILL. The setting survives exec (sh, then Xvfb; wine's
//   launcher script, then the loader) and is cleared by fork, so only this child is tied.
struct ChildSetup : bp::extend::handler {
  int death_signal = 0;  // 0: none
  bool own_session = false;
  int keep_fd = -1;
  pid_t runner = ::getpid();  // taken in the runner, before the fork
  template <class Executor>
  void on_exec_setup(Executor& e) const {
    if (own_session) ::setsid();
    if (keep_fd >= 0 && ::fcntl(keep_fd, F_SETFD, 0) != 0) {
      e.set_error(std::error_code(errno, std::system_category()), "fcntl(F_SETFD)");
      ::_exit(127);
    }
    if (death_signal == 0) return;
    if (::prctl(PR_SET_PDEATHSIG, death_signal) != 0) {
      e.set_error(std::error_code(errno, std::system_category()), "prctl(PR_SET_PDEATHSIG)");
      ::_exit(127);
    }
    // The runner died between the fork and the prctl: nobody would send the signal any more.
    if (::getppid() != runner) ::_exit(127);
  }
};
ChildSetup dies_with_runner() {
  ChildSetup s;
  s.death_signal = SIGKILL;
  return s;
}

// Boost.Process opens a log without O_TRUNC: empty it first, or an older, longer log's tail
// would stay behind the new text.
void empty_log(const std::filesystem::path& log) {
  std::error_code ec;
  std::filesystem::resize_file(log, 0, ec);  // absent: nothing to empty
}

Finished finish(bp::child& child, Deadline d) {
  Finished f;
  ChildRegistration reg(child.id());
  std::promise<void> done;
  auto exited = done.get_future();
  std::thread waiter([&] {
    std::error_code ec;
    child.wait(ec);
    done.set_value();
  });
  if (exited.wait_until(d.at()) != std::future_status::ready) {
    f.timed_out = true;
    std::error_code ec;
    child.terminate(ec);  // SIGKILL; the waiter then reaps it
  }
  waiter.join();
  int native = child.native_exit_code();
  if (WIFEXITED(native)) f.exit_code = WEXITSTATUS(native);
  else if (WIFSIGNALED(native)) f.signal = WTERMSIG(native);
  f.interrupted = g_interrupted.load() && f.signal == SIGKILL && !f.timed_out;
  return f;
}

}  // namespace

Finished run(const Command& c, Deadline d, Output out, const std::optional<std::filesystem::path>& log,
             LogMode mode) {
  auto program = resolve_program(c.program);
  auto env = child_environment(c);
  std::error_code ec;
  auto cwd = c.cwd.empty() ? std::filesystem::current_path() : c.cwd;
  if (log && mode == LogMode::append) {
    // O_APPEND: every writer adds at the end, so two runs writing one log keep both texts.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(log->c_str(), "ae"), &std::fclose);
    if (!file) throw EnvError(fmt::format("cannot open {}: {}", log->string(), std::strerror(errno)));
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > file.get(),
                    bp::std_in < bp::null, UnblockSignals{}, dies_with_runner(), ec);
    if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
    return finish(child, d);
  }
  if (log) {
    empty_log(*log);
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > log->string(),
                    bp::std_in < bp::null, UnblockSignals{}, dies_with_runner(), ec);
    if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
    return finish(child, d);
  }
  if (out == Output::capture) {
    // Read through a file, not a pipe: a pipe would stay open as long as any descendant that
    // inherited it lives, and a deadline must not depend on that.
    auto tmp = std::filesystem::temp_directory_path() /
               fmt::format("termsuite-capture-{}-{}", getpid(), std::hash<std::thread::id>{}(std::this_thread::get_id()));
    Finished f;
    {
      bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > tmp.string(),
                      bp::std_in < bp::null, UnblockSignals{}, dies_with_runner(), ec);
      if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
      f = finish(child, d);
    }
    std::FILE* fp = std::fopen(tmp.c_str(), "rb");
    if (fp) {
      char buf[4096];
      for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, fp)) > 0;) f.output.append(buf, n);
      std::fclose(fp);
    }
    std::filesystem::remove(tmp, ec);
    return f;
  }
  if (out == Output::discard) {
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), bp::std_out > bp::null,
                    bp::std_err > bp::null, bp::std_in < bp::null, UnblockSignals{}, dies_with_runner(), ec);
    if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
    return finish(child, d);
  }
  bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), UnblockSignals{}, dies_with_runner(),
                  ec);
  if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
  return finish(child, d);
}

int spawn_detached(const Command& c, const std::filesystem::path& log, Detach how) {
  auto program = resolve_program(c.program);
  if (how.dies_with_runner && ::gettid() != ::getpid())
    throw EnvError(fmt::format("internal error: {} must be started on the main thread to die with the runner", program));
  ChildSetup setup;
  setup.death_signal = how.dies_with_runner ? SIGTERM : 0;  // SIGTERM: Xvfb removes its lock file and socket
  setup.own_session = how.own_session;
  setup.keep_fd = how.keep_fd;
  std::error_code ec;
  empty_log(log);
  bp::child child(program, bp::args(c.args), child_environment(c), (bp::std_out & bp::std_err) > log.string(),
                  bp::std_in < bp::null, UnblockSignals{}, setup, ec);
  if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
  int pid = child.id();
  child.detach();
  return pid;
}

void install_interrupt_handling() {
  if (g_signals_blocked) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  g_signals_blocked = true;
  std::thread([set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      g_interrupted = true;
      std::lock_guard lock(g_children_mutex);
      for (pid_t p : g_children) kill(p, SIGKILL);
    }
  }).detach();
}

bool interrupted() { return g_interrupted.load(); }

void throw_if_interrupted() {
  if (g_interrupted.load()) throw Interrupted();
}

}  // namespace termsuite::runner
