// SetConsoleCtrlHandler's list of handlers: removing one, a routine registered twice, and the
// Ctrl+C ignore flag, which concerns Ctrl+C only ("SetConsoleCtrlHandler function", "CTRL+C and
// CTRL+BREAK Signals", Microsoft Learn). As in console_control.cpp, every scenario runs in a
// console the harness creates for itself, whose handler returns TRUE.
#include <algorithm>

#include "termsuite/claim_test.hpp"
#include "termsuite/verbs.hpp"

namespace termsuite {
namespace {

using verbs::kCtrlBreakEvent;
using verbs::kCtrlCEvent;

// How long a process that must not get another event is watched after the last one it got.
constexpr milliseconds kQuietWatch{500};

class CtrlHandlers : public ClaimTest {
 protected:
  void SetUp() override {
    ClaimTest::SetUp();
    ASSERT_TRUE(sys().own_console()) << "the harness could not create a console of its own";
  }

  // The ctrl-event records of `a` (its own process), by seq.
  std::vector<Event> ctrl_events(const Actor& a) {
    auto events = records(a, "ctrl-event", a.pid);
    std::sort(events.begin(), events.end(), [](const Event& x, const Event& y) { return x.seq < y.seq; });
    return events;
  }

  // `a` has removed a handler and is ready: a Ctrl+C to the console, then the handler calls once
  // the first has come (empty, the test failed, if none came).
  std::vector<Event> calls_after_removal(const Actor& a) {
    if (!expect_event(a, "ctrl-handler-removed") || !ready(a)) return {};
    if (sys().ctrl_event(kCtrlCEvent, 0) != 0) {
      ADD_FAILURE() << "GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) failed";
      return {};
    }
    if (!expect_event(a, "ctrl-event", kExitBudget, a.pid)) {
      ADD_FAILURE() << "no handler ran";
      return {};
    }
    return ctrl_events(a);
  }

  // `first` and `second` registered in that order, `false` removed: the first handler a Ctrl+C
  // calls is `true`, which keeps the process; `wrong` says what another first call means.
  void expect_true_called_first(const std::string& first, const std::string& second, std::string_view wrong) {
    auto a = start({"ctrl-handler", first, "ctrl-handler", second, "remove-ctrl-handler", "false", "ready",
                    "wait-forever"});
    const auto calls = calls_after_removal(a);
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.front().text("mode").value_or("?"), "true") << wrong << ": " << calls.front().describe();
    EXPECT_TRUE(still_running(a.process)) << "the process ended although its remaining handler returns TRUE";
  }
};

// Registered: `true`, then `false`; `false` removed again. A Ctrl+C then reaches `true` (it is the
// control: the event did arrive). The handlers of one event run one after another, the last
// registered first, so `false`, had it stayed, would have been called before `true`: the first
// call tells, and nothing runs after `true` returns TRUE.
TEST_F(CtrlHandlers, RemovedHandlerIsNotCalled) {
  claim("ctrl.handler-removed");
  expect_true_called_first("true", "false", "the removed handler was called");
}

// Registered: `false`, then `true`; `false` removed. The removal takes out the routine it names,
// not the last registered handler: a Ctrl+C reaches `true`, which returns TRUE and keeps the
// process (had `true` been removed, `false` would be called, then the default handler).
TEST_F(CtrlHandlers, RemovalTakesOutTheNamedRoutineNotTheLastOne) {
  claim("ctrl.handler-removed");
  expect_true_called_first("false", "true", "the handler registered last was removed instead of the one named");
}

// A routine registered twice is in the list twice: `false` twice over `true` gives three calls,
// `false`, `false`, then `true`, on one thread.
TEST_F(CtrlHandlers, HandlerRegisteredTwiceIsCalledTwice) {
  claim("ctrl.handler-registered-twice");
  auto a = start({"ctrl-handler", "true", "ctrl-handler", "false", "ctrl-handler", "false", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, 0), 0u) << "GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) failed";
  ASSERT_TRUE(expect_event(a, "ctrl-event", kExitBudget, a.pid)) << "no handler ran";
  auto calls = sys().await_n(a, "ctrl-event", 3, Deadline::in(kExitBudget));
  std::sort(calls.begin(), calls.end(), [](const Event& x, const Event& y) { return x.seq < y.seq; });
  std::vector<std::string> modes;
  for (const auto& e : calls) modes.push_back(e.text("mode").value_or("?"));
  EXPECT_EQ(modes, (std::vector<std::string>{"false", "false", "true"}));
  for (const auto& e : calls) EXPECT_EQ(e.number("thread"), calls.front().number("thread")) << e.describe();
}

// `false` registered twice over `true`, then removed once: one registration is left, so a Ctrl+C
// calls `false` once, then `true` (which ends the chain). Removing every registration would leave
// `true` alone; removing none would call `false` twice.
TEST_F(CtrlHandlers, RemovingOneOfTwoRegistrationsLeavesTheOther) {
  claim("ctrl.handler-registered-twice");
  auto a = start({"ctrl-handler", "true", "ctrl-handler", "false", "ctrl-handler", "false", "remove-ctrl-handler",
                  "false", "ready", "wait-forever"});
  ASSERT_FALSE(calls_after_removal(a).empty());
  sys().await_n(a, "ctrl-event", 2, Deadline::in(kExitBudget));
  // `true` ends the chain: anything after it would already be on its way.
  sys().await_n(a, "ctrl-event", 3, Deadline::in(kQuietWatch));
  std::vector<std::string> modes;
  for (const auto& e : ctrl_events(a)) modes.push_back(e.text("mode").value_or("?"));
  EXPECT_EQ(modes, (std::vector<std::string>{"false", "true"}));
  EXPECT_TRUE(still_running(a.process)) << "the process ended although its remaining handler returns TRUE";
}

// A process of its own group (so that Ctrl+Break can be aimed at it) accepts Ctrl+C, installs a
// handler, then ignores Ctrl+C. Ctrl+C to its group: no handler runs. Ctrl+Break to its group:
// the handler runs (and is the control that the group is reached at all).
TEST_F(CtrlHandlers, IgnoringCtrlCStillLetsCtrlBreakThrough) {
  claim("ctrl.ignore-concerns-ctrl-c");
  auto a = start_new_group({"accept-ctrl-c", "ctrl-handler", "true", "ignore-ctrl-c", "ready", "wait-forever"});
  ASSERT_TRUE(expect_event(a, "ignoring-ctrl-c"));
  ASSERT_TRUE(ready(a));
  ASSERT_EQ(sys().ctrl_event(kCtrlCEvent, a.pid), 0u) << "GenerateConsoleCtrlEvent(CTRL_C_EVENT, group) failed";
  ASSERT_EQ(sys().ctrl_event(kCtrlBreakEvent, a.pid), 0u) << "GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group) failed";
  auto e = expect_event(a, "ctrl-event", kExitBudget, a.pid);
  ASSERT_TRUE(e) << "Ctrl+Break did not reach the handler of a process that ignores Ctrl+C";
  // Both events were sent before the first record came: any Ctrl+C call would be there by now,
  // or within the watch.
  sys().await_n(a, "ctrl-event", 2, Deadline::in(kQuietWatch));
  const auto calls = ctrl_events(a);
  for (const auto& c : calls)
    EXPECT_EQ(c.number("type").value_or(99), kCtrlBreakEvent) << "a handler ran for Ctrl+C: " << c.describe();
  EXPECT_TRUE(still_running(a.process)) << "the process ended although its handler returns TRUE";
}

}  // namespace
}  // namespace termsuite
