// Hooks. "Terminating a Process": "Terminating a process does not generate notifications for
// WH_CBT hook procedures." The actor hooks its own thread (WH_CBT); closing its window the polite
// way calls the hook (HCBT_DESTROYWND), which shows the hook works; TerminateProcess destroys the
// same kind of window without a call. The harness sees from outside that the window is gone
// (IsWindow), so "no call" is not merely "no window destroyed". What no test can tell apart: a
// thread hook runs on the hooked thread, which TerminateProcess has ended; a platform that would
// notify the hook could not run it there either.
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Hooks : public ClaimTest {
 protected:
  Actor hooked_window(std::uint64_t* hwnd) {
    auto a = start_gui({"cbt-hook", "window", "polite", "ready"});
    auto hooked = expect_event(a, "cbt-hooked");
    EXPECT_TRUE(hooked) << "SetWindowsHookEx(WH_CBT) failed";
    auto created = expect_event(a, "window-created");
    if (created) *hwnd = created->number("hwnd").value_or(0);
    EXPECT_TRUE(ready(a));
    return a;
  }
  std::size_t destroy_notifications(const Actor& a) {
    std::size_t n = 0;
    for (const auto& e : records(a, "cbt", a.pid))
      if (e.text("name").value_or("") == "destroy-window") ++n;
    return n;
  }
};

TEST_F(Hooks, ClosingAWindowCallsTheCbtHook) {
  claim("hooks.no-wh-cbt");
  std::uint64_t hwnd = 0;
  auto a = hooked_window(&hwnd);
  ASSERT_NE(hwnd, 0u);
  ASSERT_EQ(sys().post_close(hwnd), 0u);
  ASSERT_TRUE(ends(a.process, "the polite actor"));
  ASSERT_TRUE(drained(a));
  EXPECT_GE(destroy_notifications(a), 1u) << "DestroyWindow did not call the WH_CBT hook: the control failed";
  EXPECT_FALSE(sys().window_class(hwnd)) << "the closed window still exists";
}

TEST_F(Hooks, TerminationCallsNoCbtHook) {
  claim("hooks.no-wh-cbt");
  std::uint64_t hwnd = 0;
  auto a = hooked_window(&hwnd);
  ASSERT_NE(hwnd, 0u);
  ASSERT_TRUE(sys().window_class(hwnd)) << "the harness cannot see the actor's window";
  ASSERT_TRUE(sys().terminate(a.process, 1));
  ASSERT_TRUE(ends(a.process, "the terminated actor"));
  ASSERT_TRUE(drained(a));
  EXPECT_EQ(destroy_notifications(a), 0u) << "TerminateProcess called the WH_CBT hook";
  EXPECT_TRUE(records(a, "wm-close", a.pid).empty()) << "TerminateProcess sent WM_CLOSE";
  EXPECT_TRUE(eventually(milliseconds(5'000), [&] { return !sys().window_class(hwnd); }))
      << "the terminated process's window was not destroyed";
}

}  // namespace
}  // namespace termsuite
