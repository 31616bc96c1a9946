// Termination handlers: SEH termination handlers (__finally blocks), atexit routines, static and
// thread-local destructors. "Terminating a Process": "If a process is terminated by
// TerminateProcess, all threads of the process are terminated immediately with no chance to run
// additional code. This means that the thread does not execute code in termination handler
// blocks." exit() and returning from main run the C runtime's (its documented behaviour); leaving
// a guarded frame runs its termination handler; what ExitProcess runs is recorded, not asserted.
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Handlers : public ClaimTest {
 protected:
  // Registers the three kinds of handler, then ends the way `ending` says.
  Actor run_and_end(std::vector<std::string> ending) {
    std::vector<std::string> verbs{"atexit", "static-object", "thread-local-object", "ready"};
    verbs.insert(verbs.end(), ending.begin(), ending.end());
    return start(verbs);
  }
  struct Ran {
    bool atexit, static_dtor, tls_dtor;
  };
  Ran what_ran(const Actor& a) {
    return Ran{!records(a, "atexit-ran").empty(), !records(a, "static-destructor-ran").empty(),
               !records(a, "thread-local-destructor-ran").empty()};
  }
  void observe_ran(const Ran& r) {
    observe("atexit", r.atexit ? "ran" : "not run");
    observe("static-destructor", r.static_dtor ? "ran" : "not run");
    observe("thread-local-destructor", r.tls_dtor ? "ran" : "not run");
  }
  void finish(const Actor& a) {
    ASSERT_TRUE(ends(a.process, "the actor"));
    ASSERT_TRUE(drained(a));
  }
};

TEST_F(Handlers, TerminateProcessRunsNone) {
  claim("dll.terminate-no-handlers");
  auto a = run_and_end({"wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(sys().terminate(a.process, 1));
  finish(a);
  auto ran = what_ran(a);
  observe_ran(ran);
  EXPECT_FALSE(ran.atexit) << "an atexit routine ran after TerminateProcess";
  EXPECT_FALSE(ran.static_dtor) << "a static destructor ran after TerminateProcess";
  EXPECT_FALSE(ran.tls_dtor) << "a thread-local destructor ran after TerminateProcess";
}

// A termination handler block is what the system's unwinder runs as a frame is left (a __finally
// block). Two actors each block a worker inside such a frame (`guarded-wait`). The control: the
// one whose wait ends leaves the frame by unwinding, and its handler reports. The other is
// terminated while inside: its handler must never run.
TEST_F(Handlers, TerminateProcessRunsNoFinallyBlock) {
  claim("dll.terminate-no-handlers");
  auto go = sys().create_event("leave-frame");
  auto never = sys().create_event("never");
  auto control = start({"thread", "[", "guarded-wait", go.name, "]", "ready", "wait-forever"});
  auto victim = start({"thread", "[", "guarded-wait", never.name, "]", "ready", "wait-forever"});
  for (const Actor* a : {&control, &victim}) {
    ASSERT_TRUE(ready(*a));
    ASSERT_TRUE(expect_event(*a, "waiting")) << "the worker never entered its guarded frame";
  }
  ASSERT_TRUE(sys().set_event(go.handle));
  auto left = expect_event(control, "guarded-left");
  ASSERT_TRUE(left) << "the control's worker never left its guarded frame";
  auto ran = records(control, "finally-ran");
  ASSERT_EQ(ran.size(), 1u) << "the control failed: leaving the frame did not run its termination handler once";
  EXPECT_EQ(ran.front().text("how").value_or("?"), "unwind") << ran.front().describe();

  ASSERT_TRUE(sys().terminate(victim.process, 1));
  finish(victim);
  EXPECT_TRUE(records(victim, "finally-ran").empty()) << "a termination handler ran after TerminateProcess";
  EXPECT_TRUE(records(victim, "guarded-left").empty()) << "a thread left its frame after TerminateProcess";
}

TEST_F(Handlers, TerminateSelfRunsNone) {
  claim("dll.terminate-no-handlers");
  auto a = run_and_end({"terminate-self", "0"});
  finish(a);
  auto ran = what_ran(a);
  observe_ran(ran);
  EXPECT_FALSE(ran.atexit || ran.static_dtor || ran.tls_dtor) << "a handler ran after TerminateProcess(self)";
}

TEST_F(Handlers, ExitRunsAtexitAndStaticDestructors) {
  claim("dll.terminate-no-handlers");
  auto a = run_and_end({"exit", "0"});
  finish(a);
  auto ran = what_ran(a);
  observe_ran(ran);
  EXPECT_TRUE(ran.atexit) << "exit() did not run the atexit routine";
  EXPECT_TRUE(ran.static_dtor) << "exit() did not run the static destructor";
}

TEST_F(Handlers, ReturnFromMainRunsAtexitAndStaticDestructors) {
  claim("dll.terminate-no-handlers");
  auto a = run_and_end({"return", "0"});
  finish(a);
  auto ran = what_ran(a);
  observe_ran(ran);
  EXPECT_TRUE(ran.atexit) << "returning from main did not run the atexit routine";
  EXPECT_TRUE(ran.static_dtor) << "returning from main did not run the static destructor";
}

TEST_F(Handlers, ExitProcessEndsWithItsCode) {
  claim("exit.code.exitprocess");
  // ExitProcess is not a CRT exit: which handlers it runs depends on the C runtime (an msvcrt
  // DLL runs its atexit table at its own DLL_PROCESS_DETACH). Recorded, not asserted, beyond the
  // process ending with its code.
  auto a = run_and_end({"exit-process", "6"});
  finish(a);
  observe_ran(what_ran(a));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(6));
}

}  // namespace
}  // namespace termsuite
