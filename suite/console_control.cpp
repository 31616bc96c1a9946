// Console control events: Ctrl+C, Ctrl+Break and CTRL_CLOSE_EVENT, handlers and process groups.
// Seed 002: "For console processes, the default console control handler calls ExitProcess when the
// console receives a CTRL+C or CTRL+BREAK signal." Seed 003: the system spawns a new thread in the
// process, whose entry point (KERNELBASE!CtrlRoutine) runs the handlers; GenerateConsoleCtrlEvent
// names a process group.
//
// Every scenario runs in a console the harness creates for itself (own_console): the actors share
// it, so the results do not depend on how the suite was started. The harness's own handler
// returns TRUE, so the events it sends to its whole console (group 0) do not end it.
#include <fmt/format.h>

#include "termsuite/claim_test.hpp"
#include "termsuite/verbs.hpp"

namespace termsuite {
namespace {

using verbs::kCtrlBreakEvent;
using verbs::kCtrlCEvent;
using verbs::kCtrlCloseEvent;
using verbs::kStatusControlCExit;

// How long a process that must not react to an event is watched after the event reached a
// process that does react (the console delivers to every target of one call together).
constexpr milliseconds kQuietWatch{500};

class Ctrl : public ClaimTest {
 protected:
  void SetUp() override {
    ClaimTest::SetUp();
    ASSERT_TRUE(sys().own_console()) << "the harness could not create a console of its own";
  }

  // The ctrl-event records of `a` (its own process only).
  std::vector<Event> ctrl_events(const Actor& a) { return records(a, "ctrl-event", a.pid); }

  static bool flag(const Event& e, std::string_view key) {
    auto it = e.fields.find(std::string(key));
    return it != e.fields.end() && it->is_boolean() && it->get<bool>();
  }

  // True if `a` reports no ctrl-event within kQuietWatch.
  bool no_ctrl_event(const Actor& a) {
    return !sys().await(a, "ctrl-event", Deadline::in(kQuietWatch), a.pid).has_value();
  }
};

TEST_F(Ctrl, DefaultHandlerExitsOnCtrlC) {
  claim("ctrl.default-handler-exits");
  auto a = start({"ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, 0), 0u) << "GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) failed";
  ASSERT_TRUE(ends(a.process, "the actor with only the default handler"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(kStatusControlCExit));
}

TEST_F(Ctrl, DefaultHandlerExitsOnCtrlBreak) {
  claim("ctrl.default-handler-exits");
  // Its own group, so that Ctrl+Break can be aimed at it alone.
  auto a = start(ActorSpec{.verbs = {"ready", "wait-forever"}, .new_group = true});
  ASSERT_TRUE(ready(a));
  ASSERT_EQ(sys().ctrl_event(kCtrlBreakEvent, a.pid), 0u) << "GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT) failed";
  ASSERT_TRUE(ends(a.process, "the actor with only the default handler"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(kStatusControlCExit));
}

TEST_F(Ctrl, HandlerRunsOnANewThread) {
  claim("ctrl.handler-new-thread");
  // A worker exists before the event, so "not the main thread" is not enough: the handler's thread
  // must be one that did not exist before (the actor compares ids and creation times).
  auto a = start({"ctrl-handler", "true", "thread", "[", "wait-forever", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, 0), 0u);
  auto e = expect_event(a, "ctrl-event", kExitBudget, a.pid);
  ASSERT_TRUE(e) << "the handler did not run";
  EXPECT_EQ(e->number("type").value_or(99), kCtrlCEvent);
  EXPECT_NE(e->number("thread").value_or(0), e->number("main_thread").value_or(0))
      << "the handler ran on the main thread";
  EXPECT_FALSE(flag(*e, "known_thread")) << "the handler ran on a thread that existed before the event: "
                                         << e->describe();
  // The handler returned TRUE: the event is handled and the process goes on.
  EXPECT_TRUE(still_running(a.process, kQuietWatch)) << "the process ended although its handler returned TRUE";
}

// Closes the console of an actor started with a console of its own; returns the actor, ended.
class CtrlClose : public Ctrl {
 protected:
  Actor close_console_of(std::vector<std::string> verbs) {
    verbs.insert(verbs.end(), {"console-window", "ready", "wait-forever"});
    auto a = start(ActorSpec{.verbs = std::move(verbs), .new_console = true});
    auto window = expect_event(a, "console-window");
    if (!window) return a;
    const auto hwnd = window->number("hwnd").value_or(0);
    EXPECT_NE(hwnd, 0u) << "the actor has no console window";
    if (!ready(a) || hwnd == 0) return a;
    EXPECT_EQ(sys().post_close(hwnd), 0u) << "PostMessage(WM_CLOSE) to the console window failed";
    // Windows lets a close handler run for a while (5 s) before it ends the process anyway.
    if (ends(a.process, "the actor whose console was closed", milliseconds(15'000))) drained(a);
    return a;
  }

  void expect_close_event(const Actor& a) {
    auto events = ctrl_events(a);
    ASSERT_FALSE(events.empty()) << "no handler ran when the console was closed";
    EXPECT_EQ(events.front().number("type").value_or(99), kCtrlCloseEvent) << events.front().describe();
    EXPECT_FALSE(flag(events.front(), "known_thread")) << events.front().describe();
  }
};

TEST_F(CtrlClose, ProcessEndsAfterAHandlerThatReturnsTrue) {
  claim("ctrl.close-event");
  auto a = close_console_of({"ctrl-handler", "true"});
  expect_close_event(a);
  EXPECT_FALSE(still_running(a.process)) << "the process survived the close of its console";
  observe("exit-code-after-true", hex(sys().exit_code(a.process)));
}

TEST_F(CtrlClose, HandlerThatCallsExitRunsAtexitRoutines) {
  claim("ctrl.close-event");
  // Seed 003's choice.exe: the handler's only action is the C runtime's exit().
  auto a = close_console_of({"atexit", "ctrl-handler", "exit"});
  expect_close_event(a);
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(verbs::kCtrlExitCode));
  EXPECT_FALSE(records(a, "atexit-ran", a.pid).empty()) << "exit() from the handler ran no atexit routine";
}

TEST_F(Ctrl, BreakReachesOnlyTheNamedGroup) {
  claim("ctrl.process-group");
  auto outside = start({"ctrl-handler", "true", "ready", "wait-forever"});  // the harness's group
  auto member = start(ActorSpec{.verbs = {"ctrl-handler", "true", "ready", "wait-forever"}, .new_group = true});
  ASSERT_TRUE(ready(outside));
  ASSERT_TRUE(ready(member));
  ASSERT_EQ(sys().ctrl_event(kCtrlBreakEvent, member.pid), 0u) << "GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT) failed";
  auto e = expect_event(member, "ctrl-event", kExitBudget, member.pid);
  ASSERT_TRUE(e) << "the group's leader got no event";
  EXPECT_EQ(e->number("type").value_or(99), kCtrlBreakEvent);
  EXPECT_TRUE(no_ctrl_event(outside)) << "a process outside the named group got the event";
}

TEST_F(Ctrl, NewProcessGroupStartsWithCtrlCDisabled) {
  claim("ctrl.process-group");
  auto witness = start({"ctrl-handler", "true", "ready", "wait-forever"});
  auto leader = start(ActorSpec{.verbs = {"ready", "wait-forever"}, .new_group = true});  // default handler only
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(leader));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, 0), 0u);
  ASSERT_TRUE(expect_event(witness, "ctrl-event", kExitBudget, witness.pid)) << "Ctrl+C reached nobody";
  EXPECT_TRUE(still_running(leader.process, kQuietWatch))
      << "a CREATE_NEW_PROCESS_GROUP process ended on Ctrl+C: exit code " << hex(sys().exit_code(leader.process));
}

TEST_F(Ctrl, GuiProcessGetsNoConsoleEvent) {
  claim("ctrl.process-group");
  auto witness = start({"ctrl-handler", "true", "ready", "wait-forever"});
  auto gui = start_gui({"ready", "no-window"});  // windows subsystem, default handler only
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(gui));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, 0), 0u);
  ASSERT_TRUE(expect_event(witness, "ctrl-event", kExitBudget, witness.pid)) << "Ctrl+C reached nobody";
  EXPECT_TRUE(still_running(gui.process, kQuietWatch))
      << "the GUI-subsystem process ended on Ctrl+C: exit code " << hex(sys().exit_code(gui.process));
}

}  // namespace
}  // namespace termsuite
