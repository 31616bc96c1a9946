// The model's rules for jobs (limits, nesting, completion ports), the fatal paths a CI sees (stack
// overflow, fail-fast, abort, a top-level exception filter) and the rest of SetConsoleCtrlHandler.
// Each rule sits next to the claim ID it implements (docs/claims.json).
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "termsuite/sim/model.hpp"

namespace termsuite::sim {

namespace {
constexpr std::uint32_t kMsgActiveProcessZero = 4;     // JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO
constexpr std::uint32_t kMsgNewProcess = 6;            // JOB_OBJECT_MSG_NEW_PROCESS
constexpr std::uint32_t kMsgExitProcess = 7;           // JOB_OBJECT_MSG_EXIT_PROCESS
constexpr std::uint32_t kMsgAbnormalExitProcess = 8;   // JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS
}  // namespace

void Model::set_job_limits(ObjectId job, bool breakaway_ok, bool silent_breakaway_ok, bool port) {
  JobObj& j = jobs_.at(job);
  j.breakaway_ok = breakaway_ok;
  j.silent_breakaway_ok = silent_breakaway_ok;
  j.port = port;
}

// A job that is gone (no handle, no process left) ends the chain.
std::vector<ObjectId> Model::job_chain(ObjectId job) const {
  std::vector<ObjectId> chain;
  for (auto it = jobs_.find(job); it != jobs_.end(); it = jobs_.find(it->second.parent)) chain.push_back(it->first);
  return chain;
}

// Nested jobs: "each child job contains a subset of the processes in its parent job", so a job's
// processes are those whose job chain contains it.
std::vector<ObjectId> Model::processes_in_job(ObjectId job) const {
  std::vector<ObjectId> in;
  for (const auto& [id, p] : processes_) {
    if (p.state == RunState::terminated || p.job == 0) continue;
    const auto chain = job_chain(p.job);
    if (std::find(chain.begin(), chain.end(), job) != chain.end()) in.push_back(id);
  }
  return in;
}

// job.breakaway-denied: CREATE_BREAKAWAY_FROM_JOB needs JOB_OBJECT_LIMIT_BREAKAWAY_OK on the
// creator's immediate job; otherwise CreateProcess fails with ERROR_ACCESS_DENIED.
bool Model::breakaway_refused(const ProcessObj& creator) const {
  if (creator.job == 0 || is(Mutant::breakaway_always_allowed)) return false;
  if (is(Mutant::breakaway_checks_top_job)) return !jobs_.at(job_chain(creator.job).back()).breakaway_ok;
  return !jobs_.at(creator.job).breakaway_ok;
}

// job.breakaway: a child created with CREATE_BREAKAWAY_FROM_JOB leaves its creator's immediate job
// and each job of the parent chain that allows breakaway, up to the first that does not.
// job.silent-breakaway: with JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK the same happens without the
// flag. Otherwise the child is in its creator's job.
// job.breakaway-chain: the child climbs the chain from its creator's immediate job and stops at the
// first job that does not permit breakaway; an immediate job that does not permit it keeps the
// child, whatever its parent jobs permit.
ObjectId Model::child_job(const ProcessObj& creator, bool breakaway) const {
  if (breakaway && is(Mutant::breakaway_ignored)) return creator.job;
  const auto chain = job_chain(creator.job);
  if (breakaway && !chain.empty() && jobs_.at(chain.front()).breakaway_ok) {
    if (is(Mutant::breakaway_leaves_whole_chain)) return 0;
    if (is(Mutant::breakaway_leaves_only_immediate)) return chain.size() > 1 ? chain[1] : 0;
  }
  auto leaves = [&](const JobObj& job) {
    return (breakaway && job.breakaway_ok) ||
           (job.silent_breakaway_ok && !is(Mutant::silent_breakaway_ignored));
  };
  if (!breakaway && is(Mutant::silent_breakaway_from_parent_job)) {
    // The highest job of the chain that permits silent breakaway decides for every job below it.
    std::size_t last = chain.size();
    for (std::size_t i = 0; i < chain.size(); ++i)
      if (jobs_.at(chain[i]).silent_breakaway_ok) last = i;
    if (last != chain.size()) return last + 1 < chain.size() ? chain[last + 1] : 0;
  }
  for (ObjectId j : chain)
    if (!leaves(jobs_.at(j))) return j;
  return 0;
}

// job.completion-port: a job (and every job of its parent chain) with a completion port gets a
// message for each process that joins, JOB_OBJECT_MSG_EXIT_PROCESS with the pid of each one that
// ends (ABNORMAL_EXIT_PROCESS for an exception code), and JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO when
// its last active process has ended.
// job.completion-port-chain: the messages a nested job triggers reach the port of every job of its
// parent chain, whether the nested job has a port or not; each job counts its own active
// processes, its child jobs' included.
void Model::job_process_added(const ProcessObj& p) {
  for (ObjectId j : job_chain(p.job)) {
    JobObj& job = jobs_.at(j);
    ++job.active;
    if (job.port && (j == p.job || !is(Mutant::job_port_only_immediate_job)))
      job.messages.emplace_back(kMsgNewProcess, p.pid);
  }
}

void Model::job_process_ended(const ProcessObj& p) {
  bool immediate_empty = false;
  for (ObjectId j : job_chain(p.job)) {
    JobObj& job = jobs_.at(j);
    --job.active;
    if (j == p.job) immediate_empty = job.active == 0;
    if (!job.port || (j != p.job && is(Mutant::job_port_only_immediate_job))) continue;
    const bool abnormal = p.exit_code >= 0xC0000000u;
    const bool zero = job.active == 0 || (immediate_empty && is(Mutant::job_port_zero_per_child_job));
    if (zero && is(Mutant::job_port_zero_before_exit)) job.messages.emplace_back(kMsgActiveProcessZero, 0);
    if (!is(Mutant::job_port_reports_no_exits))
      job.messages.emplace_back(abnormal ? kMsgAbnormalExitProcess : kMsgExitProcess, p.pid);
    if (zero && !is(Mutant::job_port_zero_before_exit)) job.messages.emplace_back(kMsgActiveProcessZero, 0);
  }
}

// job.terminate-code: TerminateJobObject ends every process of the job (its child jobs' too) with
// the code given, "as if TerminateProcess were called for each process".
// job.terminate-nested: a nested job's processes are its parent jobs' too, not the other way
// round: TerminateJobObject ends the processes of the job and of its child jobs, and no other.
bool Model::terminate_job(ObjectId job, std::uint32_t code) {
  if (!jobs_.contains(job)) return false;
  const std::uint32_t used = is(Mutant::terminate_job_code_ignored) ? 1 : code;
  log(fmt::format("job {} terminated with {:#x}", job, used));
  std::vector<ObjectId> victims;
  if (is(Mutant::terminate_job_spares_child_jobs)) victims = jobs_.at(job).members;
  else if (is(Mutant::terminate_job_climbs_chain)) victims = processes_in_job(job_chain(job).back());
  else victims = processes_in_job(job);
  if (is(Mutant::terminate_job_follows_descendants)) {
    // The job taken as a process tree: every descendant of its processes, wherever it is.
    std::set<std::uint32_t> pids;
    for (ObjectId v : victims) pids.insert(processes_.at(v).pid);
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& [id, p] : processes_)
        if (!p.harness && p.state == RunState::running && pids.contains(p.parent_pid) && !pids.contains(p.pid)) {
          pids.insert(p.pid);
          victims.push_back(id);
          grew = true;
        }
    }
  }
  for (ObjectId m : victims) {
    if (is(Mutant::terminate_job_threads_code_zero))
      for (ObjectId t : processes_.at(m).threads)
        if (auto* th = thread_mut(t)) kill_thread(*th, 0);
    terminate_process(m, used, "TerminateJobObject");
  }
  return true;
}

// job.nested-kill-on-close: a process already in a job that is assigned to another, empty job
// makes the new job a child of its job (Windows 8 and later).
std::uint32_t Model::assign_to_job(ObjectId job, ObjectId process) {
  ProcessObj* p = process_mut(process);
  if (!p || !jobs_.contains(job)) return kErrorInvalidHandle;
  JobObj& j = jobs_.at(job);
  if (p->job == job) return 0;
  if (p->job != 0) {
    if (j.active != 0 || j.parent != 0) return kErrorAccessDenied;  // only an empty job nests here
    if (is(Mutant::assign_replaces_job)) {
      for (ObjectId c : job_chain(p->job)) --jobs_.at(c).active;
    } else {
      j.parent = p->job;
    }
    std::erase(jobs_.at(p->job).members, p->id);
  }
  p->job = job;
  j.members.push_back(p->id);
  ++j.active;
  if (j.port) j.messages.emplace_back(kMsgNewProcess, p->pid);
  log(fmt::format("{} assigned to job {}{}", describe(p->id), job,
                  j.parent ? fmt::format(" (nested in job {})", j.parent) : std::string()));
  return 0;
}

// The code an unhandled exception ends the process with, and the top-level filter on its way.
// fatal.stack-overflow: STATUS_STACK_OVERFLOW, as any fatal exception its own code.
// fatal.unhandled-filter: the filter set by SetUnhandledExceptionFilter is called, and when it
// returns EXCEPTION_EXECUTE_HANDLER the process ends with the exception code.
// fatal.fail-fast: __fastfail is not an exception any handler sees: no filter runs, and the
// process ends with STATUS_STACK_BUFFER_OVERRUN.
std::uint32_t Model::fatal_exit_code(ThreadObj& t, const verbs::Step& s) {
  const ProcessObj& p = processes_.at(t.process);
  std::uint32_t code = s.number;
  if (s.crash == verbs::CrashKind::StackOverflow && is(Mutant::stack_overflow_is_access_violation))
    code = verbs::kAccessViolation;
  if (s.crash == verbs::CrashKind::StackOverflow && is(Mutant::stack_overflow_is_fail_fast))
    code = verbs::kFailFast;
  if (s.crash == verbs::CrashKind::FailFast && is(Mutant::fail_fast_is_access_violation))
    code = verbs::kAccessViolation;
  const bool handlers_see_it = s.crash != verbs::CrashKind::FailFast || is(Mutant::fail_fast_calls_filter);
  if (p.unhandled_filter && handlers_see_it && !is(Mutant::unhandled_filter_not_called)) {
    emit(t, "unhandled-filter", {{"code", code}});
    if (is(Mutant::unhandled_filter_called_twice)) emit(t, "unhandled-filter", {{"code", code}});
  }
  return code;
}

// ctrl.handler-removed: SetConsoleCtrlHandler(routine, FALSE) takes the routine out of the list
// (one registration of it: the last one).
void Model::remove_ctrl_handler(ThreadObj& t, verbs::CtrlMode mode) {
  ProcessObj& p = processes_.at(t.process);
  const std::string name(verbs::ctrl_mode_name(mode));
  auto it = std::find(p.ctrl_handlers.rbegin(), p.ctrl_handlers.rend(), mode);
  if (it == p.ctrl_handlers.rend()) {
    emit(t, "error", {{"what", "SetConsoleCtrlHandler"}, {"error", kErrorInvalidParameter}, {"mode", "remove-" + name}});
    return;
  }
  if (is(Mutant::ctrl_remove_pops_last)) p.ctrl_handlers.pop_back();
  else if (is(Mutant::ctrl_remove_every_registration)) std::erase(p.ctrl_handlers, mode);
  else if (!is(Mutant::ctrl_remove_ignored)) p.ctrl_handlers.erase(std::next(it).base());
  emit(t, "ctrl-handler-removed", {{"mode", name}});
}

}  // namespace termsuite::sim
