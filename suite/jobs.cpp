// Job objects beyond kill-on-close: TerminateJobObject, breakaway (asked for and silent), nested
// jobs and the job's completion port. "TerminateJobObject function", "Process Creation Flags",
// "Job Objects", "Nested Jobs", "JOBOBJECT_ASSOCIATE_COMPLETION_PORT structure" (Microsoft Learn).
//
// A child that breaks away is in none of the test's jobs, so the test that lets it escape also
// ends it (it waits on an event the test sets, and lives 60 s at most if the test dies first).
#include <algorithm>

#include <fmt/format.h>

#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Jobs : public ClaimTest {
 protected:
  // The pid of the child `a` reported in its `spawned` record, once the child is ready.
  std::uint32_t spawned_child(const Actor& a) {
    auto spawned = expect_event(a, "spawned", kStartBudget, a.pid);
    if (!spawned) return 0;
    const auto pid = static_cast<std::uint32_t>(spawned->number("child_pid").value_or(0));
    if (pid == 0 || !expect_event(a, "ready", kStartBudget, pid)) return 0;
    return pid;
  }
  // An actor started in `job` whose child, started with CREATE_BREAKAWAY_FROM_JOB, waits for
  // `leave`: the actor and the child, opened, once both are ready (none, the test failed, if not).
  std::optional<std::pair<Actor, Handle>> start_with_breakaway_child(Handle job, const std::string& leave) {
    auto a = start({"spawn-breakaway", "[", "ready", "wait-event", leave, "]", "ready", "wait-forever"}, job);
    const auto child_pid = spawned_child(a);
    if (child_pid == 0) {
      ADD_FAILURE() << "the child started with CREATE_BREAKAWAY_FROM_JOB never got ready";
      return std::nullopt;
    }
    auto child = sys().open_process(child_pid);
    if (!child.handle) {
      ADD_FAILURE() << "OpenProcess(child) failed: error " << child.error;
      return std::nullopt;
    }
    return std::pair{a, child.handle};
  }
  // The child that broke away outlives its job's end (watched for `watch`); then it is told to
  // leave, and does.
  void expect_child_outlives_the_job(Handle child, Handle leave, milliseconds watch) {
    EXPECT_TRUE(still_running(child, watch)) << "the child that broke away ended with the job";
    ASSERT_TRUE(sys().set_event(leave));
    EXPECT_TRUE(ends(child, "the child that broke away, told to leave"));
  }
};

TEST_F(Jobs, TerminateJobObjectGivesEveryMemberItsCode) {
  claim("job.terminate-code");
  // Not kill-on-close: only TerminateJobObject ends them.
  auto job = sys().create_job(JobOptions{.kill_on_close = false});
  auto a = start({"spawn", "[", "ready", "wait-forever", "]", "ready", "wait-forever"}, job);
  const auto child_pid = spawned_child(a);
  ASSERT_NE(child_pid, 0u) << "the child never got ready";
  auto child = sys().open_process(child_pid);
  ASSERT_TRUE(child.handle) << "OpenProcess(child) failed: error " << child.error;
  ASSERT_TRUE(sys().terminate_job(job, 0x5EB)) << "TerminateJobObject failed";
  for (auto [h, what] : {std::pair{a.process, "the member started in the job"}, std::pair{child.handle, "its child"}}) {
    ASSERT_TRUE(ends(h, what));
    EXPECT_EQ(hex(sys().exit_code(h)), hex(0x5EB)) << what;
  }
  ASSERT_TRUE(ends(a.thread, "the member's main thread"));
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(0x5EB)) << "the main thread's exit code";
}

// The child breaks away from a kill-on-close job that allows it: closing the job ends the parent,
// not the child.
TEST_F(Jobs, BreakawayChildSurvivesKillOnClose) {
  claim("job.breakaway");
  auto job = sys().create_job(JobOptions{.kill_on_close = true, .breakaway_ok = true});
  auto go = sys().create_event("breakaway-child-leaves");
  auto started = start_with_breakaway_child(job, go.name);
  ASSERT_TRUE(started);
  auto [a, child] = *started;
  sys().close(job);
  ASSERT_TRUE(ends(a.process, "the parent in the closed job"));
  expect_child_outlives_the_job(child, go.handle, milliseconds(200));
}

// TerminateJobObject ends the job's processes, not their descendants: the child that broke away
// lives on, while its parent (the control) ends with the code.
TEST_F(Jobs, BreakawayChildSurvivesTerminateJobObject) {
  claim("job.breakaway");
  auto job = sys().create_job(JobOptions{.kill_on_close = false, .breakaway_ok = true});
  auto go = sys().create_event("breakaway-child-leaves");
  auto started = start_with_breakaway_child(job, go.name);
  ASSERT_TRUE(started);
  auto [a, child] = *started;
  ASSERT_TRUE(sys().terminate_job(job, 0x33)) << "TerminateJobObject failed";
  ASSERT_TRUE(ends(a.process, "the parent in the terminated job"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(0x33));
  expect_child_outlives_the_job(child, go.handle, milliseconds(300));
}

// The same request in a kill-on-close job without BREAKAWAY_OK fails. The control: the same
// actor then starts a child without the flag, which works.
TEST_F(Jobs, BreakawayFromAJobThatForbidsItIsAccessDenied) {
  claim("job.breakaway-denied");
  auto job = sys().create_job(JobOptions{.kill_on_close = true});
  auto a = start({"spawn-breakaway", "[", "ready", "wait-forever", "]", "spawn", "[", "ready", "wait-forever", "]",
                  "ready", "wait-forever"},
                 job);
  ASSERT_TRUE(expect_event(a, "ready", kStartBudget, a.pid));
  auto spawned = sys().await_n(a, "spawned", 1, Deadline::in(kStartBudget));
  ASSERT_EQ(spawned.size(), 1u) << "the control failed: the plain spawn did not start its child";
  auto errors = records(a, "error", a.pid);
  ASSERT_EQ(errors.size(), 1u) << "CREATE_BREAKAWAY_FROM_JOB did not fail";
  EXPECT_EQ(errors.front().text("what").value_or("?"), "CreateProcess") << errors.front().describe();
  EXPECT_EQ(errors.front().number("error").value_or(0), 5u) << "not ERROR_ACCESS_DENIED: " << errors.front().describe();
  // The spawn that failed came first: the child that started is the plain one.
  EXPECT_LT(errors.front().seq, spawned.front().seq);
}

// JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK: a plain spawn leaves the job. The control: the parent,
// started in the job by the harness, ends when the job is closed.
TEST_F(Jobs, SilentBreakawayChildSurvivesKillOnClose) {
  claim("job.silent-breakaway");
  auto job = sys().create_job(JobOptions{.kill_on_close = true, .silent_breakaway_ok = true});
  auto go = sys().create_event("silent-child-leaves");
  auto a = start({"spawn", "[", "ready", "wait-event", go.name, "]", "ready", "wait-forever"}, job);
  const auto child_pid = spawned_child(a);
  ASSERT_NE(child_pid, 0u) << "the child never got ready";
  auto child = sys().open_process(child_pid);
  ASSERT_TRUE(child.handle) << "OpenProcess(child) failed: error " << child.error;
  sys().close(job);
  ASSERT_TRUE(ends(a.process, "the parent in the closed job"));
  EXPECT_TRUE(still_running(child.handle, milliseconds(200))) << "the child of a silent-breakaway job ended with it";
  ASSERT_TRUE(sys().set_event(go.handle));
  EXPECT_TRUE(ends(child.handle, "the child that left the job, told to leave"));
}

// The actor is in a kill-on-close job (outer), then assigned to an empty job (inner), which
// becomes outer's child; its next child is born into inner. Closing outer ends both, although the
// harness still holds inner.
TEST_F(Jobs, ClosingTheOuterJobEndsTheInnerJobsProcesses) {
  claim("job.nested-kill-on-close");
  auto outer = sys().create_job(JobOptions{.kill_on_close = true});
  auto inner = sys().create_job(JobOptions{.kill_on_close = false});
  auto go = sys().create_event("nested-spawn");
  auto a = start({"ready", "wait-event", go.name, "spawn", "[", "ready", "wait-forever", "]", "wait-forever"}, outer);
  ASSERT_TRUE(ready(a));
  ASSERT_EQ(sys().assign_to_job(inner, a.process), 0u) << "AssignProcessToJobObject(inner) failed: no nested job";
  ASSERT_TRUE(sys().set_event(go.handle));
  const auto child_pid = spawned_child(a);
  ASSERT_NE(child_pid, 0u) << "the child never got ready";
  auto child = sys().open_process(child_pid);
  ASSERT_TRUE(child.handle) << "OpenProcess(child) failed: error " << child.error;
  sys().close(outer);
  EXPECT_TRUE(ends(a.process, "the process of the inner job"));
  EXPECT_TRUE(ends(child.handle, "the child born in the inner job"));
}

// Two processes of one job end one after the other: the port gets JOB_OBJECT_MSG_EXIT_PROCESS
// with each pid, then JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO.
TEST_F(Jobs, CompletionPortReportsEachExitThenActiveProcessZero) {
  claim("job.completion-port");
  auto job = sys().create_job(JobOptions{.kill_on_close = true, .completion_port = true});
  auto go = sys().create_event("port-parent-exits");
  auto a = start({"spawn", "[", "ready", "exit-process", "5", "]", "ready", "wait-event", go.name, "exit-process", "6"},
                 job);
  const auto child_pid = spawned_child(a);
  ASSERT_NE(child_pid, 0u) << "the child never got ready";
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(a.process, "the parent"));
  const auto messages = sys().job_messages(job, Deadline::in(kExitBudget));
  std::string seen;
  for (const auto& m : messages) seen += fmt::format(" {}:{}", m.message, m.pid);
  auto at = [&](JobMessage wanted) {
    return std::find(messages.begin(), messages.end(), wanted) - messages.begin();
  };
  const auto zero = at(JobMessage{kJobMsgActiveProcessZero, 0});
  const auto n = static_cast<std::ptrdiff_t>(messages.size());
  if (zero == n) {
    note_timeout("JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO never came; messages (id:pid):" + seen);
    return;
  }
  for (std::uint32_t pid : {a.pid, child_pid}) {
    const auto exit = at(JobMessage{kJobMsgExitProcess, pid});
    EXPECT_LT(exit, n) << "no JOB_OBJECT_MSG_EXIT_PROCESS for " << pid << "; messages (id:pid):" << seen;
    EXPECT_LT(exit, zero) << "ACTIVE_PROCESS_ZERO came before the exit of " << pid << ";" << seen;
  }
  EXPECT_EQ(zero, n - 1) << "a message after ACTIVE_PROCESS_ZERO;" << seen;
}

}  // namespace
}  // namespace termsuite
