// Console control events: Ctrl+C, Ctrl+Break and CTRL_CLOSE_EVENT, handlers and process groups.
// "Terminating a Process": "For console processes, the default console control handler calls
// ExitProcess when the console receives a CTRL+C or CTRL+BREAK signal." "Remote Process
// Termination": the system spawns a new thread in the process, whose entry point
// (KERNELBASE!CtrlRoutine) runs the handlers; GenerateConsoleCtrlEvent names a process group.
//
// Every test that asserts an event did not reach a process also shows that it would have been
// seen: the same process, or a twin differing only in the condition under test, does report it.
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
// How long a process that must react to an event is given after it reached one that did.
constexpr milliseconds kDeliveryWatch{2'000};

class Ctrl : public ClaimTest {
 protected:
  void SetUp() override {
    ClaimTest::SetUp();
    ASSERT_TRUE(sys().own_console()) << "the harness could not create a console of its own";
  }

  // The ctrl-event records of `a` (its own process only).
  std::vector<Event> ctrl_events(const Actor& a) { return records(a, "ctrl-event", a.pid); }

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
  EXPECT_EQ(e->flag("known_thread"), false) << "the handler ran on a thread that existed before the event: "
                                                 << e->describe();
  // The handler returned TRUE: the event is handled and the process goes on.
  EXPECT_TRUE(still_running(a.process, kQuietWatch)) << "the process ended although its handler returned TRUE";
}

// The other order: the last registered returns TRUE, so the chain ends there and the handler
// registered first is never called. The control, in the same console and for the same event: a
// twin with the two handlers registered the other way round reports both calls.
TEST_F(Ctrl, AHandlerThatReturnsTrueEndsTheChain) {
  claim("ctrl.handler-new-thread");
  auto a = start({"ctrl-handler", "false", "ctrl-handler", "true", "ready", "wait-forever"});
  auto twin = start({"ctrl-handler", "true", "ctrl-handler", "false", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(ready(twin));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, 0), 0u);
  auto twin_events = sys().await_n(twin, "ctrl-event", 2, Deadline::in(kExitBudget));
  ASSERT_EQ(twin_events.size(), 2u) << "the control failed: the twin's two handlers did not both report";
  auto first = expect_event(a, "ctrl-event", kExitBudget, a.pid);
  ASSERT_TRUE(first) << "no handler ran";
  EXPECT_EQ(first->text("mode").value_or("?"), "true")
      << "the handler registered last was not called first: " << first->describe();
  EXPECT_TRUE(still_running(a.process, kQuietWatch)) << "the process ended although a handler returned TRUE";
  const auto calls = ctrl_events(a);
  EXPECT_EQ(calls.size(), 1u) << "a handler ran after one had returned TRUE: " << calls.back().describe();
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
  EXPECT_EQ(events[0].flag("known_thread"), false) << events[0].describe();
  // The second handler returned TRUE: the default handler is not reached.
  EXPECT_TRUE(still_running(a.process, kQuietWatch)) << "the process ended although a handler returned TRUE";
}

// Closes the console of an actor started with a console of its own; returns the actor, ended, or
// nullopt when the test was skipped (a Windows Terminal console ignores WM_CLOSE).
class CtrlClose : public Ctrl {
 protected:
  std::optional<Actor> close_console_of(std::vector<std::string> verbs) {
    verbs.insert(verbs.end(), {"console-window", "ready", "wait-forever"});
    auto a = start_new_console(std::move(verbs));
    auto window = expect_event(a, "console-window");
    if (!window) return a;
    const auto hwnd = window->number("hwnd").value_or(0);
    EXPECT_NE(hwnd, 0u) << "the actor has no console window";
    if (!ready(a) || hwnd == 0) return a;
    if (skip_under_pseudo_console(a)) return std::nullopt;
    EXPECT_EQ(sys().post_close(hwnd), 0u) << "PostMessage(WM_CLOSE) to the console window failed";
    // Windows lets a close handler run for a while (5 s) before it ends the process anyway.
    if (ends(a.process, "the actor whose console was closed", milliseconds(15'000))) drained(a);
    return a;
  }

  void expect_close_event(const Actor& a) {
    auto events = ctrl_events(a);
    ASSERT_FALSE(events.empty()) << "no handler ran when the console was closed";
    EXPECT_EQ(events.front().number("type").value_or(99), kCtrlCloseEvent) << events.front().describe();
    EXPECT_EQ(events.front().flag("known_thread"), false) << events.front().describe();
  }
};

TEST_F(CtrlClose, ProcessEndsAfterAHandlerThatReturnsTrue) {
  claim("ctrl.close-event");
  auto a = close_console_of({"ctrl-handler", "true"});
  if (!a) return;
  expect_close_event(*a);
  EXPECT_FALSE(still_running(a->process)) << "the process survived the close of its console";
  observe("exit-code-after-true", hex(sys().exit_code(a->process)));
}

TEST_F(CtrlClose, HandlerThatCallsExitRunsAtexitRoutines) {
  claim("ctrl.close-event");
  // "Remote Process Termination"'s choice.exe: the handler's only action is the C runtime's exit().
  auto a = close_console_of({"atexit", "ctrl-handler", "exit"});
  if (!a) return;
  expect_close_event(*a);
  EXPECT_EQ(hex(sys().exit_code(a->process)), hex(verbs::kCtrlExitCode));
  EXPECT_FALSE(records(*a, "atexit-ran", a->pid).empty()) << "exit() from the handler ran no atexit routine";
}

TEST_F(CtrlClose, HoldingHandlerIsCutShort) {
  claim("ctrl.close-event");
  // The handler would hold for 20 s (kCtrlHoldMs). A CTRL_CLOSE_EVENT handler gets 5 s
  // (SPI_GETHUNGAPPTIMEOUT), then the system ends the process: it ends within the 15 s
  // close_console_of waits, and the handler never returns.
  auto a = close_console_of({"ctrl-handler", "hold"});
  if (!a) return;
  ASSERT_FALSE(still_running(a->process)) << "the process outlived the 15 s it was given after its console closed";
  expect_close_event(*a);
  EXPECT_FALSE(records(*a, "ctrl-handler-holding", a->pid).empty()) << "the handler never started to hold";
  auto returned = records(*a, "ctrl-handler-returning", a->pid);
  EXPECT_TRUE(returned.empty()) << "the handler ran to its end: " << returned.front().describe();
  observe("exit-code-after-close", hex(sys().exit_code(a->process)));
}

// The group is the leader and every process it starts (not in a new group): all of them get the
// event, and nobody else.
TEST_F(Ctrl, BreakReachesOnlyTheNamedGroup) {
  claim("ctrl.process-group");
  auto outside = start({"ctrl-handler", "true", "ready", "wait-forever"});  // the harness's group
  auto leader = start_new_group(
      {"ctrl-handler", "true", "spawn", "[", "ctrl-handler", "true", "ready", "wait-forever", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(outside));
  ASSERT_TRUE(expect_event(leader, "ready", kStartBudget, leader.pid));
  auto spawned = expect_event(leader, "spawned", kStartBudget, leader.pid);
  ASSERT_TRUE(spawned);
  const auto member = static_cast<std::uint32_t>(spawned->number("child_pid").value_or(0));
  ASSERT_NE(member, 0u) << spawned->describe();
  ASSERT_TRUE(expect_event(leader, "ready", kStartBudget, member)) << "the group's second member never got ready";
  ASSERT_EQ(sys().ctrl_event(kCtrlBreakEvent, leader.pid), 0u) << "GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT) failed";
  for (std::uint32_t pid : {leader.pid, member}) {
    auto e = expect_event(leader, "ctrl-event", kExitBudget, pid);
    ASSERT_TRUE(e) << (pid == leader.pid ? "the group's leader" : "the group's other member") << " got no event";
    EXPECT_EQ(e->number("type").value_or(99), kCtrlBreakEvent) << e->describe();
  }
  EXPECT_TRUE(no_ctrl_event(outside)) << "a process outside the named group got the event";
}

// With Ctrl+C disabled no handler runs at all (the leader's would report the event, then return
// FALSE so that the default handler ends the process). The control: once the leader enables Ctrl+C
// (SetConsoleCtrlHandler(NULL, FALSE)), a Ctrl+C sent to its group reaches its handler (Wine's
// test_CtrlHandlerSubsystem, which passes on Windows 8 and later: CTRL_C_EVENT sent to a group id
// reaches a member whose Ctrl+C is enabled).
TEST_F(Ctrl, NewProcessGroupStartsWithCtrlCDisabled) {
  claim("ctrl.process-group");
  auto witness = this->witness();
  auto go = sys().create_event("accept-ctrl-c");
  auto leader = start_new_group(
      {"ctrl-handler", "false", "ready", "wait-event", go.name, "accept-ctrl-c", "wait-forever"});
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(leader));
  ASSERT_TRUE(ctrl_c_reached(witness));
  EXPECT_TRUE(no_ctrl_event(leader)) << "a handler of a CREATE_NEW_PROCESS_GROUP process ran on Ctrl+C";
  EXPECT_TRUE(still_running(leader.process))
      << "a CREATE_NEW_PROCESS_GROUP process ended on Ctrl+C: exit code " << hex(sys().exit_code(leader.process));

  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(expect_event(leader, "accepting-ctrl-c"));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, leader.pid), 0u) << "GenerateConsoleCtrlEvent(CTRL_C_EVENT, group) failed";
  EXPECT_TRUE(expect_event(leader, "ctrl-event", kExitBudget, leader.pid))
      << "the control failed: Ctrl+C did not reach the leader after it enabled Ctrl+C";
}

// Group 0 is the whole console: "If this parameter is zero, the signal is generated in all
// processes that share the console of the calling process" (GenerateConsoleCtrlEvent), other
// process groups included, once they accept Ctrl+C.
TEST_F(Ctrl, GroupZeroReachesEveryGroupOfTheConsole) {
  claim("ctrl.process-group");
  auto witness = this->witness();  // the harness's group
  auto leader = start_new_group({"ctrl-handler", "true", "accept-ctrl-c", "ready", "wait-forever"});
  ASSERT_TRUE(expect_event(leader, "accepting-ctrl-c"));
  ASSERT_TRUE(ready(leader));
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ctrl_c_reached(witness));
  // One call delivers to every target together: the leader's record follows the witness's closely.
  auto e = sys().await(leader, "ctrl-event", Deadline::in(kDeliveryWatch), leader.pid);
  if (!e) {
    note_timeout(fmt::format("Ctrl+C to group 0 reached the harness's group but not, within {} ms, a process of "
                             "another group that accepts Ctrl+C", kDeliveryWatch.count()));
    return;
  }
  EXPECT_EQ(e->number("type").value_or(99), kCtrlCEvent) << e->describe();
}

// The control: a console-subsystem twin with the same default handler, started the same way, is
// ended by the same Ctrl+C.
TEST_F(Ctrl, GuiProcessGetsNoConsoleEvent) {
  claim("ctrl.process-group");
  auto witness = this->witness();
  auto gui = start_gui({"ready", "no-window"});  // windows subsystem, default handler only
  auto twin = start({"ready", "wait-forever"});   // console subsystem, default handler only
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(gui));
  ASSERT_TRUE(ready(twin));
  ASSERT_TRUE(ctrl_c_reached(witness));
  ASSERT_TRUE(ends(twin.process, "the console twin with the default handler (the control)"));
  EXPECT_TRUE(still_running(gui.process, kQuietWatch))
      << "the GUI-subsystem process ended on Ctrl+C: exit code " << hex(sys().exit_code(gui.process));
}

// The control: a sibling the parent started before it ignored Ctrl+C gets the same Ctrl+C.
TEST_F(Ctrl, IgnoreFlagIsInheritedBySpawnedChildren) {
  claim("ctrl.process-group");
  auto witness = this->witness();
  // Two children in the same group and console (plain spawns), one before and one after the
  // parent ignores Ctrl+C.
  auto parent = start({"spawn", "[", "ctrl-handler", "true", "ready", "wait-forever", "]", "ignore-ctrl-c", "spawn",
                       "[", "ctrl-handler", "true", "ready", "wait-forever", "]", "ready", "wait-forever"});
  auto spawned = sys().await_n(parent, "spawned", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(spawned.size(), 2u) << "the parent did not start both children";
  std::sort(spawned.begin(), spawned.end(), [](const Event& x, const Event& y) { return x.seq < y.seq; });
  const auto before = static_cast<std::uint32_t>(spawned[0].number("child_pid").value_or(0));
  const auto child_pid = static_cast<std::uint32_t>(spawned[1].number("child_pid").value_or(0));
  ASSERT_NE(before, 0u) << spawned[0].describe();
  ASSERT_NE(child_pid, 0u) << spawned[1].describe();
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, parent.pid));
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, before)) << "the first child never got ready";
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, child_pid)) << "the child never got ready";
  ASSERT_TRUE(ctrl_c_reached(witness));
  EXPECT_TRUE(expect_event(parent, "ctrl-event", kExitBudget, before))
      << "the control failed: the child started before the parent ignored Ctrl+C got no event";
  // The child's handler would return TRUE; with Ctrl+C ignored no handler runs at all.
  EXPECT_TRUE(no_ctrl_event(parent, child_pid))
      << "a child of a process that ignores Ctrl+C got Ctrl+C: it did not inherit the ignore flag";
  EXPECT_TRUE(still_running(parent.process)) << "the parent ended although it ignores Ctrl+C: exit code "
                                             << hex(sys().exit_code(parent.process));
}

// The control: the same process then sends Ctrl+C to its own console, and its handler reports it.
TEST_F(Ctrl, NewConsoleGetsNoEvent) {
  claim("ctrl.process-group");
  auto witness = this->witness();  // the harness's console
  auto go = sys().create_event("own-ctrl-c");
  // The harness's process group, but a console of its own.
  auto other = start_new_console({"ctrl-handler", "true", "ready", "wait-event", go.name, "ctrl-send", "0", "0",
                                  "wait-forever"});
  ASSERT_TRUE(ready(witness));
  ASSERT_TRUE(ready(other));
  ASSERT_TRUE(ctrl_c_reached(witness));
  EXPECT_TRUE(no_ctrl_event(other)) << "a CREATE_NEW_CONSOLE process got the Ctrl+C of its creator's console";

  ASSERT_TRUE(sys().set_event(go.handle));
  auto own = expect_event(other, "ctrl-event", kExitBudget, other.pid);
  ASSERT_TRUE(own) << "the control failed: the process's handler did not report a Ctrl+C of its own console";
  EXPECT_EQ(own->number("type").value_or(99), kCtrlCEvent) << own->describe();
}

}  // namespace
}  // namespace termsuite
