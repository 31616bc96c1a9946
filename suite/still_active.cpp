// GetExitCodeProcess while a process runs, and the one exit code that looks like running.
// "Terminating a Process": "While a process is executing, its termination status is STILL_ACTIVE."
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class StillActive : public ClaimTest {};

TEST_F(StillActive, WhileRunning) {
  claim("exit.still-active");
  auto a = start({"ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(kStillActive));
  EXPECT_TRUE(still_running(a.process));
  // ...and it changes from STILL_ACTIVE to the exit code when the process ends.
  ASSERT_TRUE(sys().terminate(a.process, 5));
  ASSERT_TRUE(ends(a.process, "the terminated process"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(5));
}

TEST_F(StillActive, ExitCode259OnlyTheWaitTells) {
  claim("exit.still-active-ambiguity");
  auto running = start({"ready", "wait-forever"});
  auto ended = start({"exit-process", "259"});
  ASSERT_TRUE(ready(running));
  ASSERT_TRUE(ends(ended.process, "the process that exits with 259"));
  // GetExitCodeProcess cannot tell them apart...
  EXPECT_EQ(hex(sys().exit_code(running.process)), hex(kStillActive));
  EXPECT_EQ(hex(sys().exit_code(ended.process)), hex(kStillActive));
  // ...the wait can.
  EXPECT_EQ(to_string(sys().wait(ended.process, Deadline::now())), "signaled");
  EXPECT_EQ(to_string(sys().wait(running.process, Deadline::now())), "timeout");
}

}  // namespace
}  // namespace termsuite
