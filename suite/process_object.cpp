// The process object becomes signaled and releases every waiter. "Terminating a Process": "When a process
// terminates, the state of the process object becomes signaled, releasing any threads that had
// been waiting for the process to terminate."
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class ProcessObject : public ClaimTest {};

TEST_F(ProcessObject, ReleasesEveryWaiter) {
  claim("signal.process-object");
  auto target = start({"ready", "wait-forever"});
  ASSERT_TRUE(ready(target));
  // A second process waits on the target too.
  auto waiter = start({"wait-pid", std::to_string(target.pid)});
  ASSERT_TRUE(expect_event(waiter, "waiting"));
  // Three threads of the harness wait on it.
  auto group = sys().wait_async(target.process, 3, Deadline::in(kExitBudget));
  ASSERT_TRUE(still_running(target.process, milliseconds(50)));
  for (const auto& e : sys().events(waiter))
    ASSERT_FALSE(e.is("released")) << "the waiting process was released before the target ended";

  ASSERT_TRUE(sys().terminate(target.process, 3));
  for (auto r : sys().join(group)) EXPECT_EQ(to_string(r), "signaled");
  auto released = expect_event(waiter, "released", kExitBudget);
  ASSERT_TRUE(released) << "the waiting process was not released";
  EXPECT_EQ(released->text("result").value_or("?"), "signaled");
  EXPECT_EQ(released->number("target_pid").value_or(0), target.pid);
  EXPECT_TRUE(ends(waiter.process, "the released waiter"));
  // It stays signaled: a wait that comes later, from the harness or from a process started after
  // the end, returns at once.
  EXPECT_EQ(to_string(sys().wait(target.process, Deadline::now())), "signaled") << "the process object was reset";
  auto late = start({"wait-pid", std::to_string(target.pid)});
  auto late_released = expect_event(late, "released", kExitBudget);
  ASSERT_TRUE(late_released) << "a process that waited after the end was not released";
  EXPECT_EQ(late_released->text("result").value_or("?"), "signaled") << late_released->describe();
}

}  // namespace
}  // namespace termsuite
