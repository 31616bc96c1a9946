// The model's issue-6 rules where the conformance suite does not look: exact record sequences of
// the GUI actor, the close timeout, the Ctrl+C ignore flag's inheritance, handler order, errors of
// GenerateConsoleCtrlEvent and taskkill. Run on SimSystem, in virtual time.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "termsuite/sim/sim_system.hpp"

namespace termsuite::sim {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kControlCExit = verbs::kStatusControlCExit;

class Model6 : public ::testing::Test {
 protected:
  SimSystem sys;

  Actor console(std::vector<std::string> verbs, bool new_group = false, bool new_console = false) {
    return sys.start(ActorSpec{.kind = "console", .verbs = std::move(verbs), .job = {}, .new_group = new_group,
                               .new_console = new_console});
  }
  Actor gui(std::vector<std::string> verbs) {
    return sys.start(ActorSpec{.kind = "gui", .verbs = std::move(verbs), .job = {}, .new_group = false, .new_console = false});
  }
  // The names of the records of `pid`, in order (cbt records as "cbt:NAME").
  std::vector<std::string> names(const Actor& a, std::uint32_t pid = 0) {
    std::vector<std::string> out;
    for (const auto& e : sys.events(a)) {
      if (pid && e.pid != pid) continue;
      out.push_back(e.name == "cbt" ? "cbt:" + e.text("name").value_or("?") : e.name);
    }
    return out;
  }
  std::vector<Event> of(const Actor& a, std::string_view ev, std::uint32_t pid = 0) {
    std::vector<Event> out;
    for (const auto& e : sys.events(a))
      if (e.is(ev) && (!pid || e.pid == pid)) out.push_back(e);
    return out;
  }
  bool ends(const Actor& a, milliseconds within = 1000ms) {
    return sys.wait(a.process, Deadline::in(within)) == WaitResult::signaled;
  }
  std::uint64_t now() { return sys.model().now(); }
};

using Names = std::vector<std::string>;

TEST_F(Model6, PoliteWindowRecordsInOrder) {
  auto a = gui({"cbt-hook", "window", "polite", "ready"});
  auto created = of(a, "window-created");
  ASSERT_EQ(created.size(), 1u);
  const auto hwnd = created[0].number("hwnd").value_or(0);
  EXPECT_EQ(created[0].text("title").value_or(""), "termsuite actor-gui polite");
  EXPECT_EQ(sys.post_close(hwnd), 0u);
  ASSERT_TRUE(ends(a));
  EXPECT_EQ(sys.exit_code(a.process), gui_verbs::kQuitCode);
  EXPECT_EQ(names(a), (Names{"start", "cbt-hooked", "cbt:create-window", "cbt:activate", "cbt:set-focus",
                             "window-created", "ready", "wm-close", "cbt:destroy-window", "window-destroyed", "quitting",
                             "about-to-exit"}));
  EXPECT_EQ(of(a, "about-to-exit")[0].text("how").value_or(""), "return");
  EXPECT_EQ(sys.post_close(hwnd), kErrorInvalidWindowHandle) << "the window is gone";
}

TEST_F(Model6, ListenerOnlyActorIgnoresWmCloseAndHiddenWindowsAreNotActivated) {
  auto a = gui({"cbt-hook", "listen-private", "M", "window", "hidden-stubborn", "ready"});
  auto status = sys.taskkill(a.pid, {}, Deadline::in(1s));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0u);
  EXPECT_EQ(sys.wait(a.process, Deadline::in(500ms)), WaitResult::timeout);
  auto closes = of(a, "wm-close");
  ASSERT_EQ(closes.size(), 2u) << "both top-level windows, the listener included";
  for (const auto& c : closes) EXPECT_EQ(c.text("disposition").value_or(""), "ignored");
  for (const auto& c : of(a, "cbt")) EXPECT_EQ(c.text("name").value_or(""), "create-window");
}

TEST_F(Model6, WindowlessGuiExitsWithZero) {
  auto a = gui({"ready"});
  ASSERT_TRUE(ends(a));
  EXPECT_EQ(sys.exit_code(a.process), 0u);
}

TEST_F(Model6, BroadcastReachesEveryOtherProcessOnce) {
  auto l1 = gui({"listen-private", "Quit-Now", "window", "stubborn", "ready"});
  auto l2 = gui({"listen-private", "quit-now", "ready"});  // names compare without case
  auto other = gui({"listen-private", "something-else", "ready"});
  auto s = gui({"broadcast-private", "QUIT-NOW", "drain", "ready"});
  ASSERT_TRUE(ends(l1));
  ASSERT_TRUE(ends(l2));
  EXPECT_EQ(sys.exit_code(l1.process), gui_verbs::kPrivateMessageExitCode);
  EXPECT_EQ(of(l1, "private-message").size(), 1u);
  EXPECT_EQ(sys.wait(other.process, Deadline::in(200ms)), WaitResult::timeout);
  auto b = of(s, "broadcast");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].number("flags").value_or(0), 0x12u);
  EXPECT_EQ(b[0].number("recipients").value_or(0), 8u);
  EXPECT_EQ(of(s, "drained")[0].number("dispatched").value_or(99), 0u);
}

TEST_F(Model6, SentBroadcastReturnsAfterTheListenerHandledIt) {
  auto l = gui({"listen-private", "M", "ready"});
  auto s = gui({"broadcast-private-send", "M", "ready"});
  ASSERT_TRUE(ends(l));
  auto b = of(s, "broadcast");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].number("flags").value_or(0), 0x22u);
  // SendMessage returns once the window procedure has run (here: once its thread is gone), so
  // the sender's record comes after the listener's on the model's timeline.
  auto& trace = sys.model().trace();
  std::size_t handled = 0, broadcast = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    if (trace[i].text.find(fmt::format("process {} reports private-message", l.pid)) != std::string::npos) handled = i;
    if (trace[i].text.find("reports broadcast") != std::string::npos) broadcast = i;
  }
  ASSERT_NE(handled, 0u);
  EXPECT_LT(handled, broadcast);
}

TEST_F(Model6, CloseHandlerThatHoldsIsCutShortAfterFiveSeconds) {
  ASSERT_TRUE(sys.own_console());
  auto a = console({"ctrl-handler", "hold", "console-window", "ready", "wait-forever"}, false, true);
  auto w = of(a, "console-window");
  ASSERT_EQ(w.size(), 1u);
  const auto start = now();
  ASSERT_EQ(sys.post_close(w[0].number("hwnd").value_or(0)), 0u);
  ASSERT_TRUE(ends(a, 30s));
  EXPECT_EQ(now() - start, kCloseTimeoutMs);
  EXPECT_EQ(sys.exit_code(a.process), kControlCExit);
  EXPECT_EQ(of(a, "ctrl-handler-holding").size(), 1u);
  EXPECT_TRUE(of(a, "ctrl-handler-returning").empty());
}

TEST_F(Model6, CloseWithOnlyTheDefaultHandlerAndTheHarnessConsoleSurvives) {
  ASSERT_TRUE(sys.own_console());
  auto mine = console({"console-window", "ready", "wait-forever"});  // the harness's console
  auto own = console({"console-window", "ready", "wait-forever"}, false, true);
  const auto harness_window = of(mine, "console-window")[0].number("hwnd").value_or(0);
  const auto own_window = of(own, "console-window")[0].number("hwnd").value_or(0);
  EXPECT_NE(harness_window, own_window);
  ASSERT_EQ(sys.post_close(own_window), 0u);
  ASSERT_TRUE(ends(own));
  EXPECT_EQ(sys.exit_code(own.process), kControlCExit);
  EXPECT_EQ(sys.wait(mine.process, Deadline::in(500ms)), WaitResult::timeout);
  EXPECT_EQ(sys.post_close(own_window), kErrorInvalidWindowHandle);
}

TEST_F(Model6, HandlersRunLastRegisteredFirstOnOneNewThread) {
  ASSERT_TRUE(sys.own_console());
  auto a = console({"ctrl-handler", "true", "ctrl-handler", "false", "ready", "wait-forever"});
  ASSERT_EQ(sys.ctrl_event(verbs::kCtrlCEvent, 0), 0u);
  ASSERT_EQ(sys.ctrl_event(verbs::kCtrlCEvent, 0), 0u);
  auto events = of(a, "ctrl-event");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].text("mode").value_or(""), "false");
  EXPECT_EQ(events[1].text("mode").value_or(""), "true");
  EXPECT_EQ(events[0].tid, events[1].tid);
  EXPECT_NE(events[1].tid, events[2].tid) << "every event gets a thread of its own";
  EXPECT_NE(events[0].tid, a.tid);
  EXPECT_EQ(sys.wait(a.process, Deadline::in(100ms)), WaitResult::timeout);
}

TEST_F(Model6, IgnoreFlagIsInheritedAndAcceptable) {
  ASSERT_TRUE(sys.own_console());
  // The parent ignores Ctrl+C: a plain child inherits it, a new-group child starts with it.
  auto p = console({"ignore-ctrl-c", "spawn", "[", "ctrl-handler", "true", "ready", "wait-forever", "]", "spawn-group", "[",
                    "ctrl-handler", "true", "accept-ctrl-c", "ready", "wait-forever", "]", "ready", "wait-forever"});
  auto spawned = of(p, "spawned");
  ASSERT_EQ(spawned.size(), 2u);
  const auto child = static_cast<std::uint32_t>(spawned[0].number("child_pid").value_or(0));
  const auto leader = static_cast<std::uint32_t>(spawned[1].number("child_pid").value_or(0));
  ASSERT_EQ(sys.ctrl_event(verbs::kCtrlCEvent, 0), 0u);
  sys.wait(p.process, Deadline::in(100ms));
  EXPECT_TRUE(of(p, "ctrl-event", child).empty()) << "the inherited ignore flag let Ctrl+C through";
  EXPECT_EQ(of(p, "ctrl-event", leader).size(), 1u) << "accept-ctrl-c did not clear the flag";
  EXPECT_EQ(sys.wait(p.process, Deadline::in(100ms)), WaitResult::timeout) << "the ignoring parent ended";
  // Ctrl+Break is not ignored: the parent's default handler ends it.
  ASSERT_EQ(sys.ctrl_event(verbs::kCtrlBreakEvent, 0), 0u);
  ASSERT_TRUE(ends(p));
  EXPECT_EQ(sys.exit_code(p.process), kControlCExit);
  EXPECT_EQ(of(p, "ctrl-event", child).size(), 1u);
}

TEST_F(Model6, CtrlSendFromAnActorReachesItsGroupOnly) {
  // The harness has no console: the actor gets one of its own, and its children share it.
  auto p = console({"spawn-group", "[", "ctrl-handler", "true", "ready", "wait-forever", "]", "spawn-console", "[",
                    "ctrl-handler", "true", "ready", "wait-forever", "]", "ctrl-handler", "true", "ready", "wait-event", "go",
                    "ctrl-send", "1", "0", "ctrl-send", "2", "0", "wait-forever"});
  auto spawned = of(p, "spawned");
  ASSERT_EQ(spawned.size(), 2u);
  const auto leader = static_cast<std::uint32_t>(spawned[0].number("child_pid").value_or(0));
  const auto other_console = static_cast<std::uint32_t>(spawned[1].number("child_pid").value_or(0));
  EXPECT_EQ(sys.ctrl_event(verbs::kCtrlBreakEvent, 0), kErrorInvalidHandle) << "the harness has no console";
  EXPECT_EQ(sys.ctrl_event(2, 0), kErrorInvalidParameter);
  // `wait-event go`: no such event, so OpenEvent fails and the actor goes on at once.
  auto sent = of(p, "ctrl-sent");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].fields["ok"].get<bool>());
  EXPECT_FALSE(sent[1].fields["ok"].get<bool>());
  EXPECT_EQ(sent[1].number("error").value_or(0), kErrorInvalidParameter);
  sys.wait(p.process, Deadline::in(100ms));
  EXPECT_EQ(of(p, "ctrl-event", p.pid).size(), 1u) << "the sender is in its own console's group 0";
  EXPECT_EQ(of(p, "ctrl-event", leader).size(), 1u) << "group 0 is every process of the console";
  EXPECT_TRUE(of(p, "ctrl-event", other_console).empty()) << "a CREATE_NEW_CONSOLE child is on another console";
}

TEST_F(Model6, TaskkillStatuses) {
  EXPECT_EQ(sys.taskkill(4, {}, Deadline::in(1s)).value_or(0), kTaskkillNotFound);
  // The process that created its console owns the console's window: the graceful request closes
  // it, and the default handler ends the process on CTRL_CLOSE_EVENT.
  auto root = console({"ready", "wait-forever"});  // its own console (the harness has none)
  EXPECT_EQ(sys.taskkill(root.pid, {}, Deadline::in(1s)).value_or(99), 0u);
  ASSERT_TRUE(ends(root));
  EXPECT_EQ(sys.exit_code(root.process), verbs::kStatusControlCExit);
  // A process attached to a console it did not create owns no window: nothing to ask.
  ASSERT_TRUE(sys.own_console());
  auto a = console({"ready", "wait-forever"});
  EXPECT_EQ(sys.taskkill(a.pid, {}, Deadline::in(1s)).value_or(0), kTaskkillFailed);
  EXPECT_EQ(sys.wait(a.process, Deadline::in(200ms)), WaitResult::timeout);
  EXPECT_EQ(sys.taskkill(a.pid, {.force = true}, Deadline::in(1s)).value_or(99), 0u);
  ASSERT_TRUE(ends(a));
  EXPECT_EQ(sys.exit_code(a.process), kTaskkillForceCode);
  EXPECT_EQ(sys.taskkill(a.pid, {.force = true}, Deadline::in(1s)).value_or(0), kTaskkillNotFound);
}

TEST_F(Model6, GracefulTaskkillOfATreeAsksEveryProcess) {
  auto root = gui({"spawn-gui", "[", "window", "polite", "ready", "]", "window", "polite", "ready"});
  auto spawned = of(root, "spawned");
  ASSERT_EQ(spawned.size(), 1u);
  auto child = sys.open_process(static_cast<std::uint32_t>(spawned[0].number("child_pid").value_or(0)));
  ASSERT_TRUE(child.handle);
  EXPECT_EQ(sys.taskkill(root.pid, {.force = false, .tree = true}, Deadline::in(1s)).value_or(99), 0u);
  ASSERT_TRUE(ends(root));
  EXPECT_EQ(sys.wait(child.handle, Deadline::in(1s)), WaitResult::signaled);
  EXPECT_EQ(sys.exit_code(child.handle), gui_verbs::kQuitCode);
}

// become-last-thread waits for the process's other threads, in virtual time, and says how it ended:
// at once when it is already alone; when the last other thread ends; "no" at its 45 s deadline.
TEST_F(Model6, BecomeLastThreadWaitsForTheOtherThreadsBoundedly) {
  auto alone = console({"become-last-thread", "ready", "wait-forever"});
  auto at_once = of(alone, "last-thread");
  ASSERT_EQ(at_once.size(), 1u);
  EXPECT_EQ(at_once[0].text("last").value_or(""), "yes");
  EXPECT_EQ(at_once[0].number("waited_for"), 0u);
  EXPECT_EQ(at_once[0].number("ms"), 0u);

  auto go = sys.create_event("worker-ends");
  auto waits = console({"thread", "[", "wait-event", go.name, "exit-thread", "4", "]", "become-last-thread", "ready",
                        "wait-forever"});
  EXPECT_TRUE(of(waits, "last-thread").empty()) << "it did not wait for the worker";
  const auto before = now();
  sys.wait(waits.process, Deadline::in(1000ms));  // a second passes: the worker still waits
  ASSERT_TRUE(sys.set_event(go.handle));
  ASSERT_TRUE(sys.await(waits, "ready", Deadline::in(1000ms), 0));
  auto after_worker = of(waits, "last-thread");
  ASSERT_EQ(after_worker.size(), 1u);
  EXPECT_EQ(after_worker[0].text("last").value_or(""), "yes");
  EXPECT_EQ(after_worker[0].number("waited_for"), 1u);
  EXPECT_GE(after_worker[0].number("ms").value_or(0), 900u) << "it did not wait the second the worker waited";
  EXPECT_GE(now() - before, 900u);

  auto stuck = console({"thread", "[", "wait-forever", "]", "become-last-thread", "ready", "wait-forever"});
  ASSERT_TRUE(sys.await(stuck, "ready", Deadline::in(milliseconds(verbs::kLastThreadWaitMs + 1000)), 0));
  auto deadline = of(stuck, "last-thread");
  ASSERT_EQ(deadline.size(), 1u);
  EXPECT_EQ(deadline[0].text("last").value_or(""), "no");
  EXPECT_EQ(deadline[0].number("left"), 1u);
  EXPECT_EQ(deadline[0].number("ms"), std::uint64_t{verbs::kLastThreadWaitMs});
}

TEST_F(Model6, EveryNewMutantIsListedOnce) {
  std::set<std::string_view> names;
  for (const auto& m : mutants()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_EQ(find_mutant(m.name), m.id);
  }
}

}  // namespace
}  // namespace termsuite::sim
