// taskkill, graceful and forced ("Remote Process Termination"). Without /f, taskkill asks: it
// posts WM_CLOSE to the windows its target owns, and a program that ignores the request (or owns
// no window) survives. A console process owns its console's window only if it created that
// console; closing that window sends CTRL_CLOSE_EVENT to every process attached to the console
// (the console host's source, microsoft/terminal). /f terminates whatever the target does, with
// exit code 1; /t takes the whole tree.
//
// taskkill is judged by what happens to its target and by its exit status, never by its
// (localised) text.
#include <fmt/format.h>

#include "termsuite/claim_test.hpp"
#include "termsuite/gui_verbs.hpp"
#include "termsuite/verbs.hpp"

namespace termsuite {
namespace {

constexpr milliseconds kTaskkillBudget{15'000};  // taskkill's own start-up dominates
constexpr milliseconds kQuietWatch{300};          // a survivor is watched this long
constexpr std::uint32_t kForceExitCode = 1;       // what taskkill /f passes to TerminateProcess

class Taskkill : public ClaimTest {
 protected:
  std::optional<std::uint32_t> taskkill(const Actor& a, System::TaskkillOptions o = {}) {
    auto status = sys().taskkill(a.pid, o, Deadline::in(kTaskkillBudget));
    if (!status) note_timeout(fmt::format("taskkill did not finish within {} ms", kTaskkillBudget.count()));
    return status;
  }
  static std::string status_text(std::optional<std::uint32_t> s) { return s ? std::to_string(*s) : "none"; }

  // taskkill /f /pid: true once it reported success and the target ended.
  bool force_ends(const Actor& a, std::string_view what) {
    auto status = taskkill(a, {.force = true});
    if (!status) return false;
    EXPECT_EQ(*status, 0u) << "taskkill /f failed";
    return *status == 0 && ends(a.process, what);
  }
};

TEST_F(Taskkill, GracefulClosesAVisibleWindow) {
  claim("taskkill.gui-wm-close");
  auto g = start_gui({"window", "polite", "ready"});
  ASSERT_TRUE(ready(g));
  auto status = taskkill(g);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0u) << "taskkill without /f failed on a process with a window";
  ASSERT_TRUE(ends(g.process, "the polite GUI actor"));
  EXPECT_EQ(hex(sys().exit_code(g.process)), hex(gui_verbs::kQuitCode)) << "the actor did not exit with its own code";
  ASSERT_TRUE(drained(g));
  auto closes = records(g, "wm-close");
  ASSERT_EQ(closes.size(), 1u) << "the window did not get exactly one WM_CLOSE";
  EXPECT_EQ(closes.front().text("disposition").value_or(""), "closing") << closes.front().describe();
}

// That hidden top-level windows get WM_CLOSE too comes only from Wine's taskkill (it posts to
// every window EnumWindows returns); Windows' taskkill is closed source. Recorded, not asserted:
// the visible window is the control that a WM_CLOSE would be seen.
TEST_F(Taskkill, GracefulCloseOfAHiddenWindowIsObserved) {
  claim("taskkill.gui-wm-close");
  auto g = start_gui({"window", "stubborn", "window", "hidden-stubborn", "ready"});
  ASSERT_TRUE(ready(g));
  auto status = taskkill(g);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0u) << "taskkill without /f failed on a process with a visible window";
  ASSERT_TRUE(expect_event(g, "wm-close")) << "the visible window got no WM_CLOSE";
  EXPECT_TRUE(still_running(g.process, kQuietWatch)) << "the actor that ignores WM_CLOSE ended";
  ASSERT_TRUE(force_ends(g, "the stubborn actor after taskkill /f"));
  ASSERT_TRUE(drained(g));
  std::size_t visible = 0, hidden = 0;
  for (const auto& e : records(g, "wm-close")) (e.text("kind").value_or("") == "hidden-stubborn" ? hidden : visible)++;
  EXPECT_EQ(visible, 1u) << "the visible window did not get exactly one WM_CLOSE";
  observe("hidden-window-wm-close", std::to_string(hidden));
}

TEST_F(Taskkill, StubbornWindowSurvivesUntilForced) {
  claim("taskkill.gui-ignores-close");
  auto g = start_gui({"window", "stubborn", "ready"});
  ASSERT_TRUE(ready(g));
  auto status = taskkill(g);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0u) << "taskkill without /f failed on a process with a window";
  auto close = expect_event(g, "wm-close");
  ASSERT_TRUE(close) << "the stubborn window got no WM_CLOSE";
  EXPECT_EQ(close->text("disposition").value_or(""), "ignored");
  EXPECT_TRUE(still_running(g.process, kQuietWatch)) << "the actor that ignores WM_CLOSE ended";

  EXPECT_TRUE(force_ends(g, "the stubborn actor after taskkill /f"));
}

TEST_F(Taskkill, WindowlessProcessNeedsForce) {
  claim("taskkill.windowless-needs-force");
  auto g = start_gui({"ready", "no-window"});
  ASSERT_TRUE(ready(g));
  auto status = taskkill(g);
  ASSERT_TRUE(status);
  observe("graceful-status", status_text(status));
  EXPECT_NE(*status, 0u) << "taskkill without /f reported success on a process with no window";
  EXPECT_TRUE(still_running(g.process, kQuietWatch)) << "the windowless actor ended without /f";

  EXPECT_TRUE(force_ends(g, "the windowless actor after taskkill /f"));
}

// The target created its console (CREATE_NEW_CONSOLE), so it owns the console's window: the
// graceful taskkill closes that window, and the console host sends CTRL_CLOSE_EVENT to the
// process (every process attached; here it is the only one). Its handler returns TRUE, and after
// CTRL_CLOSE_EVENT the process ends all the same.
TEST_F(Taskkill, GracefulClosesTheConsoleItsTargetCreated) {
  claim("taskkill.console-close");
  auto a = start_new_console({"ctrl-handler", "true", "console-window", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  if (skip_under_pseudo_console(a)) return;
  // How taskkill finds it: the console host reports the console's creator as its window's owner.
  auto window = expect_event(a, "console-window");
  ASSERT_TRUE(window);
  EXPECT_EQ(sys().window_process(window->number("hwnd").value_or(0)), a.pid)
      << "GetWindowThreadProcessId does not name the console's creator as the owner of its window";
  auto status = taskkill(a);
  ASSERT_TRUE(status);
  ASSERT_EQ(*status, 0u) << "taskkill without /f failed on the process that created its console";
  ASSERT_TRUE(ends(a.process, "the console's creator after its console was closed", milliseconds(15'000)));
  ASSERT_TRUE(drained(a));
  auto events = records(a, "ctrl-event", a.pid);
  ASSERT_EQ(events.size(), 1u) << "not exactly one control event reached the target's handler";
  EXPECT_EQ(events.front().number("type").value_or(99), verbs::kCtrlCloseEvent) << events.front().describe();
  EXPECT_EQ(events.front().flag("known_thread"), false)
      << "the handler ran on a thread that existed before the event: " << events.front().describe();
}

// In the harness's console (which the harness created) the target owns no window: there is
// nothing to close, taskkill says it can only end the process with /f, and the process lives.
// The control: the same handler does report the Ctrl+C sent afterwards, so a CTRL_CLOSE_EVENT
// would have been seen.
TEST_F(Taskkill, GracefulFailsForAConsoleItsTargetDidNotCreate) {
  claim("taskkill.console-close");
  ASSERT_TRUE(sys().own_console()) << "the harness could not create a console of its own";
  auto a = start({"ctrl-handler", "true", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto status = taskkill(a);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0u) << "taskkill without /f reported success on a process that owns no window";
  EXPECT_TRUE(still_running(a.process, kQuietWatch)) << "the console process ended: exit code "
                                                     << hex(sys().exit_code(a.process));
  ASSERT_EQ(sys().ctrl_event(verbs::kCtrlCEvent, 0), 0u) << "GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) failed";
  auto e = expect_event(a, "ctrl-event", kExitBudget, a.pid);
  ASSERT_TRUE(e) << "the control failed: the handler did not report Ctrl+C either";
  EXPECT_EQ(e->number("type").value_or(99), verbs::kCtrlCEvent)
      << "the first control event was not the Ctrl+C: " << e->describe();
}

// /f: no request, no handler, no WM_CLOSE; taskkill passes exit code 1 to TerminateProcess (as
// Task Manager does: measurements in python/cpython issue 76044).
TEST_F(Taskkill, ForceEndsWhateverTheTargetDoes) {
  claim("taskkill.force");
  ASSERT_TRUE(sys().own_console()) << "the harness could not create a console of its own";
  auto console = start({"ignore-ctrl-c", "ctrl-handler", "hold", "ready", "wait-forever"});
  auto gui = start_gui({"window", "stubborn", "window", "hidden-stubborn", "ready"});
  ASSERT_TRUE(ready(console));
  ASSERT_TRUE(ready(gui));
  for (const Actor* a : {&console, &gui}) {
    ASSERT_TRUE(force_ends(*a, "the target of taskkill /f"));
    ASSERT_TRUE(drained(*a));
  }
  EXPECT_TRUE(records(console, "ctrl-event").empty()) << "taskkill /f ran the console handler";
  EXPECT_TRUE(records(gui, "wm-close").empty()) << "taskkill /f sent WM_CLOSE";
  EXPECT_EQ(hex(sys().exit_code(console.process)), hex(kForceExitCode)) << "the console target's exit code";
  EXPECT_EQ(hex(sys().exit_code(gui.process)), hex(kForceExitCode)) << "the GUI target's exit code";
}

TEST_F(Taskkill, TreeEndsTheWholeTree) {
  claim("taskkill.tree");
  auto parent = start({"spawn", "[", "spawn", "[", "ready", "wait-forever", "]", "ready", "wait-forever", "]", "ready",
                       "wait-forever"});
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, parent.pid));
  // The child and the grandchild report on the parent's channel.
  auto descendants = open_descendants(parent, 2);
  ASSERT_EQ(descendants.size(), 2u) << "the tree did not start";
  auto status = taskkill(parent, {.force = true, .tree = true});
  ASSERT_TRUE(status);
  ASSERT_EQ(*status, 0u) << "taskkill /f /t failed";
  EXPECT_TRUE(ends(parent.process, "the root of the tree"));
  for (auto h : descendants) EXPECT_TRUE(ends(h, "a descendant after taskkill /t"));
}

}  // namespace
}  // namespace termsuite
