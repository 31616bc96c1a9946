// ExitProcess's numbered steps ("ExitProcess function", Microsoft Learn, Remarks): 1. the other
// threads end without DLL_THREAD_DETACH; 2. they are signaled; 3. the DLLs get DLL_PROCESS_DETACH;
// 4-5. only then does the calling thread end and become signaled; 7-8. only then is the process
// signaled (the page puts the exit status there too, but Windows may set it at the start: the
// tests assert the signal and record the status). Returning from main is ExitProcess. The probe
// DLL holds step 3 open (block-detach) so the harness can look at the others while it runs.
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class ExitProcessSteps : public ClaimTest {
 protected:
  // An actor whose worker is blocked when the main thread calls ExitProcess(3), with the probe's
  // DLL_PROCESS_DETACH blocked on `hold` until the test sets it. With `early_exit`, a second worker
  // ends by ExitThread(4) before that (its tid: `early_tid`), so its DLL_THREAD_DETACH is there to
  // be seen.
  struct Held {
    Actor a;
    Handle worker;
    System::NamedEvent hold;
    std::uint32_t early_tid = 0;
  };
  std::optional<Held> exit_while_detach_is_held(bool early_exit = false) {
    Held h{};
    h.hold = sys().create_event("hold-detach");
    auto go = sys().create_event("go-exit");
    auto early = sys().create_event("early-exit-thread");
    std::vector<std::string> verbs{"load-probe", "[", "block-detach", h.hold.name, "]", "thread", "[", "ready",
                                   "wait-forever", "]"};
    if (early_exit) verbs.insert(verbs.end(), {"thread", "[", "wait-event", early.name, "exit-thread", "4", "]"});
    verbs.insert(verbs.end(), {"wait-event", go.name, "exit-process", "3"});
    h.a = start(verbs);
    auto started = sys().await_n(h.a, "thread-started", early_exit ? 2 : 1, Deadline::in(kStartBudget));
    if (started.size() != (early_exit ? 2u : 1u) || !ready(h.a)) return std::nullopt;
    auto w = sys().open_thread(static_cast<std::uint32_t>(started[0].number("thread").value_or(0)));
    if (!w.handle) {
      ADD_FAILURE() << "OpenThread failed: error " << w.error;
      return std::nullopt;
    }
    h.worker = w.handle;
    EXPECT_EQ(hex(sys().thread_exit_code(h.worker)), hex(kStillActive)) << "the worker was not running";
    if (early_exit) {
      h.early_tid = static_cast<std::uint32_t>(started[1].number("thread").value_or(0));
      auto e = sys().open_thread(h.early_tid);
      if (!e.handle) {
        ADD_FAILURE() << "OpenThread failed: error " << e.error;
        return std::nullopt;
      }
      if (!sys().set_event(early.handle) || !ends(e.handle, "the worker that calls ExitThread")) return std::nullopt;
    }
    if (!sys().set_event(go.handle) || !expect_event(h.a, "dllmain-blocked")) return std::nullopt;
    return h;
  }
  // The probe's DllMain calls for `reason`, from the actor's process.
  std::vector<Event> dllmain(const Actor& a, std::string_view reason) {
    std::vector<Event> out;
    for (auto& e : records(a, "dllmain", a.pid))
      if (e.text("reason") == reason) out.push_back(std::move(e));
    return out;
  }
};

TEST_F(ExitProcessSteps, NoThreadDetachForTheThreadsItEnds) {
  claim("exitprocess.no-thread-detach");
  // Control: a worker that ends by ExitThread first gets its DLL_THREAD_DETACH, so the record
  // would be seen; the worker that is still blocked when ExitProcess is called gets none.
  auto go = sys().create_event("go-exit");
  auto a = start({"load-probe", "[", "]", "thread", "[", "ready", "exit-thread", "5", "]", "thread", "[", "ready",
                  "wait-forever", "]", "wait-event", go.name, "exit-process", "3"});
  auto started = sys().await_n(a, "thread-started", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 2u);
  const auto exiting = static_cast<std::uint32_t>(started[0].number("thread").value_or(0));
  const auto blocked = static_cast<std::uint32_t>(started[1].number("thread").value_or(0));
  auto first = sys().open_thread(exiting);
  ASSERT_TRUE(first.handle) << "OpenThread failed: error " << first.error;
  ASSERT_TRUE(ends(first.handle, "the worker that calls ExitThread"));
  ASSERT_EQ(sys().await_n(a, "ready", 2, Deadline::in(kStartBudget)).size(), 2u);
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(a.process, "the actor"));
  ASSERT_TRUE(drained(a));
  bool control = false;
  for (const auto& e : dllmain(a, "thread-detach")) {
    if (e.tid == exiting) control = true;
    EXPECT_NE(e.tid, blocked) << "the thread ExitProcess ended got DLL_THREAD_DETACH";
  }
  EXPECT_TRUE(control) << "the worker that called ExitThread got no DLL_THREAD_DETACH (the control)";
  EXPECT_EQ(dllmain(a, "process-detach").size(), 1u);
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(3));
}

TEST_F(ExitProcessSteps, OtherThreadsAreSignaledBeforeProcessDetach) {
  claim("exitprocess.threads-signaled-before-detach");
  auto h = exit_while_detach_is_held();
  ASSERT_TRUE(h);
  // DLL_PROCESS_DETACH is running (held): the worker has already ended, with the code.
  EXPECT_TRUE(ends(h->worker, "the worker, while DLL_PROCESS_DETACH runs"));
  EXPECT_EQ(hex(sys().thread_exit_code(h->worker)), hex(3)) << "the code of a thread ExitProcess ended";
  ASSERT_TRUE(sys().set_event(h->hold.handle));
  ASSERT_TRUE(ends(h->a.process, "the actor"));
  EXPECT_EQ(hex(sys().exit_code(h->a.process)), hex(3));
}

TEST_F(ExitProcessSteps, CallerIsSignaledOnlyAfterTheDlls) {
  claim("exitprocess.caller-signaled-after-detach");
  auto h = exit_while_detach_is_held(true);
  ASSERT_TRUE(h);
  // Control: a thread signaled by this ExitProcess is seen as signaled.
  ASSERT_TRUE(ends(h->worker, "the worker, while DLL_PROCESS_DETACH runs"));
  EXPECT_TRUE(still_running(h->a.thread)) << "the thread calling ExitProcess was signaled before its DLLs ran";
  EXPECT_EQ(hex(sys().thread_exit_code(h->a.thread)), hex(kStillActive));
  ASSERT_TRUE(sys().set_event(h->hold.handle));
  ASSERT_TRUE(ends(h->a.thread, "the thread that called ExitProcess, once the DLLs ran"));
  EXPECT_EQ(hex(sys().thread_exit_code(h->a.thread)), hex(3));
  // The DLLs ran on the thread that called ExitProcess (a thread that is running DllMain cannot be
  // signaled; one that only waits for another to run it can), and it ended without a
  // DLL_THREAD_DETACH, which the worker that called ExitThread shows would be seen.
  ASSERT_TRUE(ends(h->a.process, "the actor"));
  ASSERT_TRUE(drained(h->a));
  auto detach = dllmain(h->a, "process-detach");
  ASSERT_EQ(detach.size(), 1u);
  EXPECT_EQ(detach[0].tid, h->a.tid) << "DLL_PROCESS_DETACH ran on another thread than the one that called ExitProcess";
  bool control = false;
  for (const auto& e : dllmain(h->a, "thread-detach")) {
    control |= e.tid == h->early_tid;
    EXPECT_NE(e.tid, h->a.tid) << "the thread that called ExitProcess got DLL_THREAD_DETACH";
  }
  EXPECT_TRUE(control) << "the worker that called ExitThread got no DLL_THREAD_DETACH (the control)";
}

// A worker calls ExitProcess while the main thread is blocked: the worker runs DLL_PROCESS_DETACH,
// and the main thread, ended in step 1, runs none.
TEST_F(ExitProcessSteps, DetachRunsOnTheWorkerThatCalledIt) {
  claim("exitprocess.caller-signaled-after-detach");
  auto go = sys().create_event("go-exit");
  auto a = start({"load-probe", "[", "]", "thread", "[", "wait-event", go.name, "exit-process", "8", "]", "ready",
                  "wait-forever"});
  auto started = expect_event(a, "thread-started");
  ASSERT_TRUE(started);
  const auto worker_tid = static_cast<std::uint32_t>(started->number("thread").value_or(0));
  auto worker = sys().open_thread(worker_tid);
  ASSERT_TRUE(worker.handle) << "OpenThread failed: error " << worker.error;
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(a.process, "the actor whose worker called ExitProcess"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(8));
  ASSERT_TRUE(ends(worker.handle, "the worker that called ExitProcess"));
  EXPECT_EQ(hex(sys().thread_exit_code(worker.handle)), hex(8));
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(8)) << "the main thread's code";
  ASSERT_TRUE(drained(a));
  auto detach = dllmain(a, "process-detach");
  ASSERT_EQ(detach.size(), 1u);
  EXPECT_EQ(detach[0].tid, worker_tid) << "DLL_PROCESS_DETACH ran on another thread than the worker that called ExitProcess";
  EXPECT_EQ(detach[0].text("reserved").value_or("?"), "non-null") << "DLL_PROCESS_DETACH's lpReserved";
}

// While DLL_PROCESS_DETACH runs, the process object is not signaled. Its exit status may already
// be set: ExitProcess is RtlExitUserProcess, whose first NtTerminateProcess(NULL, code) ends the
// other threads and sets the status before the DLLs are told, so what GetExitCodeProcess reads
// then (STILL_ACTIVE, or the final code) is recorded, not asserted.
TEST_F(ExitProcessSteps, ProcessIsSignaledOnlyAfterTheDlls) {
  claim("exitprocess.signaled-after-detach");
  auto h = exit_while_detach_is_held();
  ASSERT_TRUE(h);
  ASSERT_TRUE(ends(h->worker, "the worker, while DLL_PROCESS_DETACH runs"));  // the control
  EXPECT_TRUE(still_running(h->a.process)) << "the process was signaled before its DLLs ran";
  const auto during = sys().exit_code(h->a.process);
  std::string read = hex(during);
  if (during == kStillActive) read = "259 (STILL_ACTIVE)";
  if (during == 3u) read = "3 (the final code)";
  observe("exit-code-during-detach", read);
  ASSERT_TRUE(sys().set_event(h->hold.handle));
  ASSERT_TRUE(ends(h->a.process, "the actor, once the DLLs ran"));
  EXPECT_EQ(hex(sys().exit_code(h->a.process)), hex(3));
}

TEST_F(ExitProcessSteps, ReturnFromMainIsExitProcess) {
  claim("exitprocess.return-from-main");
  // The main thread returns while a worker is blocked: the worker is ended with main's value and
  // without DLL_THREAD_DETACH, the DLL gets the exit-time DLL_PROCESS_DETACH (lpReserved set).
  // Control: a second worker that ends by ExitThread before main returns gets its
  // DLL_THREAD_DETACH, so the record would be seen.
  auto go = sys().create_event("go-return");
  auto early = sys().create_event("early-exit-thread");
  auto a = start({"load-probe", "[", "]", "thread", "[", "ready", "wait-forever", "]", "thread", "[", "wait-event",
                  early.name, "exit-thread", "4", "]", "wait-event", go.name, "return", "6"});
  auto started = sys().await_n(a, "thread-started", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 2u);
  ASSERT_TRUE(ready(a));
  const auto worker_tid = static_cast<std::uint32_t>(started[0].number("thread").value_or(0));
  const auto early_tid = static_cast<std::uint32_t>(started[1].number("thread").value_or(0));
  auto worker = sys().open_thread(worker_tid);
  ASSERT_TRUE(worker.handle) << "OpenThread failed: error " << worker.error;
  auto early_worker = sys().open_thread(early_tid);
  ASSERT_TRUE(early_worker.handle) << "OpenThread failed: error " << early_worker.error;
  ASSERT_TRUE(sys().set_event(early.handle));
  ASSERT_TRUE(ends(early_worker.handle, "the worker that calls ExitThread"));
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(a.process, "the actor whose main returned"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(6));
  ASSERT_TRUE(ends(worker.handle, "the worker"));
  EXPECT_EQ(hex(sys().thread_exit_code(worker.handle)), hex(6)) << "the worker's code";
  ASSERT_TRUE(drained(a));
  bool control = false;
  for (const auto& e : dllmain(a, "thread-detach")) {
    control |= e.tid == early_tid;
    EXPECT_NE(e.tid, worker_tid) << "the worker got DLL_THREAD_DETACH: main's return did not end it as ExitProcess does";
  }
  EXPECT_TRUE(control) << "the worker that called ExitThread got no DLL_THREAD_DETACH (the control)";
  auto detach = dllmain(a, "process-detach");
  ASSERT_EQ(detach.size(), 1u);
  EXPECT_EQ(detach[0].text("reserved").value_or("?"), "non-null") << "DLL_PROCESS_DETACH's lpReserved";
}

}  // namespace
}  // namespace termsuite
