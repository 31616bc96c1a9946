// The fatal endings a CI sees every day: a stack overflow, a fail-fast (__fastfail), abort() in the
// C runtime, and an unhandled exception that a top-level filter (SetUnhandledExceptionFilter)
// hands to the handler. "Terminating a Process": "If a process is terminated due to a fatal
// exception, the exit code is the value of the exception that caused the termination."
#include "termsuite/claim_test.hpp"
#include "termsuite/verbs.hpp"

namespace termsuite {
namespace {

// As in exit_codes.cpp: a machine with Windows Error Reporting may write a report first.
constexpr milliseconds kCrashBudget{30'000};

class Fatal : public ClaimTest {};

TEST_F(Fatal, StackOverflowEndsWithStatusStackOverflow) {
  claim("fatal.stack-overflow");
  auto a = start({"crash", "stack-overflow"});
  ASSERT_TRUE(expect_event(a, "about-to-exit"));
  ASSERT_TRUE(ends(a.process, "the process whose stack overflowed", kCrashBudget));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(verbs::kStackOverflow));
}

// The filter would report any exception it sees (the control: Fatal.UnhandledFilterThatExecutes-
// TheHandlerEndsTheProcess shows it does); a fail-fast reaches no handler.
TEST_F(Fatal, FailFastEndsWithStackBufferOverrunAndNoHandler) {
  claim("fatal.fail-fast");
  auto a = start({"unhandled-filter", "crash", "fail-fast"});
  ASSERT_TRUE(expect_event(a, "unhandled-filter-installed"));
  ASSERT_TRUE(ends(a.process, "the process that failed fast", kCrashBudget));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(verbs::kFailFast));
  ASSERT_TRUE(drained(a));
  auto seen = records(a, "unhandled-filter", a.pid);
  EXPECT_TRUE(seen.empty()) << "the top-level exception filter saw the fail-fast: " << seen.front().describe();
}

// abort() runs no atexit routine; its exit code is the C runtime's (msvcrt: 3, _exit(3); the
// Universal CRT's release builds report the fault instead), so it is recorded, not asserted. The
// control: a twin that calls exit() runs its atexit routine.
TEST_F(Fatal, AbortRunsNoAtexitRoutine) {
  claim("fatal.abort");
  auto a = start({"atexit", "abort"});
  auto twin = start({"atexit", "exit", "0"});
  ASSERT_TRUE(ends(twin.process, "the twin that calls exit()"));
  ASSERT_TRUE(drained(twin));
  ASSERT_FALSE(records(twin, "atexit-ran", twin.pid).empty()) << "the control failed: exit() ran no atexit routine";
  ASSERT_TRUE(expect_event(a, "about-to-exit"));
  ASSERT_TRUE(ends(a.process, "the process that called abort()", kCrashBudget));
  ASSERT_TRUE(drained(a));
  auto ran = records(a, "atexit-ran", a.pid);
  EXPECT_TRUE(ran.empty()) << "abort() ran an atexit routine: " << ran.front().describe();
  observe("abort-exit-code", hex(sys().exit_code(a.process)));
}

TEST_F(Fatal, UnhandledFilterThatExecutesTheHandlerEndsTheProcess) {
  claim("fatal.unhandled-filter");
  auto a = start({"unhandled-filter", "crash", "raise", "0xE0000002"});
  auto called = expect_event(a, "unhandled-filter", kCrashBudget, a.pid);
  ASSERT_TRUE(called) << "the top-level exception filter was not called";
  EXPECT_EQ(hex(static_cast<std::uint32_t>(called->number("code").value_or(0))), hex(0xE0000002));
  ASSERT_TRUE(ends(a.process, "the process whose filter returned EXCEPTION_EXECUTE_HANDLER", kCrashBudget));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(0xE0000002));
  // Once: the filter is called for the exception, not again on its way out (the first call is the
  // control that a call is seen).
  ASSERT_TRUE(drained(a));
  EXPECT_EQ(records(a, "unhandled-filter", a.pid).size(), 1u) << "calls of the top-level exception filter";
}

}  // namespace
}  // namespace termsuite
