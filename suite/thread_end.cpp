// A thread's own end while its process lives on ("ExitThread function" and "GetExitCodeThread
// function", Microsoft Learn): GetExitCodeThread answers STILL_ACTIVE while it runs, its code
// replaces STILL_ACTIVE, its waiters are released, and every attached DLL gets DLL_THREAD_DETACH.
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class ThreadEnd : public ClaimTest {
 protected:
  // A worker waits for the test, then ends by `how` (`exit-thread` or `return`) with `code`:
  // STILL_ACTIVE before, `code` after, and the process lives on (it was not the last thread).
  void expect_worker_ends_with(const std::string& how, std::uint32_t code) {
    auto go = sys().create_event("go-end-thread");
    auto a = start({"thread", "[", "wait-event", go.name, how, std::to_string(code), "]", "ready", "wait-forever"});
    auto worker = started_thread(a, 1);
    ASSERT_TRUE(worker);
    ASSERT_TRUE(ready(a));
    ASSERT_TRUE(expect_event(a, "waiting"));
    EXPECT_EQ(hex(sys().thread_exit_code(worker)), hex(kStillActive));
    ASSERT_TRUE(sys().set_event(go.handle));
    ASSERT_TRUE(ends(worker, "the worker that ends by " + how));
    EXPECT_EQ(hex(sys().thread_exit_code(worker)), hex(code));
    EXPECT_TRUE(still_running(a.process)) << "the process ended with a thread that was not its last";
    EXPECT_EQ(hex(sys().exit_code(a.process)), hex(kStillActive));
  }
};

TEST_F(ThreadEnd, StillActiveWhileItRuns) {
  claim("thread-end.still-active-while-running");
  auto a = start({"thread", "[", "ready", "wait-forever", "]", "wait-forever"});
  auto worker = started_thread(a, 1);
  ASSERT_TRUE(worker);
  ASSERT_TRUE(ready(a));
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(kStillActive)) << "the main thread, blocked";
  EXPECT_EQ(hex(sys().thread_exit_code(worker)), hex(kStillActive)) << "the worker, blocked";
  EXPECT_TRUE(still_running(worker));
  // ...and the answer changes once they have ended.
  ASSERT_TRUE(sys().terminate(a.process, 0x11));
  ASSERT_TRUE(ends(worker, "the worker of the terminated process"));
  EXPECT_EQ(hex(sys().thread_exit_code(worker)), hex(0x11));
}

TEST_F(ThreadEnd, ExitThreadCodeReplacesStillActive) {
  claim("thread-end.code-replaces-still-active");
  expect_worker_ends_with("exit-thread", 5);
}

// Returning from the thread procedure is ExitThread with the value returned ("either explicitly
// or by returning from a thread procedure").
TEST_F(ThreadEnd, ReturnedValueReplacesStillActive) {
  claim("thread-end.code-replaces-still-active");
  expect_worker_ends_with("return", 7);
}

TEST_F(ThreadEnd, WaitersAreReleased) {
  claim("thread-end.waiters-released");
  // A worker of the actor and two threads of the harness wait on the main thread, which calls
  // ExitThread(3) while the worker keeps the process alive.
  auto go = sys().create_event("go-exit-thread");
  auto a = start({"thread", "[", "wait-main", "ready", "wait-forever", "]", "wait-event", go.name, "exit-thread", "3"});
  ASSERT_EQ(sys().await_n(a, "waiting", 2, Deadline::in(kStartBudget)).size(), 2u) << "both threads must be waiting";
  auto group = sys().wait_async(a.thread, 2, Deadline::in(kExitBudget));
  ASSERT_TRUE(sys().set_event(go.handle));
  for (auto r : sys().join(group)) EXPECT_EQ(to_string(r), "signaled") << "a harness thread waiting on the main thread";
  ASSERT_TRUE(ready(a)) << "the actor's worker was not released";
  for (const auto& e : records(a, "released")) {
    if (e.text("target") == "main-thread") {
      EXPECT_EQ(e.text("result").value_or("?"), "signaled");
    }
  }
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(3));
  EXPECT_TRUE(still_running(a.process)) << "the process ended with a thread that was not its last";
}

TEST_F(ThreadEnd, ExitThreadDetachesEveryDll) {
  claim("thread-end.exit-thread-detach");
  auto a = start({"load-probe", "[", "]", "thread", "[", "exit-thread", "5", "]", "ready", "wait-forever"});
  auto started = expect_event(a, "thread-started");
  ASSERT_TRUE(started);
  const auto tid = static_cast<std::uint32_t>(started->number("thread").value_or(0));
  auto worker = sys().open_thread(tid);
  ASSERT_TRUE(worker.handle) << "OpenThread failed: error " << worker.error;
  ASSERT_TRUE(ends(worker.handle, "the worker that calls ExitThread"));
  // Its DllMain calls were written before it ended; wait for them to arrive, in order.
  const auto d = Deadline::in(kStartBudget);
  std::optional<Event> detach;
  for (std::size_t n = 1; !detach; ++n) {
    auto calls = sys().await_n(a, "dllmain", n, d);
    if (calls.size() < n) break;
    if (calls.back().tid == tid && calls.back().text("reason") == "thread-detach") detach = calls.back();
  }
  if (!detach) note_timeout("no DLL_THREAD_DETACH from the worker that called ExitThread");
  ASSERT_TRUE(detach);
  EXPECT_EQ(detach->text("reserved").value_or("?"), "null") << "DLL_THREAD_DETACH's lpReserved";
  EXPECT_TRUE(still_running(a.process));
}

// The worker waits up to 45 s for Windows' loader thread-pool workers to idle out.
TERMSUITE_MAY_RUN_LONG(ThreadEnd, LastThreadExitDetachesAsTheProcessEnds,
                       "the actor's thread waits up to 45 s for the process's other threads (Windows 10+'s loader pool) to end");

TEST_F(ThreadEnd, LastThreadExitDetachesAsTheProcessEnds) {
  claim("thread-end.last-thread-exit-ends-process");
  // The main thread leaves with ExitThread(1) while a worker lives: its DLL_THREAD_DETACH is the
  // control (such a record is seen). The worker waits for it, then until it is the process's last
  // thread, and leaves with ExitThread(9): that is the process's end, so the DLL gets
  // DLL_PROCESS_DETACH (lpReserved non-NULL: the process is terminating), on that thread, and no
  // DLL_THREAD_DETACH for it.
  auto a = start({"load-probe", "[", "]", "thread", "[", "wait-main", "become-last-thread", "exit-thread", "9", "]",
                  "exit-thread", "1"});
  auto worker_started = expect_event(a, "thread-started");
  ASSERT_TRUE(worker_started);
  const auto worker = static_cast<std::uint32_t>(worker_started->number("thread").value_or(0));
  ASSERT_TRUE(ends(a.thread, "the main thread"));
  if (!reached_last_thread_exit(a, 9, 2)) return;
  ASSERT_TRUE(ends(a.process, "the process whose last thread called ExitThread"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(9));
  ASSERT_TRUE(drained(a));
  bool control = false, process_detach = false;
  for (const auto& e : records(a, "dllmain", a.pid)) {
    const auto reason = e.text("reason").value_or("?");
    if (reason == "thread-detach" && e.tid == a.tid) control = true;
    if (reason == "thread-detach" && e.tid == worker) ADD_FAILURE() << "the last thread's ExitThread sent DLL_THREAD_DETACH";
    if (reason == "process-detach" && e.tid == worker) {
      process_detach = true;
      EXPECT_EQ(e.text("reserved").value_or("?"), "non-null") << "DLL_PROCESS_DETACH's lpReserved as the process ends";
    }
  }
  EXPECT_TRUE(control) << "the main thread's ExitThread sent no DLL_THREAD_DETACH (the control)";
  EXPECT_TRUE(process_detach) << "no DLL_PROCESS_DETACH on the last thread as its ExitThread ended the process";
}

}  // namespace
}  // namespace termsuite
