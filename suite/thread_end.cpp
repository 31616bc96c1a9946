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

}  // namespace
}  // namespace termsuite
