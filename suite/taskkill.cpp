// taskkill, graceful and forced. Seed 003: without /f, taskkill asks: it sends WM_CLOSE to the
// target's top-level windows, or CTRL_CLOSE_EVENT to a console application in taskkill's own
// console and process group, and a program that ignores the request (or has no window) survives;
// /f terminates whatever the target does; /t takes the whole tree.
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

TEST_F(Taskkill, GracefulClosesEveryTopLevelWindow) {
  claim("taskkill.gui-wm-close");
  auto g = start_gui({"window", "polite", "window", "hidden-polite", "ready"});
  ASSERT_TRUE(ready(g));
  auto status = taskkill(g);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0u) << "taskkill without /f failed on a process with windows";
  ASSERT_TRUE(ends(g.process, "the polite GUI actor"));
  EXPECT_EQ(hex(sys().exit_code(g.process)), hex(gui_verbs::kQuitCode)) << "the actor did not exit with its own code";
  ASSERT_TRUE(drained(g));
  EXPECT_EQ(records(g, "wm-close").size(), 2u) << "WM_CLOSE did not reach both top-level windows (one is hidden)";
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

TEST_F(Taskkill, GracefulSendsCloseToAConsoleApp) {
  claim("taskkill.console-close");
  ASSERT_TRUE(sys().own_console()) << "the harness could not create a console of its own";
  // In the harness's console and process group, where taskkill runs too.
  auto a = start({"ctrl-handler", "true", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto status = taskkill(a);
  ASSERT_TRUE(status);
  ASSERT_EQ(*status, 0u) << "taskkill without /f failed on a console application in its own group";
  auto e = expect_event(a, "ctrl-event", kExitBudget, a.pid);
  ASSERT_TRUE(e) << "the console application's handler got no event";
  EXPECT_EQ(e->number("type").value_or(99), verbs::kCtrlCloseEvent) << e->describe();
  EXPECT_TRUE(ends(a.process, "the console application after CTRL_CLOSE_EVENT", milliseconds(15'000)));
}

// /f: no request, no handler, no WM_CLOSE; the exit code is whatever taskkill passes.
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
  observe("console-exit-code", hex(sys().exit_code(console.process)));
  observe("gui-exit-code", hex(sys().exit_code(gui.process)));
}

TEST_F(Taskkill, TreeEndsTheWholeTree) {
  claim("taskkill.tree");
  auto parent = start({"spawn", "[", "spawn", "[", "ready", "wait-forever", "]", "ready", "wait-forever", "]", "ready",
                       "wait-forever"});
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, parent.pid));
  // The child and the grandchild report on the parent's channel.
  auto children = sys().await_n(parent, "spawned", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(children.size(), 2u) << "the tree did not start";
  std::vector<Handle> descendants;
  for (const auto& s : children) {
    const auto pid = static_cast<std::uint32_t>(s.number("child_pid").value_or(0));
    ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, pid));
    auto opened = sys().open_process(pid);
    ASSERT_TRUE(opened.handle) << "OpenProcess(" << pid << ") failed: error " << opened.error;
    descendants.push_back(opened.handle);
  }
  auto status = taskkill(parent, {.force = true, .tree = true});
  ASSERT_TRUE(status);
  ASSERT_EQ(*status, 0u) << "taskkill /f /t failed";
  EXPECT_TRUE(ends(parent.process, "the root of the tree"));
  for (auto h : descendants) EXPECT_TRUE(ends(h, "a descendant after taskkill /t"));
}

}  // namespace
}  // namespace termsuite
