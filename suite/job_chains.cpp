// Chains of jobs ("Nested Jobs", "TerminateJobObject function", "JOBOBJECT_ASSOCIATE_COMPLETION_PORT
// structure", Microsoft Learn): a job nested in another is a part of it, never the whole. What
// reaches a job reaches its child jobs (termination, kill-on-close) and what a child job triggers
// reaches its parent jobs (completion port messages); nothing goes the other way, or sideways to
// a sibling job. A child that breaks away climbs the chain as far as the jobs permit.
//
// A process is nested the documented way: started in the parent job, then assigned to an empty
// job, which becomes the child of the job it was in (Windows 8 and later). A child that leaves
// the test's jobs waits on an event the test sets, and lives 60 s at most if the test dies first.
#include <algorithm>

#include <fmt/format.h>

#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

// How long a process that must not be ended is watched after the one that shows the event
// arrived (the control) has ended.
constexpr milliseconds kSpareWatch{300};

class JobChains : public ClaimTest {
 protected:
  // An actor started in `job` that reports `ready` first, then nested into each job of `chain` in
  // turn (each becomes the child of the one before). Empty (the test failed or timed out) if it
  // did not get ready or a job would not nest.
  std::optional<Actor> start_nested(const std::vector<std::string>& verbs, Handle job, const std::vector<Handle>& chain) {
    Actor a = start(verbs, job);
    if (!ready(a)) return std::nullopt;
    for (Handle child : chain)
      if (const auto error = sys().assign_to_job(child, a.process); error != 0) {
        ADD_FAILURE() << "AssignProcessToJobObject of a job member to an empty job failed with error " << error
                      << ": no nested job";
        return std::nullopt;
      }
    return a;
  }
  // An actor in `job`, nested into `chain`, that then starts a child with `spawn` (`spawn` or
  // `spawn-breakaway`) which waits for `leave`: the actor and the child, opened, once both are
  // ready (none, the test failed or timed out, if not).
  std::optional<std::pair<Actor, Handle>> nested_parent_and_child(const std::string& spawn, Handle job,
                                                                  const std::vector<Handle>& chain,
                                                                  const System::NamedEvent& leave) {
    auto go = sys().create_event("chain-spawn");
    auto a = start_nested({"ready", "wait-event", go.name, spawn, "[", "ready", "wait-event", leave.name, "]",
                           "wait-forever"},
                          job, chain);
    if (!a || !sys().set_event(go.handle)) return std::nullopt;
    auto children = open_descendants(*a, 1);
    if (children.size() != 1) {
      ADD_FAILURE() << spawn << " started no child that got ready";
      return std::nullopt;
    }
    return std::pair{*a, children.front()};
  }
  // Ends a child that left the test's jobs, if a failed expectation left it running.
  void reap_escaped(Handle child, Handle leave) {
    sys().set_event(leave);
    if (still_running(child, kSpareWatch)) sys().terminate(child, 1);
  }
};

// top (forbids breakaway) > middle (permits) > inner (permits): a child that breaks away from
// inner leaves inner and middle, and stays in top. Closing each kill-on-close job in turn shows
// where it is: inner's end takes the parent (the control that a closed job reaches its
// processes), middle's takes nothing, top's takes the child.
TEST_F(JobChains, BreakawayClimbsUntilAJobForbidsIt) {
  claim("job.breakaway-chain");
  auto top = sys().create_job(JobOptions{.kill_on_close = true});
  auto middle = sys().create_job(JobOptions{.kill_on_close = true, .breakaway_ok = true});
  auto inner = sys().create_job(JobOptions{.kill_on_close = true, .breakaway_ok = true});
  auto leave = sys().create_event("chain-child-leaves");
  // CREATE_BREAKAWAY_FROM_JOB is asked of inner, which permits it.
  auto started = nested_parent_and_child("spawn-breakaway", top, {middle, inner}, leave);
  ASSERT_TRUE(started);
  auto [a, child] = *started;
  sys().close(inner);
  ASSERT_TRUE(ends(a.process, "the parent, whose immediate job was closed"));
  EXPECT_TRUE(still_running(child, kSpareWatch)) << "the child that broke away was still in the immediate job";
  sys().close(middle);
  EXPECT_TRUE(still_running(child, kSpareWatch)) << "the child did not break away from the middle job, which permits it";
  sys().close(top);
  EXPECT_TRUE(ends(child, "the child, once the job that forbids breakaway is closed"))
      << "the child broke away from the top job too, which does not permit it";
  reap_escaped(child, leave.handle);
}

// outer permits silent breakaway, inner (its child, the parent's immediate job) does not: a plain
// child of the parent stays in inner and dies with it.
TEST_F(JobChains, ImmediateJobThatForbidsBreakawayKeepsTheChild) {
  claim("job.breakaway-chain");
  auto outer = sys().create_job(JobOptions{.kill_on_close = true, .silent_breakaway_ok = true});
  auto inner = sys().create_job(JobOptions{.kill_on_close = true});
  auto leave = sys().create_event("chain-child-leaves");
  auto started = nested_parent_and_child("spawn", outer, {inner}, leave);
  ASSERT_TRUE(started);
  auto [a, child] = *started;
  sys().close(inner);
  ASSERT_TRUE(ends(a.process, "the parent, whose immediate job was closed"));
  EXPECT_TRUE(ends(child, "the child, born in the immediate job"))
      << "the child left its immediate job, which does not permit breakaway, because a parent job does";
  reap_escaped(child, leave.handle);
}

// outer > left, outer > right; a is in outer only, b in left, c in right. Terminating left ends b
// alone; terminating outer then ends a, and c in its child job.
TEST_F(JobChains, TerminatingAJobEndsItsChildJobsNotItsParent) {
  claim("job.terminate-nested");
  auto outer = sys().create_job(JobOptions{.kill_on_close = false});
  auto left = sys().create_job(JobOptions{.kill_on_close = false});
  auto right = sys().create_job(JobOptions{.kill_on_close = false});
  const std::vector<std::string> idle{"ready", "wait-forever"};
  auto a = start_nested(idle, outer, {});
  auto b = start_nested(idle, outer, {left});
  auto c = start_nested(idle, outer, {right});
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(sys().terminate_job(left, 0x11)) << "TerminateJobObject(left) failed";
  ASSERT_TRUE(ends(b->process, "the process of the terminated child job"));  // the control
  EXPECT_EQ(hex(sys().exit_code(b->process)), hex(0x11));
  EXPECT_TRUE(still_running(a->process, kSpareWatch)) << "terminating a child job ended a process of its parent job";
  EXPECT_TRUE(still_running(c->process)) << "terminating a child job ended a process of its sibling job";
  ASSERT_TRUE(sys().terminate_job(outer, 0x22)) << "TerminateJobObject(outer) failed";
  for (auto [h, what] : {std::pair{a->process, "the process of the parent job"},
                         std::pair{c->process, "the process of the parent's other child job"}}) {
    EXPECT_TRUE(ends(h, what));
    EXPECT_EQ(hex(sys().exit_code(h)), hex(0x22)) << what;
  }
}

// outer and inner are both kill-on-close; a is in outer only, b in inner. Closing inner ends b
// (the control) and spares a; closing outer then ends a.
TEST_F(JobChains, ClosingAChildJobSparesItsParentsOtherProcesses) {
  claim("job.nested-kill-on-close");
  auto outer = sys().create_job(JobOptions{.kill_on_close = true});
  auto inner = sys().create_job(JobOptions{.kill_on_close = true});
  const std::vector<std::string> idle{"ready", "wait-forever"};
  auto a = start_nested(idle, outer, {});
  auto b = start_nested(idle, outer, {inner});
  ASSERT_TRUE(a && b);
  sys().close(inner);
  ASSERT_TRUE(ends(b->process, "the process of the closed child job"));
  EXPECT_TRUE(still_running(a->process, kSpareWatch)) << "closing a child job ended a process of its parent job";
  sys().close(outer);
  EXPECT_TRUE(ends(a->process, "the process of the closed parent job"));
}

// Only outer has a port. b, nested in inner, ends first; then a, in outer only. outer's port gets
// JOB_OBJECT_MSG_EXIT_PROCESS for both, and JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO once, last.
TEST_F(JobChains, ExitInAChildJobReachesTheParentsPort) {
  claim("job.completion-port-chain");
  auto outer = sys().create_job(JobOptions{.kill_on_close = true, .completion_port = true});
  auto inner = sys().create_job(JobOptions{.kill_on_close = false});
  auto go_a = sys().create_event("port-a-exits");
  auto go_b = sys().create_event("port-b-exits");
  auto a = start_nested({"ready", "wait-event", go_a.name, "exit-process", "5"}, outer, {});
  auto b = start_nested({"ready", "wait-event", go_b.name, "exit-process", "6"}, outer, {inner});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(sys().set_event(go_b.handle));
  ASSERT_TRUE(ends(b->process, "the process of the child job"));
  ASSERT_TRUE(sys().set_event(go_a.handle));
  ASSERT_TRUE(ends(a->process, "the process of the parent job"));
  const auto messages = sys().job_messages(outer, Deadline::in(kExitBudget));
  std::string seen;
  for (const auto& m : messages) seen += fmt::format(" {}:{}", m.message, m.pid);
  auto at = [&](JobMessage wanted) { return std::find(messages.begin(), messages.end(), wanted) - messages.begin(); };
  const auto n = static_cast<std::ptrdiff_t>(messages.size());
  const auto zero = at(JobMessage{kJobMsgActiveProcessZero, 0});
  if (zero == n) {
    note_timeout("JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO never came to the parent job's port; messages (id:pid):" + seen);
    return;
  }
  const auto exit_b = at(JobMessage{kJobMsgExitProcess, b->pid});
  const auto exit_a = at(JobMessage{kJobMsgExitProcess, a->pid});
  EXPECT_LT(exit_b, n) << "the exit of the child job's process did not reach the parent's port; messages (id:pid):"
                       << seen;
  EXPECT_LT(exit_a, n) << "no JOB_OBJECT_MSG_EXIT_PROCESS for the parent job's own process;" << seen;
  EXPECT_LT(exit_a, zero) << "ACTIVE_PROCESS_ZERO came while the parent job still had a process;" << seen;
  EXPECT_EQ(zero, n - 1) << "a message after ACTIVE_PROCESS_ZERO;" << seen;
}

}  // namespace
}  // namespace termsuite
