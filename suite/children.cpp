// Children are not terminated with their parent; a kill-on-close job is the remedy.
// "Terminating a Process": "When the system is terminating a process, it does not terminate any
// child processes that the process has created."
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Children : public ClaimTest {};

TEST_F(Children, SurviveTheirParent) {
  claim("children.survive");
  // The child waits for its parent to die, then shows it is still running code.
  auto parent = start({"spawn", "[", "ready", "wait-parent", "mark", "orphaned", "wait-forever", "]", "ready",
                       "wait-forever"});
  auto spawned = expect_event(parent, "spawned");
  ASSERT_TRUE(spawned);
  const auto child_pid = static_cast<std::uint32_t>(spawned->number("child_pid").value_or(0));
  ASSERT_TRUE(expect_event(parent, "waiting", kStartBudget, child_pid)) << "the child never started waiting";
  auto child = sys().open_process(child_pid);
  ASSERT_TRUE(child.handle) << "OpenProcess(child) failed: error " << child.error;
  EXPECT_EQ(sys().parent_pid(child_pid).value_or(0), parent.pid);

  ASSERT_TRUE(sys().terminate(parent.process, 1));
  ASSERT_TRUE(ends(parent.process, "the terminated parent"));
  auto orphaned = expect_event(parent, "mark", kExitBudget, child_pid);
  ASSERT_TRUE(orphaned) << "the child did not run after its parent ended";
  EXPECT_TRUE(still_running(child.handle)) << "the child ended with its parent";
  EXPECT_EQ(hex(sys().exit_code(child.handle)), hex(kStillActive));
  // Orphans are not re-parented: the recorded parent id names the dead parent (Wine's
  // test_Toolhelp checks the same on Windows).
  EXPECT_EQ(sys().parent_pid(child_pid).value_or(0), parent.pid);
}

// The same when the parent ends itself (ExitProcess), and for a grandchild.
TEST_F(Children, SurviveAParentThatExits) {
  claim("children.survive");
  auto go = sys().create_event("parent-exits");
  auto parent = start({"spawn", "[", "spawn", "[", "ready", "wait-forever", "]", "ready", "wait-forever", "]",
                       "wait-event", go.name, "exit-process", "4"});
  auto descendants = open_descendants(parent, 2);
  ASSERT_EQ(descendants.size(), 2u) << "the child and the grandchild did not both start";
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(parent.process, "the parent that calls ExitProcess"));
  EXPECT_EQ(hex(sys().exit_code(parent.process)), hex(4));
  for (auto h : descendants) {
    EXPECT_TRUE(still_running(h, milliseconds(200))) << "a descendant ended with the parent that exited";
    EXPECT_EQ(hex(sys().exit_code(h)), hex(kStillActive));
  }
}

TEST_F(Children, JobKillOnClose) {
  claim("children.job-kill-on-close");
  auto job = sys().create_job(JobOptions{.kill_on_close = true});
  auto parent = start({"spawn", "[", "ready", "wait-forever", "]", "ready", "wait-forever"}, job);
  auto spawned = expect_event(parent, "spawned");
  ASSERT_TRUE(spawned);
  const auto child_pid = static_cast<std::uint32_t>(spawned->number("child_pid").value_or(0));
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, child_pid));
  auto child = sys().open_process(child_pid);
  ASSERT_TRUE(child.handle) << "OpenProcess(child) failed: error " << child.error;
  ASSERT_TRUE(still_running(parent.process));

  sys().close(job);  // the last handle to the job
  EXPECT_TRUE(ends(parent.process, "the parent in the closed job"));
  EXPECT_TRUE(ends(child.handle, "the child in the closed job"));
}

}  // namespace
}  // namespace termsuite
