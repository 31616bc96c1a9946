// What no live run can show: a driver slow to cancel I/O holds a dying thread, and so its
// process, hostage. Raymond Chen's "Why do some process stay in Task Manager after they've been killed?": "During that time, the driver holds that thread (and therefore the
// process that the thread belongs to) hostage." Runs on the simulator only.
#include "termsuite/claim_test.hpp"
#include "termsuite/sim/sim_system.hpp"

namespace termsuite {
namespace {

class SimOnly : public ClaimTest {
 protected:
  sim::SimSystem& sim() { return dynamic_cast<sim::SimSystem&>(sys()); }
};

TEST_F(SimOnly, DriverHoldsTheDyingThreadHostage) {
  claim("corpse.driver-hostage");
  sim().set_driver_cancel_delay(milliseconds(2'000));
  auto a = start({"thread", "[", "read-device", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto io = expect_event(a, "io-pending");
  ASSERT_TRUE(io);
  auto reader = sys().open_thread(io->tid);
  ASSERT_TRUE(reader.handle);

  ASSERT_TRUE(sys().terminate(a.process, 1));
  // While the driver cancels, the thread and so the process stay: not signaled.
  EXPECT_TRUE(still_running(reader.handle, milliseconds(1'500))) << "the thread went before its I/O was cancelled";
  EXPECT_TRUE(still_running(a.process)) << "the process object was signaled while a thread was held";
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(kStillActive));
  // Once the driver lets go, both end.
  ASSERT_TRUE(ends(reader.handle, "the thread once the driver let go", milliseconds(2'000)));
  ASSERT_TRUE(ends(a.process, "the process once its last thread went"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(1));
}

}  // namespace
}  // namespace termsuite
