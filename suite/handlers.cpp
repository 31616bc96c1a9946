// Termination handlers: atexit routines, static and thread-local destructors. Seed 002: "If a
// process is terminated by TerminateProcess, all threads of the process are terminated
// immediately with no chance to run additional code. This means that the thread does not execute
// code in termination handler blocks." exit() and returning from main run them (the CRT's
// documented behaviour); what ExitProcess runs is recorded, not asserted.
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
