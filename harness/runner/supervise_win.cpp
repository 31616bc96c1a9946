// supervise.hpp on Windows (the runner of the Windows bundle, termsuite.exe).
//
// Every child of run() is created suspended, put into one job of this runner's and then
// resumed, so it is in the job before it can start anything. The job has
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the runner ends, however it ends (TerminateProcess
// included), the system closes its last handle to the job and ends every process in it, the
// suite processes and whatever they started. A child that reaches its deadline is terminated;
// the suite puts its actors into a kill-on-close job of its own, so they go with it. (Job
// objects nest from Windows 8 on: the suite's job inside this one.)
//
// Ctrl+C, Ctrl+Break and closing the console: the handler ends every child and lets the
// caller clean up (throw_if_interrupted).
// Boost.Process brings Asio, which needs WinSock 2 included before <windows.h>.
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <fmt/format.h>
#include <windows.h>

#include <atomic>
#include <cstdio>
#include <memory>

#include "supervise.hpp"
#include "supervise_child.hpp"

namespace bp = boost::process;

namespace termsuite::runner {

namespace {

std::atomic<bool> g_interrupted{false};

// Set (manual reset) by Ctrl+C: every wait of run() ends at once.
HANDLE interrupt_event() {
  static HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  return event;
}

// The runner's job: created on first use, never closed (the system closes it with the process).
HANDLE runner_job() {
  static HANDLE job = [] {
    HANDLE j = CreateJobObjectW(nullptr, nullptr);
    if (!j) throw EnvError(fmt::format("CreateJobObject failed: error {}", GetLastError()));
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(j, JobObjectExtendedLimitInformation, &limits, sizeof limits))
      throw EnvError(fmt::format("SetInformationJobObject(KILL_ON_JOB_CLOSE) failed: error {}", GetLastError()));
    return j;
  }();
  return job;
}

// Suspended at creation, into the job, then resumed.
struct InRunnerJob : bp::extend::handler {
  HANDLE job = runner_job();
  mutable DWORD error = 0;  // AssignProcessToJobObject's, if it failed (the child is then ended)
  template <class Executor>
  void on_setup(Executor& e) const {
    e.creation_flags |= CREATE_SUSPENDED;
  }
  template <class Executor>
  void on_success(Executor& e) const {
    HANDLE process = reinterpret_cast<HANDLE>(e.proc_info.hProcess);
    HANDLE thread = reinterpret_cast<HANDLE>(e.proc_info.hThread);
    if (!AssignProcessToJobObject(job, process)) {
      error = GetLastError();
      TerminateProcess(process, 1);
    }
    ResumeThread(thread);
  }
};


Finished finish(bp::child& child, const InRunnerJob& job, Deadline d) {
  Finished f;
  if (job.error) {
    std::error_code ec;
    child.wait(ec);
    throw EnvError(fmt::format("cannot put a child into the runner's job: AssignProcessToJobObject failed: error {}",
                               job.error));
  }
  // One wait on two objects: the child's end, or the Ctrl+C event; the deadline bounds it.
  HANDLE objects[2] = {reinterpret_cast<HANDLE>(child.native_handle()), interrupt_event()};
  DWORD r = WaitForMultipleObjects(2, objects, FALSE, d.remaining_ms());
  if (r != WAIT_OBJECT_0) {
    f.timed_out = r == WAIT_TIMEOUT;
    std::error_code ec;
    child.terminate(ec);
  }
  std::error_code ec;
  child.wait(ec);
  f.exit_code = child.exit_code();
  f.interrupted = g_interrupted.load() && !f.timed_out;
  return f;
}

BOOL WINAPI on_console_event(DWORD event) {
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
      g_interrupted = true;
      SetEvent(interrupt_event());
      return TRUE;  // handled: the waits above end the children, the caller cleans up
    default:
      return FALSE;
  }
}

}  // namespace

Finished run(const Command& c, Deadline d, Output out, const std::optional<std::filesystem::path>& log,
             LogMode mode) {
  auto program = resolve_program(c.program);
  auto env = child_environment(c);
  std::error_code ec;
  auto cwd = c.cwd.empty() ? std::filesystem::current_path() : c.cwd;
  InRunnerJob job;
  auto started = [&](bp::child& child) {
    if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
    return finish(child, job, d);
  };
  if (log && mode == LogMode::append) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(_wfopen(log->c_str(), L"ab"), &std::fclose);
    if (!file) throw EnvError(fmt::format("cannot open {}", log->string()));
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > file.get(),
                    bp::std_in < bp::null, job, ec);
    return started(child);
  }
  if (log) {
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > log->string(),
                    bp::std_in < bp::null, job, ec);
    return started(child);
  }
  if (out == Output::capture) {
    // Through a file, not a pipe, as on Linux: a descendant that inherited a pipe would keep it
    // open after the child ended.
    auto tmp = std::filesystem::temp_directory_path() /
               fmt::format("termsuite-capture-{}-{}", GetCurrentProcessId(), GetCurrentThreadId());
    Finished f;
    {
      bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > tmp.string(),
                      bp::std_in < bp::null, job, ec);
      f = started(child);
    }
    f.output = read_text_file(tmp);
    std::filesystem::remove(tmp, ec);
    return f;
  }
  if (out == Output::discard) {
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), bp::std_out > bp::null,
                    bp::std_err > bp::null, bp::std_in < bp::null, job, ec);
    return started(child);
  }
  bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), job, ec);
  return started(child);
}

int spawn_detached(const Command& c, const std::filesystem::path&, Detach) {
  throw EnvError(fmt::format("internal error: no detached processes on Windows ({})", c.program));
}

void install_interrupt_handling() { SetConsoleCtrlHandler(on_console_event, TRUE); }

bool interrupted() { return g_interrupted.load(); }

void throw_if_interrupted() {
  if (g_interrupted.load()) throw Interrupted();
}

}  // namespace termsuite::runner
