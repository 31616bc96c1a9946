// TerminateProcess as its own page states it ("TerminateProcess function", Microsoft Learn): the
// access right it needs, its failure on a process that has already ended, that it does not return
// to a caller that terminates its own process, and the exit code of every thread it ends.
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Terminate : public ClaimTest {};

TEST_F(Terminate, EndedProcessIsAccessDenied) {
  claim("terminate.ended-access-denied");
  auto a = start({"exit-process", "3"});
  ASSERT_TRUE(ends(a.process, "the actor"));
  EXPECT_EQ(sys().terminate_status(a.process, 9), kErrorAccessDenied)
      << "TerminateProcess on a process that has ended, through a handle still open (ERROR_ACCESS_DENIED is 5)";
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(3)) << "the call changed the exit code of the ended process";
}

TEST_F(Terminate, HandleWithoutTerminateRightCannotTerminate) {
  claim("terminate.needs-terminate-right");
  auto a = start({"ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto limited = sys().open_process_without_terminate(a.pid);
  ASSERT_TRUE(limited.handle) << "OpenProcess without PROCESS_TERMINATE failed: error " << limited.error;
  EXPECT_EQ(sys().terminate_status(limited.handle, 9), kErrorAccessDenied)
      << "TerminateProcess through a handle without PROCESS_TERMINATE (ERROR_ACCESS_DENIED is 5)";
  EXPECT_TRUE(still_running(a.process)) << "the process ended after the refused call";
  // Control: the process can be terminated, through a handle that has the right; the code shows
  // that the refused call did not end it.
  EXPECT_EQ(sys().terminate_status(a.process, 7), 0u);
  ASSERT_TRUE(ends(a.process, "the actor terminated through its full handle"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(7));
}

TEST_F(Terminate, SelfTerminationDoesNotReturn) {
  claim("terminate.self-does-not-return");
  auto a = start({"ready", "terminate-self", "4", "mark", "returned"});
  ASSERT_TRUE(ends(a.process, "the actor"));
  ASSERT_TRUE(drained(a));
  // Control: what the actor wrote just before the call is there.
  EXPECT_EQ(records(a, "about-to-exit").size(), 1u) << "the record written before TerminateProcess is missing";
  EXPECT_TRUE(records(a, "error").empty()) << "TerminateProcess on its own process returned, failing";
  EXPECT_TRUE(records(a, "mark").empty()) << "TerminateProcess on its own process returned to its caller";
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(4));
}

TEST_F(Terminate, EveryThreadEndsWithTheCode) {
  claim("terminate.threads-get-the-code");
  // A worker terminates its own process: the main thread and the other worker, both blocked, and
  // the calling worker itself end with the code it passed.
  auto go = sys().create_event("go-terminate");
  auto a = start({"thread", "[", "wait-forever", "]", "thread", "[", "wait-event", go.name, "terminate-self", "0x2A",
                  "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto started = sys().await_n(a, "thread-started", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 2u);
  std::vector<Handle> threads{a.thread};
  for (const auto& e : started) {
    auto t = sys().open_thread(static_cast<std::uint32_t>(e.number("thread").value_or(0)));
    ASSERT_TRUE(t.handle) << "OpenThread failed: error " << t.error;
    threads.push_back(t.handle);
  }
  ASSERT_TRUE(expect_event(a, "waiting"));
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(a.process, "the process a worker terminated"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(0x2A));
  for (std::size_t i = 0; i < threads.size(); ++i) {
    ASSERT_TRUE(ends(threads[i], "a thread of the terminated process"));
    EXPECT_EQ(hex(sys().thread_exit_code(threads[i])), hex(0x2A)) << "thread #" << i << " (0: main, 2: the caller)";
  }
}

}  // namespace
}  // namespace termsuite
