// The rules of the termination APIs' own pages that are calls from outside a thread:
// TerminateProcess through a handle ("TerminateProcess function", Microsoft Learn) and
// TerminateThread ("TerminateThread function"). The steps of ExitProcess, ExitThread and
// GetExitCodeThread live in model.cpp, beside the steps they change (grep the claim IDs).
#include <algorithm>

#include <fmt/format.h>

#include "termsuite/sim/model.hpp"

namespace termsuite::sim {

// terminate.needs-terminate-right: "The handle must have the PROCESS_TERMINATE access right."
// terminate.ended-access-denied: "After a process has terminated, call to TerminateProcess with
// open handles to the process fails with ERROR_ACCESS_DENIED (5) error code."
std::uint32_t Model::terminate_process_status(ObjectId id, std::uint32_t code, bool terminate_right) {
  const ProcessObj* p = process(id);
  if (!p || p->harness) return kErrorInvalidHandle;
  if (!terminate_right && !is(Mutant::terminate_ignores_access)) {
    if (is(Mutant::terminate_without_right_still_kills)) terminate_process(id, code, "TerminateProcess");
    return kErrorAccessDenied;
  }
  if (p->state == RunState::terminated && !is(Mutant::terminate_ended_succeeds)) {
    if (is(Mutant::terminate_ended_rewrites_code)) process_mut(id)->exit_code = code;
    return is(Mutant::terminate_ended_invalid_handle) ? kErrorInvalidHandle : kErrorAccessDenied;
  }
  terminate_process(id, code, "TerminateProcess");
  return 0;
}

void Model::mark_without_terminate(std::uint32_t owner_pid, std::uint64_t handle) {
  if (auto it = client_ids_.find(owner_pid); it != client_ids_.end())
    if (ProcessObj* owner = process_mut(it->second)) owner->without_terminate.insert(handle);
}

// TerminateThread: the thread runs no more code, so no DLL is told (terminate-thread.no-detach); it
// ends with the given code (terminate-thread.code), is signaled, and a mutex it owned is
// abandoned (terminate-thread.mutex-abandoned); if it was the last thread, the process ends with
// it (terminate-thread.last-thread-ends-process).
std::uint32_t Model::terminate_thread(ObjectId id, std::uint32_t code) {
  ThreadObj* t = thread_mut(id);
  if (!t) return kErrorInvalidHandle;
  // terminate-thread.ended-code-kept: the call on a thread that has ended changes nothing (the
  // kernel marks a thread terminated once, and its exit status is written as it exits: WRK
  // base/ntos/ps/psdelete.c, PspTerminateThreadByPointer and PspExitThread). It returns success.
  if (t->state != RunState::running) {
    if (t->state == RunState::terminated && is(Mutant::terminate_thread_replaces_ended_code)) t->exit_code = code;
    return 0;
  }
  ProcessObj& p = processes_.at(t->process);
  log(fmt::format("{} terminated by TerminateThread, exit code {:#x}", describe(id), code));
  if (is(Mutant::terminate_thread_runs_detach) && p.probe_loaded) emit_dllmain_call(*t, "thread-detach", false, false);
  if (is(Mutant::terminate_thread_detach_on_main) && p.probe_loaded && !p.threads.empty())
    if (const ThreadObj* main = thread(p.threads.front()); main && main->id != id && main->state == RunState::running)
      emit_dllmain_call(*main, "thread-detach", false, false);
  if (is(Mutant::terminate_thread_code_zero)) code = 0;
  if (is(Mutant::terminate_thread_ends_process)) {
    terminate_process(p.id, code, "TerminateProcess");
    return 0;
  }
  if (is(Mutant::terminated_thread_mutex_released))
    for (auto& [nid, n] : named_)
      if (n.kind == ObjectKind::mutex && n.owner == id) {
        n.owner = 0;
        signal(nid);
      }
  kill_thread(*t, code, !is(Mutant::terminated_thread_keeps_mutex));
  if (t->state != RunState::terminated) return 0;  // held by a driver: it ends when the driver lets go
  const bool others = std::any_of(p.threads.begin(), p.threads.end(), [&](ObjectId o) {
    return threads_.contains(o) && threads_.at(o).state != RunState::terminated;
  });
  if (!others && p.state == RunState::running && !is(Mutant::terminate_last_thread_keeps_process)) {
    p.state = RunState::terminating;
    p.pending_exit_code = code;
    release_windows(p, "its last thread was terminated");
    close_all_handles(p);
    maybe_finish(p);
  }
  return 0;
}

}  // namespace termsuite::sim
