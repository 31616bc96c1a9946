// TerminateThread ("TerminateThread function", Microsoft Learn): no DLL is told, the thread ends
// with the given code, a mutex it owned is abandoned, and the last thread takes its process with
// it.
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

constexpr std::uint32_t kStillActive = 259;
// How long a process whose last actor thread has gone may linger: Windows 10 and later start
// loader thread-pool workers before main, which idle for about 30 s before they leave.
constexpr milliseconds kPoolIdleBudget{40'000};

class TerminateThreadApi : public ClaimTest {};

TEST_F(TerminateThreadApi, NotifiesNoDll) {
  claim("terminate-thread.no-detach");
  // Two workers: the first is terminated, the second (the control) then ends by ExitThread and
  // gets its DLL_THREAD_DETACH, so such a record would be seen. Nobody else is called on the
  // terminated thread's behalf either (the main thread, blocked, ends only with the process).
  auto go = sys().create_event("go-exit-thread");
  auto a = start({"load-probe", "[", "]", "thread", "[", "ready", "wait-forever", "]", "thread", "[", "wait-event",
                  go.name, "exit-thread", "2", "]", "wait-forever"});
  auto started = sys().await_n(a, "thread-started", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 2u);
  const auto victim_tid = static_cast<std::uint32_t>(started[0].number("thread").value_or(0));
  const auto control_tid = static_cast<std::uint32_t>(started[1].number("thread").value_or(0));
  auto victim = sys().open_thread(victim_tid);
  auto control = sys().open_thread(control_tid);
  ASSERT_TRUE(victim.handle && control.handle);
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(expect_event(a, "waiting"));
  ASSERT_EQ(sys().terminate_thread(victim.handle, 7), 0u);
  ASSERT_TRUE(ends(victim.handle, "the terminated worker"));
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(control.handle, "the worker that calls ExitThread"));
  ASSERT_TRUE(sys().terminate(a.process, 1));
  ASSERT_TRUE(ends(a.process, "the actor"));
  ASSERT_TRUE(drained(a));
  bool control_detached = false;
  for (const auto& e : records(a, "dllmain", a.pid)) {
    if (e.text("reason") != "thread-detach") continue;
    if (e.tid == control_tid) control_detached = true;
    EXPECT_NE(e.tid, victim_tid) << "the thread TerminateThread ended got DLL_THREAD_DETACH";
    EXPECT_NE(e.tid, a.tid) << "the main thread got DLL_THREAD_DETACH on behalf of the thread TerminateThread ended";
  }
  EXPECT_TRUE(control_detached) << "the worker that called ExitThread got no DLL_THREAD_DETACH (the control)";
}

TEST_F(TerminateThreadApi, EndsWithTheGivenCode) {
  claim("terminate-thread.code");
  auto a = start({"thread", "[", "ready", "wait-forever", "]", "wait-forever"});
  auto worker = started_thread(a, 1);
  ASSERT_TRUE(worker);
  ASSERT_TRUE(ready(a));
  EXPECT_EQ(hex(sys().thread_exit_code(worker)), hex(kStillActive));
  ASSERT_EQ(sys().terminate_thread(worker, 0x1234), 0u);
  ASSERT_TRUE(ends(worker, "the terminated worker"));
  EXPECT_EQ(hex(sys().thread_exit_code(worker)), hex(0x1234));
  EXPECT_TRUE(still_running(a.process)) << "the process ended with a thread that was not its last";
}

TEST_F(TerminateThreadApi, MutexItOwnedIsAbandoned) {
  claim("terminate-thread.mutex-abandoned");
  const std::string mutex = sys().create_event("mutex").name + "-m";
  auto a = start({"thread", "[", "own-mutex", mutex, "ready", "wait-forever", "]", "wait-forever"});
  auto worker = started_thread(a, 1);
  ASSERT_TRUE(worker);
  ASSERT_TRUE(expect_event(a, "created"));
  ASSERT_TRUE(ready(a));
  auto m = sys().open_named(System::NamedType::mutex, mutex);
  ASSERT_TRUE(m.handle) << "OpenMutex failed: error " << m.error;
  EXPECT_EQ(to_string(sys().wait(m.handle, Deadline::now())), "timeout") << "the mutex was not owned by the worker";
  ASSERT_EQ(sys().terminate_thread(worker, 9), 0u);
  ASSERT_TRUE(ends(worker, "the terminated owner"));
  EXPECT_EQ(to_string(sys().wait(m.handle, Deadline::in(kExitBudget))), "abandoned");
  EXPECT_TRUE(sys().release_mutex(m.handle)) << "the waiter does not own the abandoned mutex";
  EXPECT_TRUE(still_running(a.process)) << "the process ended with a thread that was not its last";
}

TEST_F(TerminateThreadApi, LastThreadTakesTheProcess) {
  claim("terminate-thread.last-thread-ends-process");
  // The actor's only thread terminates itself. It says whether it was the process's last thread
  // (ThreadAmILastThread): on Windows 10 and later the loader's thread-pool workers usually outlive
  // it, and then what follows is recorded, not asserted.
  auto a = start({"ready", "terminate-thread", "9"});
  auto about = expect_event(a, "about-to-exit");
  ASSERT_TRUE(about);
  const std::string last = about->text("last_thread").value_or("unknown");
  observe("thread-was-last-thread", last);
  ASSERT_TRUE(ends(a.thread, "the terminated thread"));
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(9));
  if (last == "yes") {
    ASSERT_TRUE(ends(a.process, "the process whose last thread was terminated"));
    EXPECT_EQ(hex(sys().exit_code(a.process)), hex(9));
  } else {
    const bool ended = sys().wait(a.process, Deadline::in(kPoolIdleBudget)) == WaitResult::signaled;
    observe("ended-within-40-s-when-not-last", ended ? "yes" : "no");
  }
  EXPECT_TRUE(records(a, "error").empty()) << "TerminateThread on the calling thread returned";
}

}  // namespace
}  // namespace termsuite
