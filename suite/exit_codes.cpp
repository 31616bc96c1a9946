// How a process ends, and the exit code it ends with. "Terminating a Process" (Microsoft Learn),
// "How Processes are Terminated" and the paragraph on exit codes. Claims: exit.code.*
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

// A crash may take the slower path on a machine with Windows Error Reporting or a registered
// debugger (the actor turns the crash dialog and the reporting UI off for itself, but a report may
// still be written before the process ends).
constexpr milliseconds kCrashBudget{30'000};

class ExitCode : public ClaimTest {
 protected:
  // The actor announced how it is about to end, then ended with `code`.
  void expect_ended_with(const Actor& a, std::string_view how, std::uint32_t code, milliseconds budget = kExitBudget) {
    auto last = expect_event(a, "about-to-exit");
    ASSERT_TRUE(last) << "the actor never reached its exit step";
    EXPECT_EQ(last->text("how").value_or("?"), how);
    ASSERT_TRUE(ends(a.process, "the actor's process", budget));
    EXPECT_EQ(hex(sys().exit_code(a.process)), hex(code));
  }
};

TEST_F(ExitCode, ReturnFromMain) {
  claim("exit.code.return-from-main");
  auto a = start({"return", "7"});
  expect_ended_with(a, "return", 7);
}

TEST_F(ExitCode, ExitProcessFromMainThread) {
  claim("exit.code.exitprocess");
  auto a = start({"exit-process", "0x2a"});
  expect_ended_with(a, "exit-process", 0x2a);
}

TEST_F(ExitCode, ExitProcessFromWorkerThread) {
  claim("exit.code.exitprocess");
  // The main thread blocks; a worker ends the whole process.
  auto a = start({"thread", "[", "exit-process", "11", "]", "wait-forever"});
  auto last = expect_event(a, "about-to-exit");
  ASSERT_TRUE(last);
  EXPECT_NE(last->tid, a.tid) << "ExitProcess was meant to be called by a worker thread";
  ASSERT_TRUE(ends(a.process, "the actor's process"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(11));
  // The main thread, blocked in a wait, ended with the process's code.
  ASSERT_TRUE(ends(a.thread, "the main thread"));
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(11));
}

TEST_F(ExitCode, TerminateProcess) {
  claim("exit.code.terminateprocess");
  auto a = start({"ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(sys().terminate(a.process, 0x1234));
  ASSERT_TRUE(ends(a.process, "the terminated process"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(0x1234));
}

// The worker waits up to 45 s for Windows' loader thread-pool workers to idle out.
TERMSUITE_MAY_RUN_LONG(ExitCode, LastThreadExitCode,
                       "the actor's thread waits up to 45 s for the process's other threads (Windows 10+'s loader pool) to end");

TEST_F(ExitCode, LastThreadExitCode) {
  claim("exit.code.last-thread");
  // The main thread leaves with ExitThread(1); the worker waits for it, then for every other
  // thread of the process to end (become-last-thread: on Windows 10 and later the loader's
  // thread-pool workers, started before main, idle about 30 s before they leave), and leaves with
  // ExitThread(9) as the process's last thread: the process ends with 9. Where other threads
  // outlive the wait, the rule is not exercised and the test is inconclusive, never a failure.
  auto a = start({"thread", "[", "wait-main", "become-last-thread", "exit-thread", "9", "]", "exit-thread", "1"});
  auto released = expect_event(a, "released");
  ASSERT_TRUE(released) << "the worker never saw the main thread end";
  EXPECT_EQ(released->text("result").value_or("?"), "signaled");
  ASSERT_TRUE(ends(a.thread, "the main thread"));
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(1)) << "the main thread's own exit code";
  if (!reached_last_thread_exit(a, 9, 2)) return;
  ASSERT_TRUE(ends(a.process, "the process whose last thread exited"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(9));
}

TEST_F(ExitCode, FatalAccessViolation) {
  claim("exit.code.fatal-exception");
  auto a = start({"crash", "av"});
  expect_ended_with(a, "crash", 0xC0000005, kCrashBudget);  // STATUS_ACCESS_VIOLATION
}

TEST_F(ExitCode, FatalIntegerDivideByZero) {
  claim("exit.code.fatal-exception");
  auto a = start({"crash", "div0"});
  expect_ended_with(a, "crash", 0xC0000094, kCrashBudget);  // STATUS_INTEGER_DIVIDE_BY_ZERO
}

TEST_F(ExitCode, FatalCustomException) {
  claim("exit.code.fatal-exception");
  auto a = start({"crash", "raise", "0xE0000001"});
  expect_ended_with(a, "crash", 0xE0000001, kCrashBudget);
}

TEST_F(ExitCode, FatalExceptionEndsEveryThreadWithItsCode) {
  claim("exit.code.fatal-exception-threads");
  // "Terminating a Process": the exception's value "is used as the exit code for all the threads
  // that were executing when the exception occurred." Two workers block, a third faults when told
  // to, and the main thread blocks too; the harness holds a handle to each thread before the
  // fault.
  auto go = sys().create_event("go-crash");
  auto a = start({"thread", "[", "wait-forever", "]", "thread", "[", "wait-forever", "]", "thread", "[", "wait-event",
                  go.name, "crash", "av", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto started = sys().await_n(a, "thread-started", 3, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 3u);
  std::vector<Handle> threads{a.thread};
  for (const auto& e : started) {
    auto t = sys().open_thread(static_cast<std::uint32_t>(e.number("thread").value_or(0)));
    ASSERT_TRUE(t.handle) << "OpenThread failed: error " << t.error;
    threads.push_back(t.handle);
  }
  ASSERT_TRUE(expect_event(a, "waiting"));  // the faulting thread is about to wait for `go`
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(a.process, "the process after the fault", kCrashBudget));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(0xC0000005));
  for (std::size_t i = 0; i < threads.size(); ++i) {
    ASSERT_TRUE(ends(threads[i], "a thread of the faulted process"));
    EXPECT_EQ(hex(sys().thread_exit_code(threads[i])), hex(0xC0000005)) << "thread #" << i << " (0: main)";
  }
}

}  // namespace
}  // namespace termsuite
