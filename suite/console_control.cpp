// Console control events: Ctrl+C, Ctrl+Break and CTRL_CLOSE_EVENT, handlers and process groups.
// Seed 002: "For console processes, the default console control handler calls ExitProcess when the
// console receives a CTRL+C or CTRL+BREAK signal." Seed 003: the system spawns a new thread in the
// process, whose entry point (KERNELBASE!CtrlRoutine) runs the handlers; GenerateConsoleCtrlEvent
// names a process group.
//
// Every scenario runs in a console the harness creates for itself (own_console): the actors share
// it, so the results do not depend on how the suite was started. The harness's own handler
// returns TRUE, so the events it sends to its whole console (group 0) do not end it.
#include <algorithm>

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

  // A console actor in the harness's console and group whose handler returns TRUE: its record
  // shows that an event was delivered, and when.
  Actor witness() { return start({"ctrl-handler", "true", "ready", "wait-forever"}); }

  // Ctrl+C to the harness's whole console (group 0); true once `witness` has reported it.
  bool ctrl_c_reached(const Actor& witness) {
    const auto error = sys().ctrl_event(kCtrlCEvent, 0);
    EXPECT_EQ(error, 0u) << "GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) failed";
    if (error != 0) return false;
    if (expect_event(witness, "ctrl-event", kExitBudget, witness.pid)) return true;
    ADD_FAILURE() << "Ctrl+C reached nobody: the witness got no event";
    return false;
  }

  // True if `a`'s process (or its descendant `pid`) reports no ctrl-event within kQuietWatch.
  bool no_ctrl_event(const Actor& a, std::uint32_t pid = 0) {
    return !sys().await(a, "ctrl-event", Deadline::in(kQuietWatch), pid ? pid : a.pid).has_value();
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
  auto a = start_new_group({"ready", "wait-forever"});
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

TEST_F(Ctrl, HandlersRunLastRegisteredFirstOnOneThread) {
  claim("ctrl.handler-new-thread");
  // Registered first: the routine that returns TRUE; last: the one that returns FALSE. The last
  // registered is called first, returns FALSE, and the next one in the list runs, on the same
  // thread (one thread per event, not one per handler).
  auto a = start({"ctrl-handler", "true", "ctrl-handler", "false", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, 0), 0u);
  auto events = sys().await_n(a, "ctrl-event", 2, Deadline::in(kExitBudget));
  std::sort(events.begin(), events.end(), [](const Event& x, const Event& y) { return x.seq < y.seq; });
  if (events.empty()) {
    note_timeout(fmt::format("no handler ran within {} ms", kExitBudget.count()));
    return;
  }
  EXPECT_EQ(events[0].text("mode").value_or("?"), "false")
      << "the handler registered first was called first: " << events[0].describe();
  if (events.size() < 2) {
    // The first call returned FALSE, so the documents promise the next handler; if the first
    // call was the one that returns TRUE, the order was wrong, reported above.
    if (events[0].text("mode") == "false")
      note_timeout(fmt::format("the next handler did not run within {} ms after the first returned FALSE",
                               kExitBudget.count()));
    return;
  }
  EXPECT_EQ(events[1].text("mode").value_or("?"), "true") << events[1].describe();
  for (const auto& e : events) EXPECT_EQ(e.number("type").value_or(99), kCtrlCEvent) << e.describe();
  EXPECT_EQ(events[0].number("thread").value_or(0), events[1].number("thread").value_or(1))
      << "the two handlers of one event ran on different threads: " << events[0].describe() << " / "
      << events[1].describe();
  EXPECT_FALSE(flag(events[0], "known_thread")) << events[0].describe();
  // The second handler returned TRUE: the default handler is not reached.
  EXPECT_TRUE(still_running(a.process, kQuietWatch)) << "the process ended although a handler returned TRUE";
}

// Closes the console of an actor started with a console of its own; returns the actor, ended.
class CtrlClose : public Ctrl {
 protected:
  Actor close_console_of(std::vector<std::string> verbs) {
    verbs.insert(verbs.end(), {"console-window", "ready", "wait-forever"});
    auto a = start_new_console(std::move(verbs));
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

TEST_F(CtrlClose, HoldingHandlerIsCutShort) {
  claim("ctrl.close-event");
  // The handler would hold for 20 s (kCtrlHoldMs). A CTRL_CLOSE_EVENT handler gets 5 s
  // (SPI_GETHUNGAPPTIMEOUT), then the system ends the process: it ends within the 15 s
  // close_console_of waits, and the handler never returns.
  auto a = close_console_of({"ctrl-handler", "hold"});
  ASSERT_FALSE(still_running(a.process)) << "the process outlived the 15 s it was given after its console closed";
  expect_close_event(a);
  EXPECT_FALSE(records(a, "ctrl-handler-holding", a.pid).empty()) << "the handler never started to hold";
  auto returned = records(a, "ctrl-handler-returning", a.pid);
  EXPECT_TRUE(returned.empty()) << "the handler ran to its end: " << returned.front().describe();
  observe("exit-code-after-close", hex(sys().exit_code(a.process)));
}

TEST_F(Ctrl, BreakReachesOnlyTheNamedGroup) {
  claim("ctrl.process-group");
  auto outside = start({"ctrl-handler", "true", "ready", "wait-forever"});  // the harness's group
  auto member = start_new_group({"ctrl-handler", "true", "ready", "wait-forever"});
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
  auto witness = this->witness();
  auto leader = start_new_group({"ready", "wait-forever"});  // default handler only
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(leader));
  ASSERT_TRUE(ctrl_c_reached(witness));
  EXPECT_TRUE(still_running(leader.process, kQuietWatch))
      << "a CREATE_NEW_PROCESS_GROUP process ended on Ctrl+C: exit code " << hex(sys().exit_code(leader.process));
}

TEST_F(Ctrl, GuiProcessGetsNoConsoleEvent) {
  claim("ctrl.process-group");
  auto witness = this->witness();
  auto gui = start_gui({"ready", "no-window"});  // windows subsystem, default handler only
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(gui));
  ASSERT_TRUE(ctrl_c_reached(witness));
  EXPECT_TRUE(still_running(gui.process, kQuietWatch))
      << "the GUI-subsystem process ended on Ctrl+C: exit code " << hex(sys().exit_code(gui.process));
}

TEST_F(Ctrl, IgnoreFlagIsInheritedBySpawnedChildren) {
  claim("ctrl.process-group");
  auto witness = this->witness();
  // The parent ignores Ctrl+C, then starts a child in the same group and console (a plain spawn).
  auto parent = start({"ignore-ctrl-c", "spawn", "[", "ctrl-handler", "true", "ready", "wait-forever", "]", "ready",
                       "wait-forever"});
  auto spawned = expect_event(parent, "spawned", kStartBudget, parent.pid);
  ASSERT_TRUE(spawned);
  const auto child_pid = static_cast<std::uint32_t>(spawned->number("child_pid").value_or(0));
  ASSERT_NE(child_pid, 0u) << spawned->describe();
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, parent.pid));
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, child_pid)) << "the child never got ready";
  ASSERT_TRUE(ctrl_c_reached(witness));
  // The child's handler would return TRUE; with Ctrl+C ignored no handler runs at all.
  EXPECT_TRUE(no_ctrl_event(parent, child_pid))
      << "a child of a process that ignores Ctrl+C got Ctrl+C: it did not inherit the ignore flag";
  EXPECT_TRUE(still_running(parent.process)) << "the parent ended although it ignores Ctrl+C: exit code "
                                             << hex(sys().exit_code(parent.process));
}

TEST_F(Ctrl, NewConsoleGetsNoEvent) {
  claim("ctrl.process-group");
  auto witness = this->witness();  // the harness's console
  // The harness's process group, but a console of its own.
  auto other = start_new_console({"ctrl-handler", "true", "ready", "wait-forever"});
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(other));
  ASSERT_TRUE(ctrl_c_reached(witness));
  EXPECT_TRUE(no_ctrl_event(other)) << "a CREATE_NEW_CONSOLE process got the Ctrl+C of its creator's console";
}

}  // namespace
}  // namespace termsuite
