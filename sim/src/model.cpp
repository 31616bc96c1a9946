#include "termsuite/sim/model.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace termsuite::sim {

using verbs::Op;

const std::vector<MutantInfo>& mutants() {
  static const std::vector<MutantInfo> all = {
      {Mutant::return_ignored, "return-ignored", "exit.code.return-from-main",
       "returning from main ends the process with 0, whatever main returned"},
      {Mutant::worker_exitprocess_ends_thread, "worker-exitprocess-ends-thread", "exit.code.exitprocess",
       "ExitProcess called by a worker thread ends only that thread"},
      {Mutant::terminate_code_ignored, "terminate-code-ignored", "exit.code.terminateprocess",
       "TerminateProcess ends the process with 1, whatever code it was given"},
      {Mutant::last_thread_code_zero, "last-thread-code-zero", "exit.code.last-thread",
       "when the last thread exits, the process ends with 0"},
      {Mutant::fatal_exception_exits_zero, "fatal-exception-exits-zero", "exit.code.fatal-exception",
       "an unhandled exception ends the process with 0"},
      {Mutant::still_active_reads_zero, "still-active-reads-zero", "exit.still-active",
       "GetExitCodeProcess answers 0 while the process runs"},
      {Mutant::exit_259_reads_zero, "exit-259-reads-zero", "exit.still-active-ambiguity",
       "a process that exits with 259 reports 0, so the ambiguity never shows"},
      {Mutant::signal_wakes_one_waiter, "signal-wakes-one-waiter", "signal.process-object",
       "a process object that becomes signaled releases only its first waiter"},
      {Mutant::process_object_resets, "process-object-resets", "signal.process-object",
       "a process object, once it has released its waiters, is unsignaled again (an auto-reset event)"},
      {Mutant::waiting_threads_survive, "waiting-threads-survive", "threads.terminated",
       "a thread blocked in a wait is not terminated with its process"},
      {Mutant::ended_threads_take_process_code, "ended-threads-take-process-code", "threads.terminated",
       "terminating a process rewrites the exit code of its threads that had already ended"},
      {Mutant::cancelled_io_thread_code_zero, "cancelled-io-thread-code-zero", "threads.terminated",
       "a thread released from cancelled I/O ends with 0, not the process's exit code"},
      {Mutant::children_die_with_parent, "children-die-with-parent", "children.survive",
       "terminating a process terminates its children"},
      {Mutant::orphans_reparented, "orphans-reparented", "children.survive",
       "an orphan's recorded parent id becomes the harness's once its parent dies"},
      {Mutant::children_die_with_exiting_parent, "children-die-with-exiting-parent", "children.survive",
       "a process that calls ExitProcess takes its children with it (TerminateProcess does not)"},
      {Mutant::job_close_kills_nothing, "job-close-kills-nothing", "children.job-kill-on-close",
       "closing the last handle of a kill-on-close job ends none of its processes"},
      {Mutant::driver_releases_at_once, "driver-releases-at-once", "corpse.driver-hostage",
       "a driver cancels pending I/O at once, so it never holds a dying thread"},
      {Mutant::signaled_while_thread_held, "signaled-while-thread-held", "corpse.driver-hostage",
       "the process object is signaled while a driver still holds one of its threads"},
      {Mutant::ids_freed_at_exit, "ids-freed-at-exit", "corpse.ids-unique",
       "a process's or thread's id is free again as soon as it exits, though its object remains"},
      {Mutant::thread_handle_keeps_nothing, "thread-handle-keeps-nothing", "corpse.thread-handle-keeps-process",
       "an open thread handle does not keep its process object"},
      {Mutant::dead_thread_forgets, "dead-thread-forgets", "corpse.terminated-thread-queryable",
       "a terminated thread's handle answers exit code 0 and thread id 0"},
      {Mutant::corpses_never_released, "corpses-never-released", "corpse.released",
       "a process object stays after every handle to it is closed"},
      {Mutant::handles_survive_exit, "handles-survive-exit", "handles.closed",
       "a dying process's handles stay open"},
      {Mutant::mutex_not_abandoned, "mutex-not-abandoned", "handles.closed",
       "a mutex owned by a thread that ends stays owned"},
      {Mutant::mutex_abandoned_forever, "mutex-abandoned-forever", "handles.closed",
       "an abandoned mutex answers WAIT_ABANDONED to every later waiter, not only the first"},
      {Mutant::objects_die_with_creator, "objects-die-with-creator", "objects.outlive-creator",
       "a named object goes when the process that created it ends, though others hold handles"},
      {Mutant::named_objects_linger, "named-objects-linger", "objects.die-with-last-handle",
       "a named object can still be opened by name after its last handle is closed"},
      {Mutant::pipe_read_not_cancelled, "pipe-read-not-cancelled", "io.pending-cancelled",
       "a thread blocked reading a pipe is not released when its process is terminated"},
      {Mutant::shutdown_failed_call_changes_level, "shutdown-failed-call-changes-level", "shutdown.parameters",
       "SetProcessShutdownParameters fails for a level it refuses, but stores the level all the same"},
      {Mutant::shutdown_parameters_not_kept, "shutdown-parameters-not-kept", "shutdown.parameters",
       "SetProcessShutdownParameters succeeds but GetProcessShutdownParameters still answers the defaults"},
      {Mutant::terminate_runs_detach, "terminate-runs-detach", "dll.terminate-no-detach",
       "TerminateProcess calls each DLL's entry point with DLL_PROCESS_DETACH"},
      {Mutant::exit_detach_reserved_null, "exit-detach-reserved-null", "dll.exitprocess-detach",
       "the DLL_PROCESS_DETACH of ExitProcess passes lpReserved NULL, as FreeLibrary does"},
      {Mutant::terminate_runs_handlers, "terminate-runs-handlers", "dll.terminate-no-handlers",
       "TerminateProcess runs the atexit routines and static destructors"},
      {Mutant::terminate_unwinds_threads, "terminate-unwinds-threads", "dll.terminate-no-handlers",
       "TerminateProcess unwinds each thread, running its termination handlers (__finally blocks)"},
      {Mutant::fatal_exception_kills_only_faulting_thread, "fatal-exception-other-threads-zero",
       "exit.code.fatal-exception-threads", "after an unhandled exception the other threads end with 0"},
      {Mutant::dllmain_thread_starts_at_once, "dllmain-thread-starts-at-once", "loader.threads-deferred",
       "a thread created in DllMain starts at once, without waiting for the loader lock"},
      {Mutant::dllmain_not_serialized, "dllmain-not-serialized", "loader.one-thread-in-dllmain",
       "the loader lock excludes nobody: several threads run DllMain at once"},
      {Mutant::exitprocess_ignores_loader_lock, "exitprocess-ignores-loader-lock", "loader.exitprocess-waits",
       "ExitProcess goes ahead while another thread is inside DllMain"},
      {Mutant::ctrl_handler_on_main_thread, "ctrl-handler-on-main-thread", "ctrl.handler-new-thread",
       "a console control handler runs on the process's main thread"},
      {Mutant::ctrl_default_exits_zero, "ctrl-default-exits-zero", "ctrl.default-handler-exits",
       "the default console handler ends the process with 0, not STATUS_CONTROL_C_EXIT (Wine 8.0)"},
      {Mutant::ctrl_ignore_blocks_every_event, "ctrl-ignore-blocks-every-event", "ctrl.default-handler-exits",
       "ignoring Ctrl+C ignores Ctrl+Break and CTRL_CLOSE_EVENT too (Wine 8.0's CtrlRoutine)"},
      {Mutant::ctrl_reaches_every_group, "ctrl-reaches-every-group", "ctrl.process-group",
       "GenerateConsoleCtrlEvent reaches every process of the console, whatever group it names"},
      {Mutant::ctrl_zero_reaches_own_group, "ctrl-zero-reaches-own-group", "ctrl.process-group",
       "GenerateConsoleCtrlEvent for group 0 reaches only the sender's own process group (Wine 8.0)"},
      {Mutant::ctrl_group_leader_only, "ctrl-group-leader-only", "ctrl.process-group",
       "GenerateConsoleCtrlEvent for a process group reaches its leader only, not the other members"},
      {Mutant::new_group_accepts_ctrl_c, "new-group-accepts-ctrl-c", "ctrl.process-group",
       "a CREATE_NEW_PROCESS_GROUP child starts with Ctrl+C enabled"},
      {Mutant::gui_gets_console_events, "gui-gets-console-events", "ctrl.process-group",
       "a GUI-subsystem process shares its creator's console and gets its events (Wine 8.0)"},
      {Mutant::close_event_survives_true, "close-event-survives-true", "ctrl.close-event",
       "a process whose CTRL_CLOSE_EVENT handler returns TRUE lives on"},
      {Mutant::close_handler_runs_unbounded, "close-handler-runs-unbounded", "ctrl.close-event",
       "the close timeout never fires: a CTRL_CLOSE_EVENT handler may run as long as it likes"},
      {Mutant::ignore_flag_not_inherited, "ignore-flag-not-inherited", "ctrl.process-group",
       "a child starts with Ctrl+C enabled although its creator ignores Ctrl+C"},
      {Mutant::new_console_shares_console, "new-console-shares-console", "ctrl.process-group",
       "a CREATE_NEW_CONSOLE child stays attached to its creator's console and gets its events"},
      {Mutant::handlers_first_registered_first, "handlers-first-registered-first", "ctrl.handler-new-thread",
       "console control handlers are called in the order they were registered, the first one first"},
      {Mutant::ctrl_chain_ignores_true, "ctrl-chain-ignores-true", "ctrl.handler-new-thread",
       "every console control handler is called, whatever the ones before it returned"},
      {Mutant::taskkill_force_sends_wm_close_first, "taskkill-force-sends-wm-close-first", "taskkill.force",
       "taskkill /f first asks the graceful way and waits, and only then terminates"},
      {Mutant::polite_quit_code_zero, "polite-quit-code-zero", "taskkill.gui-wm-close",
       "WM_QUIT carries 0 instead of PostQuitMessage's code, so a polite GUI exits with 0"},
      {Mutant::taskkill_graceful_escalates, "taskkill-graceful-escalates", "taskkill.gui-ignores-close",
       "taskkill without /f terminates a target that ignored WM_CLOSE"},
      {Mutant::wm_close_destroys_window, "wm-close-destroys-window", "taskkill.gui-ignores-close",
       "WM_CLOSE destroys the window whatever its window procedure does"},
      {Mutant::taskkill_graceful_terminates_windowless, "taskkill-graceful-terminates-windowless",
       "taskkill.windowless-needs-force", "taskkill without /f terminates a process that has no window"},
      {Mutant::taskkill_console_no_close_event, "taskkill-console-no-close-event", "taskkill.console-close",
       "taskkill without /f does not close the console its target created, so no CTRL_CLOSE_EVENT (Wine 8.0)"},
      {Mutant::taskkill_console_close_by_group, "taskkill-console-close-by-group", "taskkill.console-close",
       "taskkill without /f sends CTRL_CLOSE_EVENT to a console process of its own console and group, "
       "though the target owns no window (the founding article's reading)"},
      {Mutant::taskkill_force_code_zero, "taskkill-force-code-zero", "taskkill.force",
       "taskkill /f ends its target with exit code 0 instead of 1 (Wine 8.0)"},
      {Mutant::taskkill_tree_only_root, "taskkill-tree-only-root", "taskkill.tree",
       "taskkill /t ends only the process it names (Wine 8.0 has no /t)"},
      {Mutant::broadcast_reaches_one, "broadcast-reaches-one", "graceful.private-message",
       "BroadcastSystemMessage delivers to the first other top-level window only"},
      {Mutant::broadcast_reaches_sender, "broadcast-reaches-sender", "graceful.private-message",
       "BroadcastSystemMessage with BSF_IGNORECURRENTTASK reaches the sender's own windows too"},
      {Mutant::broadcast_reaches_nobody, "broadcast-reaches-nobody", "graceful.private-message",
       "BroadcastSystemMessage succeeds but reaches no window"},
      {Mutant::terminate_calls_cbt_hook, "terminate-calls-cbt-hook", "hooks.no-wh-cbt",
       "TerminateProcess calls the WH_CBT hook (HCBT_DESTROYWND) for each window it destroys"},
      {Mutant::destroy_window_calls_no_hook, "destroy-window-calls-no-hook", "hooks.no-wh-cbt",
       "DestroyWindow calls no WH_CBT hook either, so no way of ending shows one"},
      // Jobs, fatal paths, console handlers (sim/src/model_jobs.cpp).
      {Mutant::terminate_job_code_ignored, "terminate-job-code-ignored", "job.terminate-code",
       "TerminateJobObject ends the job's processes with 1, whatever code it was given"},
      {Mutant::breakaway_ignored, "breakaway-ignored", "job.breakaway",
       "CREATE_BREAKAWAY_FROM_JOB is accepted in a job that allows breakaway, but the child stays in the job"},
      {Mutant::breakaway_always_allowed, "breakaway-always-allowed", "job.breakaway-denied",
       "CREATE_BREAKAWAY_FROM_JOB succeeds in a job that does not allow breakaway"},
      {Mutant::silent_breakaway_ignored, "silent-breakaway-ignored", "job.silent-breakaway",
       "a job with JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK still takes in the children of its processes"},
      {Mutant::job_close_spares_child_jobs, "job-close-spares-child-jobs", "job.nested-kill-on-close",
       "closing a kill-on-close job ends only the processes whose immediate job it is, not its child jobs'"},
      {Mutant::job_port_reports_no_exits, "job-port-reports-no-exits", "job.completion-port",
       "a job's completion port gets no JOB_OBJECT_MSG_EXIT_PROCESS, only JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO"},
      {Mutant::stack_overflow_is_access_violation, "stack-overflow-is-access-violation", "fatal.stack-overflow",
       "a stack overflow ends the process with STATUS_ACCESS_VIOLATION"},
      {Mutant::fail_fast_calls_filter, "fail-fast-calls-filter", "fatal.fail-fast",
       "__fastfail goes through the unhandled-exception filter like any exception"},
      {Mutant::abort_runs_atexit, "abort-runs-atexit", "fatal.abort",
       "abort() runs the atexit routines, as exit() does"},
      {Mutant::unhandled_filter_not_called, "unhandled-filter-not-called", "fatal.unhandled-filter",
       "the top-level exception filter set by SetUnhandledExceptionFilter is never called"},
      {Mutant::ctrl_remove_ignored, "ctrl-remove-ignored", "ctrl.handler-removed",
       "SetConsoleCtrlHandler(handler, FALSE) succeeds but leaves the handler in the list"},
      {Mutant::ctrl_ignore_spares_handlers, "ctrl-ignore-spares-handlers", "ctrl.ignore-concerns-ctrl-c",
       "ignoring Ctrl+C skips only the default handler: the registered handlers still get Ctrl+C"},
      {Mutant::ctrl_handler_registered_once, "ctrl-handler-registered-once", "ctrl.handler-registered-twice",
       "registering a handler that is already in the list does not add it again"},
      // The termination APIs' own pages.
      {Mutant::terminate_ended_succeeds, "terminate-ended-succeeds", "terminate.ended-access-denied",
       "TerminateProcess on a process that has already ended succeeds"},
      {Mutant::terminate_ignores_access, "terminate-ignores-access", "terminate.needs-terminate-right",
       "TerminateProcess works through a handle without PROCESS_TERMINATE"},
      {Mutant::terminate_self_returns, "terminate-self-returns", "terminate.self-does-not-return",
       "TerminateProcess on the caller's own process returns, and the caller runs one more step"},
      {Mutant::terminate_self_caller_code_zero, "terminate-self-caller-code-zero", "terminate.threads-get-the-code",
       "the thread that terminates its own process ends with 0, not the code it passed"},
      {Mutant::exitprocess_sends_thread_detach, "exitprocess-sends-thread-detach", "exitprocess.no-thread-detach",
       "ExitProcess calls DLL_THREAD_DETACH for each thread it ends"},
      {Mutant::exitprocess_threads_signaled_late, "exitprocess-threads-signaled-late",
       "exitprocess.threads-signaled-before-detach",
       "ExitProcess ends the other threads only after DLL_PROCESS_DETACH, so they are unsignaled during it"},
      {Mutant::exitprocess_caller_signaled_first, "exitprocess-caller-signaled-first",
       "exitprocess.caller-signaled-after-detach",
       "the thread that calls ExitProcess is signaled before the DLLs get DLL_PROCESS_DETACH"},
      {Mutant::exitprocess_signaled_first, "exitprocess-signaled-first", "exitprocess.signaled-after-detach",
       "ExitProcess signals the process object before the DLLs get DLL_PROCESS_DETACH"},
      {Mutant::return_from_main_ends_only_main, "return-from-main-ends-only-main", "exitprocess.return-from-main",
       "returning from main ends only the main thread (ExitThread), the other threads run on"},
      {Mutant::exit_thread_no_detach, "exit-thread-no-detach", "thread-end.exit-thread-detach",
       "a thread that ends by ExitThread calls no DLL with DLL_THREAD_DETACH"},
      {Mutant::exit_thread_code_zero, "exit-thread-code-zero", "thread-end.code-replaces-still-active",
       "a thread that ends by ExitThread or by returning ends with 0, whatever its code"},
      {Mutant::thread_still_active_reads_zero, "thread-still-active-reads-zero", "thread-end.still-active-while-running",
       "GetExitCodeThread answers 0 while the thread runs"},
      {Mutant::exited_thread_not_signaled, "exited-thread-not-signaled", "thread-end.waiters-released",
       "a thread that ends by ExitThread while its process lives on is not signaled"},
      {Mutant::terminate_thread_runs_detach, "terminate-thread-runs-detach", "terminate-thread.no-detach",
       "TerminateThread calls each DLL with DLL_THREAD_DETACH on the thread's behalf"},
      {Mutant::terminate_thread_replaces_ended_code, "terminate-thread-replaces-ended-code",
       "terminate-thread.ended-code-kept",
       "TerminateThread on a thread that has already ended gives it the new exit code (Wine 8.0's rule)"},
      {Mutant::last_thread_exit_is_thread_exit, "last-thread-exit-is-thread-exit",
       "thread-end.last-thread-exit-ends-process",
       "the last thread's ExitThread is a thread's end: each DLL gets DLL_THREAD_DETACH, none DLL_PROCESS_DETACH"},
      {Mutant::terminate_thread_code_zero, "terminate-thread-code-zero", "terminate-thread.code",
       "TerminateThread ends the thread with 0, whatever code it was given"},
      {Mutant::terminate_last_thread_keeps_process, "terminate-last-thread-keeps-process",
       "terminate-thread.last-thread-ends-process", "a process whose last thread is terminated by TerminateThread lives on"},
      {Mutant::terminated_thread_keeps_mutex, "terminated-thread-keeps-mutex", "terminate-thread.mutex-abandoned",
       "a mutex owned by a thread ended by TerminateThread stays owned, not abandoned"},
      // Job chains.
      {Mutant::terminate_job_spares_child_jobs, "terminate-job-spares-child-jobs", "job.terminate-nested",
       "TerminateJobObject ends only the processes whose immediate job it is, not its child jobs' processes"},
      {Mutant::terminate_job_climbs_chain, "terminate-job-climbs-chain", "job.terminate-nested",
       "TerminateJobObject on a child job ends every process of the top job of its chain (the chain taken as one job)"},
      {Mutant::terminate_job_follows_descendants, "terminate-job-follows-descendants", "job.breakaway",
       "TerminateJobObject ends the descendants of the job's processes, a child that broke away included"},
      {Mutant::breakaway_leaves_whole_chain, "breakaway-leaves-whole-chain", "job.breakaway-chain",
       "a child that breaks away leaves every job of the chain, past a parent job that does not permit breakaway"},
      {Mutant::breakaway_leaves_only_immediate, "breakaway-leaves-only-immediate", "job.breakaway-chain",
       "a child that breaks away leaves only the immediate job, though the parent job permits breakaway too"},
      {Mutant::breakaway_checks_top_job, "breakaway-checks-top-job", "job.breakaway-chain",
       "CREATE_BREAKAWAY_FROM_JOB is allowed or refused by the top job of the chain, not the immediate job"},
      {Mutant::silent_breakaway_from_parent_job, "silent-breakaway-from-parent-job", "job.breakaway-chain",
       "a parent job's JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK lets a child leave though its immediate job does not allow it"},
      {Mutant::job_close_kills_parent_chain, "job-close-kills-parent-chain", "job.nested-kill-on-close",
       "closing a nested kill-on-close job ends the processes of its parent jobs too"},
      {Mutant::job_port_only_immediate_job, "job-port-only-immediate-job", "job.completion-port-chain",
       "a nested job's messages reach only its own completion port, not its parent jobs' ports"},
      {Mutant::job_port_zero_per_child_job, "job-port-zero-per-child-job", "job.completion-port-chain",
       "a parent job's port gets JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO when a child job's last process ends, "
       "though the parent job still has processes"},
      // A thread's end and its DllMain calls.
      {Mutant::exit_thread_detach_on_main_thread, "exit-thread-detach-on-main-thread", "thread-end.exit-thread-detach",
       "the DLL_THREAD_DETACH of a thread that calls ExitThread runs on the main thread, on its behalf"},
      {Mutant::exit_thread_detach_every_thread, "exit-thread-detach-every-thread", "thread-end.exit-thread-detach",
       "a thread's ExitThread calls DLL_THREAD_DETACH on every live thread of the process"},
      {Mutant::exit_thread_sends_process_detach, "exit-thread-sends-process-detach", "thread-end.exit-thread-detach",
       "a thread that ends by ExitThread, not the last, also calls each DLL with DLL_PROCESS_DETACH"},
      {Mutant::exit_thread_detach_twice, "exit-thread-detach-twice", "thread-end.exit-thread-detach",
       "a thread that ends by ExitThread calls each DLL with DLL_THREAD_DETACH twice"},
      {Mutant::thread_return_no_detach, "thread-return-no-detach", "thread-end.exit-thread-detach",
       "a thread whose procedure returns calls no DLL with DLL_THREAD_DETACH (only an explicit ExitThread does)"},
      {Mutant::thread_return_code_zero, "thread-return-code-zero", "thread-end.code-replaces-still-active",
       "a thread whose procedure returns N ends with 0 (an explicit ExitThread keeps its code)"},
      {Mutant::exitprocess_detach_on_helper_thread, "exitprocess-detach-on-helper-thread",
       "exitprocess.caller-signaled-after-detach",
       "ExitProcess runs DLL_PROCESS_DETACH on a thread it starts for it, while the calling thread waits"},
      {Mutant::exitprocess_caller_gets_thread_detach, "exitprocess-caller-gets-thread-detach",
       "exitprocess.caller-signaled-after-detach",
       "the thread that calls ExitProcess gets DLL_THREAD_DETACH before the DLLs get DLL_PROCESS_DETACH"},
      {Mutant::worker_exitprocess_detach_on_main, "worker-exitprocess-detach-on-main",
       "exitprocess.caller-signaled-after-detach",
       "when a worker calls ExitProcess, DLL_PROCESS_DETACH runs on the main thread and the worker is ended first"},
      {Mutant::exitprocess_detach_per_thread, "exitprocess-detach-per-thread", "exitprocess.no-thread-detach",
       "ExitProcess calls DLL_PROCESS_DETACH once on each thread it ends, as well as on the caller"},
      {Mutant::terminate_thread_detach_on_main, "terminate-thread-detach-on-main", "terminate-thread.no-detach",
       "TerminateThread has the main thread call each DLL with DLL_THREAD_DETACH on the ended thread's behalf"},
      // The rest of the termination APIs' pages, fatal paths and console handlers.
      {Mutant::terminate_ended_rewrites_code, "terminate-ended-rewrites-code", "terminate.ended-access-denied",
       "TerminateProcess on an ended process fails with ERROR_ACCESS_DENIED but rewrites its exit code"},
      {Mutant::terminate_without_right_still_kills, "terminate-without-right-still-kills",
       "terminate.needs-terminate-right",
       "TerminateProcess through a handle without PROCESS_TERMINATE fails, but the process is ended all the same"},
      {Mutant::terminate_self_others_code_zero, "terminate-self-others-code-zero", "terminate.threads-get-the-code",
       "when a thread terminates its own process, the other threads end with 0"},
      {Mutant::unhandled_filter_called_twice, "unhandled-filter-called-twice", "fatal.unhandled-filter",
       "the top-level exception filter is called twice for one exception (first and second chance)"},
      {Mutant::fail_fast_is_access_violation, "fail-fast-is-access-violation", "fatal.fail-fast",
       "__fastfail ends the process with STATUS_ACCESS_VIOLATION (a system without native fast fail)"},
      {Mutant::stack_overflow_ends_the_thread, "stack-overflow-ends-the-thread", "fatal.stack-overflow",
       "an unhandled stack overflow ends only the faulting thread, with exit code 0; the process ends only with its "
       "last thread (Wine 8.0's rule)"},
      {Mutant::stack_overflow_is_fail_fast, "stack-overflow-is-fail-fast", "fatal.stack-overflow",
       "a stack overflow ends the process with STATUS_STACK_BUFFER_OVERRUN, as if the runtime failed fast"},
      {Mutant::ctrl_remove_every_registration, "ctrl-remove-every-registration", "ctrl.handler-registered-twice",
       "SetConsoleCtrlHandler(handler, FALSE) removes every registration of the routine, not one"},
      {Mutant::ctrl_remove_pops_last, "ctrl-remove-pops-last", "ctrl.handler-removed",
       "SetConsoleCtrlHandler(handler, FALSE) removes the last registered handler, whichever routine it names"},
      {Mutant::terminate_ended_invalid_handle, "terminate-ended-invalid-handle", "terminate.ended-access-denied",
       "TerminateProcess on an ended process fails with ERROR_INVALID_HANDLE instead of ERROR_ACCESS_DENIED"},
      {Mutant::exitprocess_threads_code_zero, "exitprocess-threads-code-zero", "exitprocess.threads-signaled-before-detach",
       "the threads ExitProcess ends before DLL_PROCESS_DETACH end with 0, not the exit code"},
      {Mutant::thread_still_active_after_end, "thread-still-active-after-end", "thread-end.code-replaces-still-active",
       "GetExitCodeThread still answers STILL_ACTIVE after a thread has ended while its process runs on"},
      {Mutant::exited_thread_wakes_one_waiter, "exited-thread-wakes-one-waiter", "thread-end.waiters-released",
       "a thread that ends by ExitThread releases only the first thread waiting on it"},
      {Mutant::terminate_thread_ends_process, "terminate-thread-ends-process", "terminate-thread.code",
       "TerminateThread ends the whole process with the code, not only the thread"},
      {Mutant::terminated_thread_mutex_released, "terminated-thread-mutex-released", "terminate-thread.mutex-abandoned",
       "a mutex owned by a thread ended by TerminateThread is released as if ReleaseMutex ran: WAIT_OBJECT_0, not WAIT_ABANDONED"},
      {Mutant::terminate_job_threads_code_zero, "terminate-job-threads-code-zero", "job.terminate-code",
       "TerminateJobObject gives its code to the processes but ends their threads with 0"},
      {Mutant::assign_replaces_job, "assign-replaces-job", "job.nested-kill-on-close",
       "assigning a process that is in a job to another job moves it there: no nesting, it leaves the first job"},
      {Mutant::job_port_zero_before_exit, "job-port-zero-before-exit", "job.completion-port",
       "JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO is posted before the JOB_OBJECT_MSG_EXIT_PROCESS of the last process"},
      {Mutant::breakaway_denied_wrong_error, "breakaway-denied-wrong-error", "job.breakaway-denied",
       "CREATE_BREAKAWAY_FROM_JOB in a job that does not allow it fails with ERROR_INVALID_PARAMETER"},
  };
  return all;
}

std::optional<Mutant> find_mutant(std::string_view name) {
  if (name.empty() || name == "none") return Mutant::none;
  for (const auto& m : mutants())
    if (m.name == name) return m.id;
  return std::nullopt;
}

std::string_view to_string(RunState s) {
  switch (s) {
    case RunState::running: return "running";
    case RunState::terminating: return "terminating";
    case RunState::terminated: return "terminated";
  }
  return "?";
}

// ------------------------------------------------------------------------------------------
Model::Model(Mutant mutant) : mutant_(mutant) {
  ProcessObj h;
  h.id = next_object_++;
  h.pid = allocate_client_id();
  h.image = "harness";
  h.harness = true;
  h.group = h.pid;  // the harness leads its own process group
  client_ids_[h.pid] = h.id;
  harness_ = h.id;
  processes_[h.id] = std::move(h);
}

std::uint32_t Model::harness_pid() const { return processes_.at(harness_).pid; }

// corpse.ids-unique: a process or thread id is reserved for as long as its object exists; ids
// are handed out lowest-first (multiples of 4, as on Windows), so reuse happens as soon as the
// rules allow it, and a held id is never handed out.
std::uint32_t Model::allocate_client_id() {
  for (std::uint32_t id = 100;; id += 4)
    if (!client_ids_.contains(id)) return id;
}

void Model::log(std::string text) { trace_.push_back({now_, std::move(text)}); }

int Model::new_channel() {
  channels_.emplace_back();
  return static_cast<int>(channels_.size() - 1);
}

const std::vector<Event>& Model::channel(int c) const {
  static const std::vector<Event> none;
  return c >= 0 && static_cast<std::size_t>(c) < channels_.size() ? channels_[static_cast<std::size_t>(c)] : none;
}

void Model::emit(const ThreadObj& t, std::string_view ev, nlohmann::json fields) {
  auto& p = processes_.at(t.process);
  if (p.channel < 0) return;
  nlohmann::json j = {{"v", 1}, {"pid", p.pid}, {"tid", t.tid}, {"seq", p.seq}, {"ev", std::string(ev)}};
  for (auto& [k, v] : fields.items()) j[k] = v;
  Event e = parse_record(j.dump());
  ++p.seq;
  channels_[static_cast<std::size_t>(p.channel)].push_back(std::move(e));
  log(fmt::format("{} reports {}{}", describe(t.id), ev, fields.empty() ? "" : " " + fields.dump()));
}

void Model::emit_dllmain_call(const ThreadObj& t, std::string_view reason, bool reserved, bool shutdown) {
  emit(t, "dllmain", {{"reason", std::string(reason)}, {"reserved", reserved ? "non-null" : "null"}, {"shutdown", shutdown}});
  emit(t, "dllmain-return", {{"reason", std::string(reason)}, {"inside", 1}});
}

std::uint64_t Model::add_handle(ProcessObj& owner, ObjectId target) {
  std::uint64_t h = owner.next_handle;
  owner.next_handle += 4;
  owner.handles[h] = target;
  return h;
}

ObjectId Model::new_thread(ProcessObj& p, const verbs::Block* code, bool main) {
  ThreadObj t;
  t.id = next_object_++;
  t.tid = allocate_client_id();
  t.process = p.id;
  t.code = code;
  t.main = main;
  t.started = !main;
  t.created_at = now_;
  client_ids_[t.tid] = t.id;
  p.threads.push_back(t.id);
  auto id = t.id;
  threads_[id] = std::move(t);
  return id;
}

// ------------------------------------------------------------------------------------------
// Creation

Model::Created Model::create_process(std::uint32_t creator_pid, const std::vector<std::string>& argv, ObjectId job,
                                     int channel, CreateOptions options) {
  auto creator_it = client_ids_.find(creator_pid);
  if (creator_it == client_ids_.end() || !processes_.contains(creator_it->second))
    throw std::logic_error("create_process: no such creator");
  ProcessObj& creator = processes_.at(creator_it->second);
  ProcessObj p;
  p.id = next_object_++;
  p.pid = allocate_client_id();
  p.created_at = now_;
  client_ids_[p.pid] = p.id;
  p.parent_pid = creator.pid;
  p.image_kind = options.image;
  p.image = options.image == Image::gui ? "actor-gui" : "actor-console";
  p.channel = channel;
  // job.breakaway, job.silent-breakaway: a child is in its creator's job unless it breaks away.
  p.job = job ? job : child_job(creator, options.breakaway);
  // ctrl.process-group: a process inherits its creator's process group, unless it is created
  // with CREATE_NEW_PROCESS_GROUP: then it leads a new one (group id = its pid) and starts with
  // Ctrl+C ignored. Otherwise it inherits its creator's Ctrl+C ignore flag.
  p.group = options.new_group ? p.pid : creator.group;
  p.ignore_ctrl_c = options.new_group ? !is(Mutant::new_group_accepts_ctrl_c)
                                       : creator.ignore_ctrl_c && !is(Mutant::ignore_flag_not_inherited);
  // ctrl.process-group: a console process shares its creator's console, unless it is created
  // with CREATE_NEW_CONSOLE or its creator has none: then it gets a new console. A GUI-subsystem
  // process has no console (so no console event reaches it).
  if (options.image == Image::console)
    p.console = (options.new_console && !is(Mutant::new_console_shares_console)) || creator.console == 0
                    ? 0
                    : creator.console;
  else if (is(Mutant::gui_gets_console_events))
    p.console = creator.console;
  const bool needs_console = options.image == Image::console && p.console == 0;
  auto program = std::make_shared<verbs::Block>();
  auto gui_program = std::make_shared<gui_verbs::Program>();
  std::optional<std::string> usage;
  try {
    if (options.image == Image::gui) *gui_program = gui_verbs::parse(argv);
    else *program = verbs::parse(argv);
  } catch (const verbs::UsageError& e) {
    usage = e.message;
    program->clear();
  } catch (const gui_verbs::UsageError& e) {
    usage = e.message;
    gui_program->clear();
  }
  p.program = program;
  if (options.image == Image::gui) p.gui_program = gui_program;
  auto pid = p.id;
  processes_[pid] = std::move(p);
  ProcessObj& np = processes_.at(pid);
  if (needs_console) np.console = new_console(np.id);
  ObjectId main = new_thread(np, options.image == Image::gui ? nullptr : program.get(), true);
  if (options.image == Image::gui) threads_.at(main).gui_code = gui_program.get();
  if (np.job) jobs_.at(np.job).members.push_back(pid);
  job_process_added(np);
  Created c;
  c.pid = np.pid;
  c.tid = threads_.at(main).tid;
  ProcessObj& cr = processes_.at(creator_it->second);
  c.process_handle = add_handle(cr, pid);
  c.thread_handle = add_handle(cr, main);
  log(fmt::format("{} created by {} (parent id {}){}, group {}{}", describe(pid), describe(cr.id), cr.pid,
                  np.job ? fmt::format(", in job {}", np.job) : std::string(), np.group,
                  np.console ? fmt::format(", console {}", np.console) : std::string()));
  if (usage) {
    ThreadObj& t = threads_.at(main);
    t.started = true;
    emit(t, "start", {{"ppid", np.parent_pid}, {"main_tid", t.tid}});
    emit(t, "usage-error", {{"message", *usage}});
    exit_process(processes_.at(pid), kUsageErrorExitCode, "usage error");
  }
  return c;  // the caller runs the scheduler
}

ObjectId Model::create_job(std::uint32_t owner_pid, bool kill_on_close, std::uint64_t* handle) {
  JobObj j;
  j.id = next_object_++;
  j.kill_on_close = kill_on_close;
  auto id = j.id;
  jobs_[id] = std::move(j);
  auto& owner = processes_.at(client_ids_.at(owner_pid));
  auto h = add_handle(owner, id);
  if (handle) *handle = h;
  log(fmt::format("job {} created{}", id, kill_on_close ? " (kill on close)" : ""));
  return id;
}

ObjectId Model::create_named(ProcessObj& creator, ObjectKind kind, std::string name, std::uint64_t* handle) {
  NamedObj n;
  n.id = next_object_++;
  n.kind = kind;
  n.name = std::move(name);
  n.creator = creator.pid;
  auto id = n.id;
  named_[id] = std::move(n);
  log(fmt::format("{} created by {}", describe(id), describe(creator.id)));
  auto h = add_handle(creator, id);
  if (handle) *handle = h;
  return id;
}

ObjectId Model::create_event(std::uint32_t owner_pid, std::string name, std::uint64_t* handle) {
  return create_named(processes_.at(client_ids_.at(owner_pid)), ObjectKind::event, std::move(name), handle);
}

std::optional<std::uint64_t> Model::open_named(std::uint32_t owner_pid, ObjectKind kind, std::string_view name,
                                               std::uint32_t* error) {
  for (const auto& [id, n] : named_)
    if (n.kind == kind && n.name == name) return add_handle(processes_.at(client_ids_.at(owner_pid)), id);
  if (error) *error = 2;  // ERROR_FILE_NOT_FOUND
  return std::nullopt;
}

ObjectId Model::create_pipe(std::uint32_t owner_pid, std::string name, bool harness_reads, std::uint64_t* handle) {
  PipeObj pp;
  pp.id = next_object_++;
  pp.name = std::move(name);
  pp.harness_reads = harness_reads;
  auto id = pp.id;
  pipes_[id] = std::move(pp);
  auto h = add_handle(processes_.at(client_ids_.at(owner_pid)), id);
  if (handle) *handle = h;
  return id;
}

PipeObj* Model::find_pipe(std::string_view name, bool harness_reads) {
  for (auto& [id, pp] : pipes_)
    if (pp.name == name && pp.harness_reads == harness_reads && !pp.connected) return &pp;
  return nullptr;
}

// handles.closed: the client end of a pipe is gone once its last handle is (the dying process's
// handles are closed), and then the server sees the pipe broken.
bool Model::pipe_broken(ObjectId id) const {
  const auto* pp = pipe(id);
  return pp && pp->connected && (!named_.contains(pp->client) || handle_count(pp->client) == 0);
}

bool Model::pipe_connected(ObjectId id) const {
  const auto* pp = pipe(id);
  return pp && pp->connected;
}

std::pair<bool, bool> Model::take_mutex(ObjectId id, ObjectId who) {
  auto it = named_.find(id);
  if (it == named_.end() || it->second.kind != ObjectKind::mutex || it->second.owner != 0) return {false, false};
  it->second.owner = who;
  bool abandoned = is(Mutant::mutex_abandoned_forever) ? it->second.abandoned
                                                              : std::exchange(it->second.abandoned, false);
  return {true, abandoned};
}

bool Model::release_mutex(ObjectId id, ObjectId who) {
  auto it = named_.find(id);
  if (it == named_.end() || it->second.kind != ObjectKind::mutex || it->second.owner != who) return false;
  it->second.owner = 0;
  signal(id);
  return true;
}

// handles.closed: a mutex its owner did not release is abandoned when the owner ends; the next
// waiter gets it, with WAIT_ABANDONED.
void Model::abandon_mutexes(const ThreadObj& t) {
  if (is(Mutant::mutex_not_abandoned)) return;
  for (auto& [id, n] : named_)
    if (n.kind == ObjectKind::mutex && n.owner == t.id) {
      n.owner = 0;
      n.abandoned = true;
      log(fmt::format("{} abandoned by {}", describe(id), describe(t.id)));
      signal(id);
    }
}

// shutdown.parameters: levels 0x100-0x4FF are the applications' range (0x280 by default);
// flags are 0 or SHUTDOWN_NORETRY. Anything else fails with ERROR_INVALID_PARAMETER.
std::uint32_t Model::set_shutdown_parameters(std::uint32_t level, std::uint32_t flags) {
  // The documentation gives levels 0x000-0x4FF (0x100-0x3FF for applications) and one flag,
  // SHUTDOWN_NORETRY, and names no error. What a platform does outside that range is recorded by
  // the suite, not asserted; the model refuses it, and a refused call changes nothing.
  const bool valid = level <= 0x4FF && (flags & ~1u) == 0;
  if (!valid) {
    if (is(Mutant::shutdown_failed_call_changes_level)) shutdown_level_ = level;
    return kErrorInvalidParameter;
  }
  if (is(Mutant::shutdown_parameters_not_kept)) return 0;
  shutdown_level_ = level;
  shutdown_flags_ = flags;
  return 0;
}

std::pair<std::uint32_t, std::uint32_t> Model::shutdown_parameters() const { return {shutdown_level_, shutdown_flags_}; }

bool Model::set_event(ObjectId id) {
  auto it = named_.find(id);
  if (it == named_.end()) return false;
  log(fmt::format("event '{}' set", it->second.name));
  it->second.signaled = true;
  signal(id);
  return true;
}

// ------------------------------------------------------------------------------------------
// Ending threads and processes

// exit.code.last-thread: when the last thread of a process exits, the process ends, and its
// exit code is that thread's.
void Model::exit_thread(ThreadObj& t, std::uint32_t code) {
  ProcessObj& p = processes_.at(t.process);
  t.state = RunState::terminated;
  // thread-end.code-replaces-still-active: its code replaces STILL_ACTIVE; thread-end.waiters-released:
  // it is signaled, releasing every waiter.
  t.exit_code = is(Mutant::exit_thread_code_zero) ? 0 : code;
  t.exited_at = now_;
  t.blocked = ThreadObj::Block::none;
  abandon_mutexes(t);
  if (is(Mutant::ids_freed_at_exit)) client_ids_.erase(t.tid);
  log(fmt::format("{} exits with {:#x}", describe(t.id), code));
  if (is(Mutant::exited_thread_wakes_one_waiter)) {
    t.signaled = true;
    for (auto& [wid, w] : waiters_)
      if (w.object == t.id && !w.released) {
        w.released = true;
        break;
      }
  } else if (!is(Mutant::exited_thread_not_signaled)) {
    signal(t.id);
  }
  bool others = std::any_of(p.threads.begin(), p.threads.end(),
                            [&](ObjectId o) { return threads_.contains(o) && threads_.at(o).state != RunState::terminated; });
  if (!others && p.state == RunState::running) {
    p.state = RunState::terminating;
    p.pending_exit_code = is(Mutant::last_thread_code_zero) ? 0 : code;
    release_windows(p, "its last thread exited");
    close_all_handles(p);
    maybe_finish(p);
  }
}

// exit.code.exitprocess: ExitProcess(n), from any thread, ends the process with n; every
// other thread ends with the same code.
void Model::exit_process(ProcessObj& p, std::uint32_t code, std::string_view how) {
  log(fmt::format("{} ends: {} {:#x}", describe(p.id), how, code));
  terminate_process(p.id, code, how);
}

// threads.terminated: every remaining thread is terminated with the process's exit code,
// threads blocked in a wait included. A thread with I/O pending cannot go until the driver has
// cancelled the request (corpse.driver-hostage; Raymond Chen, "Why do some process stay in Task Manager after they've been killed?").
void Model::kill_thread(ThreadObj& t, std::uint32_t code, bool abandon) {
  if (t.state != RunState::running) return;
  if (is(Mutant::waiting_threads_survive) &&
      (t.blocked == ThreadObj::Block::object || t.blocked == ThreadObj::Block::forever))
    return;
  if (t.irp_pending) {
    t.state = RunState::terminating;
    t.pending_exit_code = is(Mutant::cancelled_io_thread_code_zero) ? 0 : code;
    abandon_mutexes(t);
    std::optional<std::uint64_t> delay = t.irp_cancel_ms;
    if (t.irp_driver) delay = is(Mutant::driver_releases_at_once) ? 0 : driver_cancel_ms_;
    if (!delay) {
      log(fmt::format("{} stays blocked in I/O that is never cancelled", describe(t.id)));
      return;
    }
    t.irp_release_at = now_ + *delay;
    log(fmt::format("{} is held by the driver while it cancels the pending I/O ({} ms)", describe(t.id), *delay));
    return;
  }
  t.state = RunState::terminated;
  t.exit_code = code;
  t.exited_at = now_;
  t.blocked = ThreadObj::Block::none;
  if (abandon) abandon_mutexes(t);
  if (is(Mutant::ids_freed_at_exit)) client_ids_.erase(t.tid);
  t.micros.clear();
  t.wake_at.reset();
  t.queue.clear();
  t.pump = ThreadObj::Pump::none;
  t.send = {};
  if (t.waiter) remove_waiter(t.waiter), t.waiter = 0;
  ProcessObj& p = processes_.at(t.process);
  if (p.loader_owner == t.id) p.loader_owner = 0, p.loader_depth = 0;
  signal(t.id);
}

// exit.code.terminateprocess: TerminateProcess(h, n) ends the process with n.
bool Model::terminate_process(ObjectId id, std::uint32_t code, std::string_view why) {
  ProcessObj* p = process_mut(id);
  if (!p || p->harness) return false;
  if (p->state != RunState::running) return true;
  if (is(Mutant::terminate_code_ignored) && why == "TerminateProcess") code = 1;
  if (why == "TerminateProcess" && !p->threads.empty() && threads_.contains(p->threads.front())) {
    // dll.terminate-no-detach, dll.terminate-no-handlers: TerminateProcess runs no code in the
    // process: no DLL is told, no handler runs. (Only the mutants do.)
    const ThreadObj& main = threads_.at(p->threads.front());
    if (is(Mutant::terminate_runs_detach) && p->probe_loaded)
      emit(main, "dllmain", {{"reason", "process-detach"}, {"reserved", "non-null"}, {"shutdown", true}});
    if (is(Mutant::terminate_runs_handlers) && p->atexit_registered) emit(main, "atexit-ran");
    if (is(Mutant::terminate_unwinds_threads))
      for (ObjectId o : p->threads)
        if (auto* th = thread_mut(o); th && th->state == RunState::running && th->guarded) {
          emit(*th, "finally-ran", {{"how", "unwind"}});
          th->guarded = false;
        }
    // hooks.no-wh-cbt: the windows TerminateProcess destroys call no WH_CBT hook. (Only the mutant
    // does, on the hooked thread's behalf.)
    if (is(Mutant::terminate_calls_cbt_hook))
      for (std::uint64_t hwnd : top_level_windows(p->id))
        if (const auto* owner = thread(windows_.at(hwnd).thread); owner && owner->cbt_hook) cbt(*owner, 4, hwnd);
  }
  p->state = RunState::terminating;
  p->pending_exit_code = code;
  log(fmt::format("{} terminating ({}), exit code {:#x}", describe(id), why, code));
  const bool fault = why == "unhandled exception";
  for (ObjectId t : p->threads)
    if (auto* th = thread_mut(t); th && th->state == RunState::terminated && is(Mutant::ended_threads_take_process_code))
      th->exit_code = code;
  for (ObjectId t : p->threads)
    if (auto* th = thread_mut(t))
      kill_thread(*th, fault && is(Mutant::fatal_exception_kills_only_faulting_thread) && th->blocked != ThreadObj::Block::none ? 0 : code);
  release_windows(*p, why);
  // handles.closed: the dying process's handles are closed.
  close_all_handles(*p);
  // children.survive: terminating a process does not terminate its children.
  if (is(Mutant::children_die_with_parent) || (is(Mutant::children_die_with_exiting_parent) && why == "ExitProcess")) {
    std::vector<ObjectId> children;
    for (auto& [cid, c] : processes_)
      if (c.parent_pid == p->pid && c.state == RunState::running && !c.harness) children.push_back(cid);
    for (auto c : children) terminate_process(c, code, "parent ended");
  }
  maybe_finish(*p);  // map nodes are stable, and a terminating process is never collected
  return true;
}

// signal.process-object: a process ends (exit code set, object signaled) once every thread has
// ended.
void Model::maybe_finish(ProcessObj& p) {
  if (p.state == RunState::terminated) return;
  bool held = std::any_of(p.threads.begin(), p.threads.end(),
                          [&](ObjectId o) { return threads_.contains(o) && threads_.at(o).state != RunState::terminated; });
  if (held) {
    if (is(Mutant::signaled_while_thread_held) && p.state == RunState::terminating && !p.signaled) {
      p.exit_code = p.pending_exit_code;
      signal(p.id);
    }
    return;
  }
  p.state = RunState::terminated;
  p.exit_code = p.pending_exit_code;
  if (is(Mutant::ids_freed_at_exit)) client_ids_.erase(p.pid);
  if (p.job) std::erase(jobs_.at(p.job).members, p.id);
  log(fmt::format("{} has ended with {:#x}", describe(p.id), p.exit_code));
  job_process_ended(p);
  if (!p.signaled) signal(p.id);
  collect();
}

// Releases the object's waiters (every one of them: signal.process-object).
void Model::signal(ObjectId id) {
  if (auto* p = process_mut(id)) p->signaled = true;
  if (auto* t = thread_mut(id)) t->signaled = true;
  if (auto e = named_.find(id); e != named_.end()) e->second.signaled = true;
  for (auto& [wid, w] : waiters_) {
    if (w.object != id || w.released) continue;
    w.released = true;
    if (is(Mutant::signal_wakes_one_waiter)) break;
  }
  if (auto* p = process_mut(id); p && is(Mutant::process_object_resets)) p->signaled = false;
}

void Model::close_all_handles(ProcessObj& p) {
  if (is(Mutant::handles_survive_exit)) return;
  while (!p.handles.empty()) close_handle(p.pid, p.handles.begin()->first);
}

bool Model::close_handle(std::uint32_t owner_pid, std::uint64_t handle) {
  auto it = client_ids_.find(owner_pid);
  if (it == client_ids_.end()) return false;
  ProcessObj* owner = process_mut(it->second);
  if (!owner) return false;
  auto h = owner->handles.find(handle);
  if (h == owner->handles.end()) return false;
  ObjectId target = h->second;
  owner->handles.erase(h);
  if (auto j = jobs_.find(target); j != jobs_.end() && handle_count(target) == 0) job_handle_closed(j->second);
  collect();
  return true;
}

// children.job-kill-on-close: closing the last handle of a job with KILL_ON_JOB_CLOSE
// terminates every process in it.
void Model::job_handle_closed(JobObj& j) {
  j.closed = true;
  if (!j.kill_on_close || is(Mutant::job_close_kills_nothing)) return;
  log(fmt::format("job {}: last handle closed, killing its processes", j.id));
  // job.nested-kill-on-close: the processes of its child jobs are its processes too (and its parent
  // jobs' other processes are not).
  auto members = is(Mutant::job_close_spares_child_jobs)    ? j.members
                 : is(Mutant::job_close_kills_parent_chain) ? processes_in_job(job_chain(j.id).back())
                                                                   : processes_in_job(j.id);
  for (ObjectId m : members) terminate_process(m, 0, "job closed");
}

// ------------------------------------------------------------------------------------------
// Lifetime: an object exists while something keeps it (corpse.*, objects.*).

int Model::handle_count(ObjectId id) const {
  int n = 0;
  for (const auto& [pid, p] : processes_)
    for (const auto& [h, target] : p.handles) n += target == id;
  return n;
}

Model::HandleIndex Model::handle_index() const {
  HandleIndex index;
  for (const auto& [oid, p] : processes_)
    for (const auto& [h, target] : p.handles) index[target].emplace_back(oid, h);
  return index;
}

std::vector<Keeper> Model::keepers(ObjectId id) const { return keepers(id, handle_index()); }

std::vector<Keeper> Model::keepers(ObjectId id, const HandleIndex& index) const {
  std::vector<Keeper> k;
  auto handles = [&] {
    if (auto it = index.find(id); it != index.end())
      for (const auto& [oid, h] : it->second) k.push_back({fmt::format("handle {:#x} in {}", h, describe(oid)), 0});
  };
  if (const auto* p = process(id)) {
    // corpse.released: once every handle is closed and every thread object is gone, the
    // process object goes away. Until then it is a corpse (Raymond Chen, "Why are there all these processes lingering near death").
    if (p->harness) k.push_back({"the harness itself", 0});
    else if (p->state == RunState::running) k.push_back({"it is still running", 0});
    else if (p->state == RunState::terminating) k.push_back({"it is still terminating", 0});
    handles();
    if (!is(Mutant::thread_handle_keeps_nothing))
      for (ObjectId t : p->threads)
        if (threads_.contains(t)) k.push_back({fmt::format("its {} still exists", describe(t)), t});
    if (is(Mutant::corpses_never_released) && !p->harness) k.push_back({"it is never released (mutant)", 0});
  } else if (const auto* t = thread(id)) {
    // corpse.thread-handle-keeps-process: an open thread handle keeps the thread object, and
    // the thread object keeps its process object.
    if (t->state == RunState::running) k.push_back({"it is still running", 0});
    if (t->state == RunState::terminating && t->irp_pending)
      k.push_back({fmt::format("a driver holds its pending I/O request while it cancels it (until t={} ms)",
                               t->irp_release_at.value_or(0)),
                   0});
    handles();
  } else if (const auto* j = job(id)) {
    handles();
    for (ObjectId m : j->members) k.push_back({fmt::format("{} is in it", describe(m)), m});
  } else if (const auto* n = named(id)) {
    // objects.outlive-creator: a named object stays while any process holds a handle to it,
    // whoever created it. objects.die-with-last-handle: it goes with its last handle.
    const auto* creator = process_by_pid(n->creator);
    if (is(Mutant::objects_die_with_creator) && (!creator || creator->state == RunState::terminated)) return k;
    handles();
    if (is(Mutant::named_objects_linger)) k.push_back({"it lingers after its last handle (mutant)", 0});
  } else if (pipe(id)) {
    handles();
  }
  return k;
}

void Model::collect() {
  for (bool again = true; again;) {
    again = false;
    const HandleIndex index = handle_index();
    // Removes every object of `objects` that nothing keeps (and that may go), then `gone` runs.
    auto sweep = [&](auto& objects, auto may_go, auto gone) {
      for (auto it = objects.begin(); it != objects.end();) {
        if (may_go(it->second) && keepers(it->first, index).empty()) {
          gone(it->first, it->second);
          it = objects.erase(it);
          again = true;
        } else {
          ++it;
        }
      }
    };
    // A client id is free again once its object is gone (corpse.ids-unique).
    auto free_id = [&](ObjectId id, std::uint32_t client_id) {
      log(fmt::format("{} object is gone (id {} free)", describe(id), client_id));
      if (auto c = client_ids_.find(client_id); c != client_ids_.end() && c->second == id) client_ids_.erase(c);
    };
    auto terminated = [](const auto& o) { return o.state == RunState::terminated; };
    auto always = [](const auto&) { return true; };
    sweep(threads_, terminated, [&](ObjectId id, const ThreadObj& t) { free_id(id, t.tid); });
    sweep(processes_, terminated, [&](ObjectId id, const ProcessObj& p) { free_id(id, p.pid); });
    sweep(jobs_, always, [](ObjectId, const JobObj&) {});
    sweep(named_, always, [&](ObjectId id, const NamedObj&) { log(fmt::format("{} is gone", describe(id))); });
    sweep(pipes_, always, [](ObjectId, const PipeObj&) {});
  }
}

// ------------------------------------------------------------------------------------------
// The scheduler

void Model::run() {
  for (int round = 0; round < 100'000; ++round) {
    bool moved = false;
    std::vector<ObjectId> ids;
    for (const auto& [id, t] : threads_) ids.push_back(id);
    for (ObjectId id : ids) {
      ThreadObj* t = thread_mut(id);
      if (t && t->state == RunState::running) moved |= step(*t);
    }
    // CTRL_CLOSE_EVENT handlers whose time is up (ctrl.close-event).
    moved |= check_close_deadlines();
    // Driver completions due now.
    for (ObjectId id : ids) {
      ThreadObj* t = thread_mut(id);
      if (t && t->state == RunState::terminating && t->irp_release_at && *t->irp_release_at <= now_) {
        t->irp_pending = false;
        t->irp_release_at.reset();
        t->state = RunState::terminated;
        t->exit_code = t->pending_exit_code;
        t->exited_at = now_;
        log(fmt::format("the driver has cancelled the I/O of {}", describe(id)));
        signal(id);
        ProcessObj& owner = processes_.at(t->process);
        // terminate-thread.last-thread-ends-process: a thread TerminateThread ended while a
        // driver held it was the process's last one: the process ends now, with its code.
        const bool others = std::any_of(owner.threads.begin(), owner.threads.end(), [&](ObjectId o) {
          return threads_.contains(o) && threads_.at(o).state != RunState::terminated;
        });
        if (!others && owner.state == RunState::running && !is(Mutant::terminate_last_thread_keeps_process)) {
          owner.state = RunState::terminating;
          owner.pending_exit_code = t->exit_code;
          release_windows(owner, "its last thread was terminated");
          close_all_handles(owner);
        }
        if (owner.state != RunState::running) maybe_finish(owner);
        moved = true;
      }
    }
    if (!moved) return;
  }
  throw std::runtime_error("simulator: the scheduler did not settle in 100000 rounds");
}

bool Model::advance_until(std::uint64_t until, const std::function<bool()>& done) {
  run();
  while (!done()) {
    std::optional<std::uint64_t> next;
    for (const auto& [id, t] : threads_) {
      if (t.state == RunState::running && t.wake_at && *t.wake_at > now_) next = std::min(next.value_or(*t.wake_at), *t.wake_at);
      if (t.state == RunState::terminating && t.irp_release_at && *t.irp_release_at > now_)
        next = std::min(next.value_or(*t.irp_release_at), *t.irp_release_at);
    }
    for (const auto& [id, p] : processes_)
      if (p.state == RunState::running && p.close_deadline && *p.close_deadline > now_)
        next = std::min(next.value_or(*p.close_deadline), *p.close_deadline);
    if (!next || *next > until) {
      now_ = std::max(now_, until);
      run();
      return done();
    }
    now_ = *next;
    run();
  }
  return true;
}

int Model::add_waiter(ObjectId object) {
  int id = next_waiter_++;
  waiters_[id] = Waiter{object, signaled(object)};
  return id;
}

bool Model::waiter_released(int waiter) const {
  auto it = waiters_.find(waiter);
  return it != waiters_.end() && it->second.released;
}

void Model::remove_waiter(int waiter) { waiters_.erase(waiter); }

// One step of a running thread. Returns false if it is blocked.
bool Model::step(ThreadObj& t) {
  ProcessObj& p = processes_.at(t.process);
  if (!t.started) {
    t.started = true;
    emit(t, "start", {{"ppid", p.parent_pid}, {"main_tid", t.tid}});
    return true;
  }
  if (t.blocked == ThreadObj::Block::forever || t.blocked == ThreadObj::Block::io) return false;
  if (t.blocked == ThreadObj::Block::object) {
    const bool released = waiter_released(t.waiter);
    const bool expired = now_ >= t.wait_deadline;
    if (!released && !expired) return false;
    nlohmann::json fields = t.done_fields;
    fields["result"] = released ? "signaled" : "timeout";
    fields["error"] = 0;
    remove_waiter(t.waiter);
    t.waiter = 0;
    t.blocked = ThreadObj::Block::none;
    t.wake_at.reset();
    if (t.wait_handle) close_handle(p.pid, std::exchange(t.wait_handle, 0));
    emit(t, t.done_ev, fields);
    return true;
  }
  if (!t.micros.empty()) return run_micro(t);
  if (t.gui_code) return gui_step(t);
  if (!t.code || t.pc >= t.code->size()) {
    // exit.code.return-from-main: the main thread returning from main ends the process with
    // main's value (the CRT runs its handlers, then ExitProcess); a worker whose procedure
    // returns ends only its thread.
    if (t.main) push_process_exit(t, 0, true);
    else push_thread_exit(t, 0, true);
    return true;
  }
  const verbs::Step& s = (*t.code)[t.pc++];
  start_verb(t, s);
  return true;
}

void Model::spawn_child(ThreadObj& t, const std::vector<std::string>& args, CreateOptions options,
                        bool keep_thread_handle) {
  const std::uint32_t self = processes_.at(t.process).pid;
  // job.breakaway-denied: CREATE_BREAKAWAY_FROM_JOB in a job that does not allow breakaway.
  if (options.breakaway && breakaway_refused(processes_.at(t.process))) {
    emit(t, "error", {{"what", "CreateProcess"},
                      {"error", is(Mutant::breakaway_denied_wrong_error) ? kErrorInvalidParameter : kErrorAccessDenied}});
    return;
  }
  auto c = create_process(self, args, 0, processes_.at(t.process).channel, options);
  emit(t, "spawned", {{"child_pid", c.pid}, {"child_tid", c.tid}});
  if (!keep_thread_handle) close_handle(self, c.thread_handle);
  close_handle(self, c.process_handle);
}

void Model::block_on(ThreadObj& t, ObjectId object, std::uint64_t handle, std::uint64_t ms, std::string done_ev,
                     nlohmann::json done_fields) {
  t.blocked = ThreadObj::Block::object;
  t.wait_on = object;
  t.wait_handle = handle;
  t.wait_deadline = now_ + ms;
  t.wake_at = t.wait_deadline;
  t.waiter = add_waiter(object);
  t.done_ev = std::move(done_ev);
  t.done_fields = std::move(done_fields);
}

// Every new thread first takes the loader lock to call DLL_THREAD_ATTACH of each loaded DLL:
// that is why a thread created inside DllMain cannot run before DllMain returns
// (loader.threads-deferred), and why only one thread at a time is in DllMain
// (loader.one-thread-in-dllmain).
void Model::push_thread_init(ThreadObj& t) {
  const ProcessObj& p = processes_.at(t.process);
  if (!is(Mutant::dllmain_thread_starts_at_once)) t.micros.push_back({Micro::Kind::lock_loader});
  if (p.probe_loaded) {
    t.micros.push_back({Micro::Kind::dllmain_enter, "", {{"reserved", "null"}, {"shutdown", false}}, "thread-attach"});
    if (p.probe.slow_thread_attach_ms) t.micros.push_back({Micro::Kind::hold, "", {}, "", *p.probe.slow_thread_attach_ms});
    t.micros.push_back({Micro::Kind::dllmain_leave, "", {}, "thread-attach"});
  }
  if (!is(Mutant::dllmain_thread_starts_at_once)) t.micros.push_back({Micro::Kind::unlock_loader});
}

// ExitThread (or a thread procedure that returns: by_return): DLL_THREAD_DETACH under the loader
// lock, then the thread ends.
// thread-end.exit-thread-detach: every attached DLL gets DLL_THREAD_DETACH, once, on the thread
// that ends, and nothing else: a thread's end is no DLL_PROCESS_DETACH while the process lives on.
//
// The last thread's ExitThread is ExitProcess: RtlExitUserThread asks whether the thread is the
// last one and, if so, ends the process with the code (ReactOS dll/win32/kernel32/client/thread.c,
// ExitThread; Wine dlls/ntdll/thread.c, RtlExitUserThread), so each DLL gets DLL_PROCESS_DETACH,
// not DLL_THREAD_DETACH ("When a DLL is unloaded from a process as a result of ... termination of
// the process ... The DLL is only sent a DLL_PROCESS_DETACH notification", DllMain entry point).
// The model starts no threads of its own; on Windows 10 and later the loader's workers are
// threads too, so there an actor's thread is seldom the last (become-last-thread makes it so).
void Model::push_thread_exit(ThreadObj& t, std::uint32_t code, bool by_return) {
  ProcessObj& p = processes_.at(t.process);
  if (by_return && is(Mutant::thread_return_code_zero)) code = 0;
  const bool last = std::none_of(p.threads.begin(), p.threads.end(), [&](ObjectId o) {
    return o != t.id && threads_.contains(o) && threads_.at(o).state != RunState::terminated;
  });
  if (last && p.state == RunState::running && !is(Mutant::last_thread_exit_is_thread_exit)) {
    push_process_exit(t, is(Mutant::last_thread_code_zero) ? 0 : code, false);
    return;
  }
  t.micros.push_back({Micro::Kind::lock_loader});
  const bool detach = p.probe_loaded && !is(Mutant::exit_thread_no_detach) &&
                      !(by_return && is(Mutant::thread_return_no_detach));
  const ThreadObj* main = p.threads.empty() ? nullptr : thread(p.threads.front());
  if (detach && is(Mutant::exit_thread_detach_on_main_thread) && main && main->id != t.id &&
      main->state == RunState::running) {
    emit_dllmain_call(*main, "thread-detach", false, false);
  } else if (detach) {
    if (is(Mutant::exit_thread_detach_every_thread))
      for (ObjectId o : p.threads)
        if (const ThreadObj* other = thread(o); other && other->id != t.id && other->state == RunState::running)
          emit_dllmain_call(*other, "thread-detach", false, false);
    for (int n = is(Mutant::exit_thread_detach_twice) ? 2 : 1; n > 0; --n) {
      t.micros.push_back({Micro::Kind::dllmain_enter, "", {{"reserved", "null"}, {"shutdown", false}}, "thread-detach"});
      if (p.probe.slow_thread_attach_ms) t.micros.push_back({Micro::Kind::hold, "", {}, "", *p.probe.slow_thread_attach_ms});
      t.micros.push_back({Micro::Kind::dllmain_leave, "", {}, "thread-detach"});
    }
  }
  const bool others = std::any_of(p.threads.begin(), p.threads.end(), [&](ObjectId o) {
    return o != t.id && threads_.contains(o) && threads_.at(o).state != RunState::terminated;
  });
  if (p.probe_loaded && others && is(Mutant::exit_thread_sends_process_detach)) {
    t.micros.push_back({Micro::Kind::dllmain_enter, "", {{"reserved", "null"}, {"shutdown", false}}, "process-detach"});
    t.micros.push_back({Micro::Kind::dllmain_leave, "", {}, "process-detach"});
  }
  t.micros.push_back({Micro::Kind::unlock_loader});
  t.micros.push_back({Micro::Kind::end_thread, "", {}, "", 0, code});
}

// exit() and returning from main run the C runtime's handlers (atexit routines, static
// destructors, the calling thread's thread-local destructors), then ExitProcess; ExitProcess
// itself first takes the loader lock, so it waits while another thread is in DllMain
// (loader.exitprocess-waits).
void Model::push_process_exit(ThreadObj& t, std::uint32_t code, bool run_handlers) {
  const ProcessObj& p = processes_.at(t.process);
  if (run_handlers) {
    if (t.thread_local_object) t.micros.push_back({Micro::Kind::emit, "thread-local-destructor-ran", {{"thread", t.tid}}});
    // The C runtime calls a routine once per registration ("The same function may be registered
    // more than once", std::atexit, https://en.cppreference.com/w/cpp/utility/program/atexit), and
    // the routines and the static objects' destructors in the reverse order of their registration
    // and construction (std::exit: "if the completion of the constructor or dynamic
    // initialization for one static object was sequenced-before the call to std::atexit, the
    // call to std::atexit's function is sequenced-before the destructor"; the explorer found the
    // model running them in a fixed order).
    for (auto it = p.exit_handlers.rbegin(); it != p.exit_handlers.rend(); ++it)
      t.micros.push_back({Micro::Kind::emit, *it});
  }
  if (!is(Mutant::exitprocess_ignores_loader_lock)) t.micros.push_back({Micro::Kind::lock_loader});
  t.micros.push_back({Micro::Kind::exit_process_locked, "", {}, "", 0, code});
}

bool Model::run_micro(ThreadObj& t) {
  ProcessObj& p = processes_.at(t.process);
  Micro& m = t.micros.front();
  switch (m.kind) {
    case Micro::Kind::emit: emit(t, m.ev, m.fields); break;
    case Micro::Kind::lock_loader:
      if (p.loader_owner != 0 && p.loader_owner != t.id && !is(Mutant::dllmain_not_serialized)) return false;
      p.loader_owner = t.id;
      ++p.loader_depth;
      break;
    case Micro::Kind::unlock_loader:
      if (p.loader_owner == t.id && --p.loader_depth <= 0) p.loader_owner = 0, p.loader_depth = 0;
      break;
    case Micro::Kind::dllmain_enter: {
      ++p.dll_inside;
      for (ObjectId o : p.threads)
        if (auto* other = thread_mut(o); other && other->dll_inside_max > 0)
          other->dll_inside_max = std::max(other->dll_inside_max, p.dll_inside);
      t.dll_inside_max = p.dll_inside;
      nlohmann::json f = m.fields;
      f["reason"] = m.text;
      emit(t, "dllmain", {{"reason", m.text}, {"reserved", f["reserved"]}, {"shutdown", f["shutdown"]}});
      break;
    }
    case Micro::Kind::dllmain_leave:
      emit(t, "dllmain-return", {{"reason", m.text}, {"inside", t.dll_inside_max}});
      --p.dll_inside;
      t.dll_inside_max = 0;
      break;
    case Micro::Kind::hold:
      if (t.hold_until == 0) {
        t.hold_until = now_ + m.ms;
        t.wake_at = t.hold_until;
      }
      if (now_ < t.hold_until) return false;
      t.hold_until = 0;
      t.wake_at.reset();
      break;
    case Micro::Kind::wait_named: {
      const NamedObj* found = nullptr;
      for (const auto& [id, e] : named_)
        if (e.kind == ObjectKind::event && e.name == m.text) found = &e;
      Micro done = m;
      t.micros.pop_front();
      if (!found) {
        emit(t, "error", {{"what", "OpenEvent"}, {"error", 2}, {"event", done.text}});
        return true;
      }
      auto h = add_handle(p, found->id);
      // The actor's wait-event (not the probe's block-*): `waiting` once the event is open.
      if (done.ev == "released") emit(t, "waiting", {{"event", done.text}});
      nlohmann::json fields = done.fields;
      block_on(t, found->id, h, done.ms, done.ev, fields);
      return true;
    }
    case Micro::Kind::create_sign_thread: {
      p.sign = false;
      ObjectId nt = new_thread(p, nullptr, false);
      ThreadObj& st = threads_.at(nt);
      push_thread_init(st);
      st.micros.push_back({Micro::Kind::emit, "probe-thread-running"});
      st.micros.push_back({Micro::Kind::set_sign});
      log(fmt::format("{} created in DllMain", describe(nt)));
      break;
    }
    case Micro::Kind::wait_sign:
      if (t.hold_until == 0) {
        t.hold_until = now_ + 500;
        t.wake_at = t.hold_until;
      }
      if (!p.sign && now_ < t.hold_until) return false;
      t.hold_until = 0;
      t.wake_at.reset();
      emit(t, "probe-sign", {{"during", m.text}, {"seen", p.sign}});
      break;
    case Micro::Kind::set_sign: p.sign = true; break;
    case Micro::Kind::become_last: {
      // The actor's become-last-thread: it waits for the process's other threads to end, for
      // `ms` at most. The model starts no threads of its own (no loader pool), so only the
      // actor's threads can keep it waiting.
      std::size_t others = 0;
      for (ObjectId o : p.threads)
        if (o != t.id && threads_.contains(o) && threads_.at(o).state != RunState::terminated) ++others;
      if (t.hold_until == 0) {
        t.hold_until = now_ + m.ms;
        t.wake_at = t.hold_until;
        t.last_wait_others = others;
      }
      if (others > 0 && now_ < t.hold_until) return false;
      emit(t, "last-thread", {{"last", others == 0 ? "yes" : "no"},
                              {"waited_for", t.last_wait_others},
                              {"left", others},
                              {"ms", now_ + m.ms - t.hold_until}});
      t.hold_until = 0;
      t.wake_at.reset();
      break;
    }
    case Micro::Kind::guard_leave: t.guarded = false; break;
    case Micro::Kind::unload_probe: p.probe_loaded = false; break;
    case Micro::Kind::exit_process_locked: {
      // dll.exitprocess-detach: the other threads end first (with no DLL_THREAD_DETACH), then
      // each DLL gets DLL_PROCESS_DETACH with lpReserved non-NULL.
      // The numbered steps of ExitProcess's remarks: 1-2, the other threads end without
      // DLL_THREAD_DETACH (exitprocess.no-thread-detach) and are signaled at once
      // (exitprocess.threads-signaled-before-detach); 3, DLL_PROCESS_DETACH; 4-8 in finish_exit: the
      // calling thread is signaled (exitprocess.caller-signaled-after-detach), then the process
      // (exitprocess.signaled-after-detach). The model sets the exit code with that last step, the
      // documented order; Windows may set it before the DLLs run (at RtlExitUserProcess's first
      // NtTerminateProcess(NULL, code)), which is why the suite only records what it reads then.
      const std::uint32_t code = m.code;
      t.micros.clear();
      log(fmt::format("{} calls ExitProcess({:#x})", describe(t.id), code));
      if (is(Mutant::worker_exitprocess_detach_on_main) && !t.main && p.probe_loaded) {
        // The worker is ended first, and the main thread runs DLL_PROCESS_DETACH as if it had returned.
        if (auto* main = thread_mut(p.threads.front()); main && main->state == RunState::running) {
          kill_thread(t, code);
          emit_dllmain_call(*main, "process-detach", true, true);
          exit_process(p, code, "ExitProcess");
          return true;
        }
      }
      for (ObjectId o : p.threads)
        if (auto* other = thread_mut(o); other && other->id != t.id && other->state == RunState::running) {
          if (is(Mutant::exitprocess_sends_thread_detach) && p.probe_loaded)
            emit(*other, "dllmain", {{"reason", "thread-detach"}, {"reserved", "null"}, {"shutdown", true}});
          if (is(Mutant::exitprocess_detach_per_thread) && p.probe_loaded)
            emit_dllmain_call(*other, "process-detach", true, true);
          if (!is(Mutant::exitprocess_threads_signaled_late))
            kill_thread(*other, is(Mutant::exitprocess_threads_code_zero) ? 0 : code);
        }
      if (is(Mutant::exitprocess_caller_signaled_first)) signal(t.id);
      if (is(Mutant::exitprocess_signaled_first)) signal(p.id);
      // The DLLs are called on this thread (the mutants: on a helper thread, or after a
      // DLL_THREAD_DETACH of the caller's own).
      ThreadObj* runner = &t;
      if (p.probe_loaded && is(Mutant::exitprocess_detach_on_helper_thread)) {
        ObjectId helper = new_thread(p, nullptr, false);
        log(fmt::format("{} started to run DLL_PROCESS_DETACH", describe(helper)));
        runner = &threads_.at(helper);
        t.blocked = ThreadObj::Block::forever;
      }
      if (p.probe_loaded && is(Mutant::exitprocess_caller_gets_thread_detach)) {
        t.micros.push_back({Micro::Kind::dllmain_enter, "", {{"reserved", "null"}, {"shutdown", true}}, "thread-detach"});
        t.micros.push_back({Micro::Kind::dllmain_leave, "", {}, "thread-detach"});
      }
      if (p.probe_loaded) {
        const char* reserved = is(Mutant::exit_detach_reserved_null) ? "null" : "non-null";
        auto& micros = runner->micros;
        micros.push_back({Micro::Kind::dllmain_enter, "", {{"reserved", reserved}, {"shutdown", true}}, "process-detach"});
        // Wine's loader.c: during the exit-time detach, CreateThread fails with ERROR_ACCESS_DENIED.
        if (p.probe.detach_thread) micros.push_back({Micro::Kind::emit, "error", {{"what", "CreateThread"}, {"error", 5}}});
        if (p.probe.block_detach) {
          micros.push_back({Micro::Kind::emit, "dllmain-blocked", {{"event", *p.probe.block_detach}}});
          micros.push_back({Micro::Kind::wait_named, "dllmain-unblocked", {{"event", *p.probe.block_detach}},
                              *p.probe.block_detach, 30'000});
        }
        micros.push_back({Micro::Kind::dllmain_leave, "", {}, "process-detach"});
      }
      runner->micros.push_back({Micro::Kind::finish_exit, "", {}, "", 0, code});
      return true;
    }
    case Micro::Kind::finish_exit: {
      const std::uint32_t code = m.code;
      t.micros.clear();
      if (p.loader_owner == t.id) p.loader_owner = 0, p.loader_depth = 0;
      exit_process(p, code, "ExitProcess");
      return true;
    }
    case Micro::Kind::end_thread: {
      const std::uint32_t code = m.code;
      t.micros.clear();
      exit_thread(t, code);
      return true;
    }
    case Micro::Kind::ctrl_begin:
    case Micro::Kind::ctrl_handler:
    case Micro::Kind::ctrl_default:
    case Micro::Kind::ctrl_done: return run_ctrl_micro(t);
  }
  t.micros.pop_front();
  return true;
}

// The probe's DllMain for a LoadLibrary/FreeLibrary-time call (lpReserved NULL): the thread it
// may create (which cannot run before the loader lock is free: loader.threads-deferred) and the
// named event it may block on.
void Model::push_probe_call(ThreadObj& t, std::string_view reason, bool create_thread,
                            const std::optional<std::string>& block_on_event) {
  const std::string r(reason);
  t.micros.push_back({Micro::Kind::dllmain_enter, "", {{"reserved", "null"}, {"shutdown", false}}, r});
  if (create_thread) {
    t.micros.push_back({Micro::Kind::create_sign_thread});
    t.micros.push_back({Micro::Kind::wait_sign, "", {}, r});
  }
  if (block_on_event) {
    t.micros.push_back({Micro::Kind::emit, "dllmain-blocked", {{"event", *block_on_event}}});
    t.micros.push_back({Micro::Kind::wait_named, "dllmain-unblocked", {{"event", *block_on_event}}, *block_on_event, 30'000});
  }
  t.micros.push_back({Micro::Kind::dllmain_leave, "", {}, r});
}

void Model::start_verb(ThreadObj& t, const verbs::Step& s) {
  ProcessObj& p = processes_.at(t.process);
  auto wait_pid = [&](std::uint32_t target) {
    std::uint32_t error = 0;
    auto h = open_by_id(p.pid, ObjectKind::process, target, &error);
    if (!h) {
      emit(t, "error", {{"what", "OpenProcess"}, {"error", error}, {"target_pid", target}});
      return;
    }
    emit(t, "waiting", {{"target_pid", target}});
    block_on(t, p.handles.at(*h), *h, kActorWaitMs, "released", {{"target_pid", target}});
  };
  switch (s.op) {
    case Op::Ready: emit(t, "ready"); break;
    case Op::Mark: emit(t, "mark", {{"name", s.name}}); break;
    case Op::Return:
      emit(t, "about-to-exit", {{"how", "return"}, {"code", s.number}});
      // exitprocess.return-from-main: returning from main is ExitProcess (after the C runtime's
      // handlers).
      if (t.main && !is(Mutant::return_from_main_ends_only_main))
        push_process_exit(t, is(Mutant::return_ignored) ? 0 : s.number, true);
      else push_thread_exit(t, s.number, true);
      break;
    case Op::Exit:
      emit(t, "about-to-exit", {{"how", "exit"}, {"code", s.number}});
      push_process_exit(t, s.number, true);
      break;
    case Op::ExitProcess:
      emit(t, "about-to-exit", {{"how", "exit-process"}, {"code", s.number}});
      if (!t.main && is(Mutant::worker_exitprocess_ends_thread)) push_thread_exit(t, s.number);
      else push_process_exit(t, s.number, false);
      break;
    case Op::ExitThread: {
      // The actor says whether it is the last thread (ThreadAmILastThread): only then does
      // ExitThread end the process. The model starts no threads of its own.
      const auto live = std::count_if(p.threads.begin(), p.threads.end(), [&](ObjectId o) {
        return threads_.contains(o) && threads_.at(o).state != RunState::terminated;
      });
      emit(t, "about-to-exit", {{"how", "exit-thread"}, {"code", s.number}, {"last_thread", live == 1 ? "yes" : "no"},
                                {"threads", live}});
      push_thread_exit(t, s.number);
      break;
    }
    case Op::TerminateSelf:
      emit(t, "about-to-exit", {{"how", "terminate-self"}, {"code", s.number}});
      // terminate.self-does-not-return: the calling thread stops there (only the mutant runs its
      // next verb first). terminate.threads-get-the-code: every thread ends with the code, the
      // caller too.
      if (is(Mutant::terminate_self_returns) && t.code && t.pc < t.code->size()) start_verb(t, (*t.code)[t.pc++]);
      if (is(Mutant::terminate_self_caller_code_zero)) kill_thread(t, 0);
      if (is(Mutant::terminate_self_others_code_zero))
        for (ObjectId o : p.threads)
          if (auto* other = thread_mut(o); other && other->id != t.id) kill_thread(*other, 0);
      terminate_process(p.id, s.number, "TerminateProcess");
      break;
    case Op::BecomeLastThread:
      t.micros.push_back({Micro::Kind::become_last, "", {}, "", verbs::kLastThreadWaitMs});
      break;
    case Op::TerminateThreadSelf: {
      const auto live = std::count_if(p.threads.begin(), p.threads.end(), [&](ObjectId o) {
        return threads_.contains(o) && threads_.at(o).state != RunState::terminated;
      });
      emit(t, "about-to-exit", {{"how", "terminate-thread"}, {"code", s.number}, {"last_thread", live == 1 ? "yes" : "no"},
                                {"threads", live}});
      terminate_thread(t.id, s.number);
      break;
    }
    case Op::Crash:
      // exit.code.fatal-exception: an unhandled exception ends the process with the
      // exception code; exit.code.fatal-exception-threads: every thread running then ends
      // with it too.
      emit(t, "about-to-exit", {{"how", "crash"}, {"kind", std::string(verbs::crash_name(s.crash))}, {"code", s.number}});
      if (s.crash == verbs::CrashKind::StackOverflow && is(Mutant::stack_overflow_ends_the_thread)) {
        terminate_thread(t.id, 0);
        break;
      }
      terminate_process(p.id, is(Mutant::fatal_exception_exits_zero) ? 0 : fatal_exit_code(t, s),
                        "unhandled exception");
      break;
    case Op::Thread: {
      ObjectId nt = new_thread(p, &s.body, false);
      add_handle(p, nt);  // the actor keeps its handle to the thread for its life (docs/actors.md)
      push_thread_init(threads_.at(nt));
      log(fmt::format("{} created", describe(nt)));
      emit(t, "thread-started", {{"thread", threads_.at(nt).tid}});
      break;
    }
    case Op::Spawn:
    case Op::SpawnLeakThread: {
      // The launcher that forgets PROCESS_INFORMATION.hThread keeps it open.
      spawn_child(t, s.args, {}, s.op == Op::SpawnLeakThread);
      break;
    }
    case Op::SpawnBreakaway: {
      CreateOptions options;
      options.breakaway = true;
      spawn_child(t, s.args, options);
      break;
    }
    case Op::Abort:
      // fatal.abort: the C runtime's abort() ends the process without its termination handlers
      // (msvcrt: _exit(3), which is ExitProcess).
      emit(t, "about-to-exit", {{"how", "abort"}, {"code", 3}});
      push_process_exit(t, 3, is(Mutant::abort_runs_atexit));
      break;
    case Op::UnhandledFilter:
      p.unhandled_filter = true;
      emit(t, "unhandled-filter-installed");
      break;
    case Op::RemoveCtrlHandler: remove_ctrl_handler(t, s.ctrl); break;
    case Op::WaitForever: t.blocked = ThreadObj::Block::forever; break;
    case Op::WaitPid: wait_pid(s.number); break;
    case Op::WaitParent: wait_pid(p.parent_pid); break;
    case Op::WaitMain:
      emit(t, "waiting", {{"target", "main-thread"}});
      block_on(t, p.threads.front(), 0, kActorWaitMs, "released", {{"target", "main-thread"}});
      break;
    case Op::WaitEvent:
      // OpenEvent first: `waiting` only once the event is open (wait_named).
      t.micros.push_back({Micro::Kind::wait_named, "released", {{"event", s.name}}, s.name, kActorWaitMs});
      break;
    case Op::GuardedWait:
      // dll.terminate-no-handlers: a frame with a termination handler, left by unwinding once the
      // wait is over; the handler runs then, and only then.
      t.guarded = true;
      emit(t, "guarded", {{"event", s.name}});
      t.micros.push_back({Micro::Kind::wait_named, "released", {{"event", s.name}}, s.name, kActorWaitMs});
      t.micros.push_back({Micro::Kind::emit, "finally-ran", {{"how", "unwind"}}});
      t.micros.push_back({Micro::Kind::guard_leave});
      t.micros.push_back({Micro::Kind::emit, "guarded-left"});
      break;
    case Op::ReadDevice:
      t.irp_pending = true;
      t.irp_driver = true;
      t.blocked = ThreadObj::Block::io;
      emit(t, "io-pending");
      break;
    case Op::LoadProbe:
      // LoadLibrary: DLL_PROCESS_ATTACH under the loader lock, lpReserved NULL (a dynamic load).
      p.probe_loaded = true;
      p.probe = s.probe;
      t.micros.push_back({Micro::Kind::lock_loader});
      push_probe_call(t, "process-attach", s.probe.attach_thread, s.probe.block_attach);
      t.micros.push_back({Micro::Kind::unlock_loader});
      t.micros.push_back({Micro::Kind::emit, "probe-loaded"});
      break;
    case Op::FreeProbe:
      // dll.exitprocess-detach: FreeLibrary's DLL_PROCESS_DETACH has lpReserved NULL.
      t.micros.push_back({Micro::Kind::lock_loader});
      push_probe_call(t, "process-detach", p.probe.detach_thread, p.probe.block_detach);
      t.micros.push_back({Micro::Kind::unload_probe});
      t.micros.push_back({Micro::Kind::unlock_loader});
      t.micros.push_back({Micro::Kind::emit, "probe-freed"});
      break;
    case Op::CreateEvent:
      create_named(p, ObjectKind::event, s.name, nullptr);
      emit(t, "created", {{"kind", "event"}, {"name", s.name}, {"error", 0}});
      break;
    case Op::CreateSection: {
      auto id = create_named(p, ObjectKind::section, s.name, nullptr);
      named_.at(id).text = verbs::section_text(p.pid);
      emit(t, "created", {{"kind", "section"}, {"name", s.name}, {"text", named_.at(id).text}});
      break;
    }
    case Op::OwnMutex: {
      auto id = create_named(p, ObjectKind::mutex, s.name, nullptr);
      named_.at(id).owner = t.id;
      emit(t, "created", {{"kind", "mutex"}, {"name", s.name}, {"owned", true}});
      break;
    }
    case Op::WritePipe:
    case Op::ReadPipe:
    case Op::ReadPipeOverlapped: {
      // The client end of a pipe the harness created: the actor holds it like any handle.
      PipeObj* pp = find_pipe(s.name, s.op == Op::WritePipe);
      if (!pp) {
        emit(t, "error", {{"what", "CreateFile"}, {"error", 2}, {"name", s.name}});
        break;
      }
      pp->connected = true;
      pp->client = create_named(p, ObjectKind::pipe_client, s.name, nullptr);
      if (s.op == Op::WritePipe) {
        emit(t, "pipe-open", {{"name", s.name}, {"mode", "write"}});
      } else if (s.op == Op::ReadPipe) {
        // io.pending-cancelled: a thread blocked in a synchronous read is released when its
        // process is terminated: the pipe's driver cancels the request at once.
        emit(t, "reading", {{"name", s.name}, {"mode", "sync"}});
        t.irp_pending = true;
        if (is(Mutant::pipe_read_not_cancelled)) t.irp_cancel_ms.reset();
        else t.irp_cancel_ms = 0;
        t.blocked = ThreadObj::Block::io;
      } else {
        emit(t, "reading", {{"name", s.name}, {"mode", "overlapped"}, {"pending", true}});
        t.blocked = ThreadObj::Block::forever;  // waits on the OVERLAPPED's event
      }
      break;
    }
    case Op::CtrlHandler:
    case Op::IgnoreCtrlC:
    case Op::AcceptCtrlC:
    case Op::CtrlSend:
    case Op::SpawnGroup:
    case Op::SpawnConsole:
    case Op::NewConsole:
    case Op::ConsoleWindow: console_verb(t, s); break;
    case Op::AtExit:
      ++p.atexit_registered;
      p.exit_handlers.push_back("atexit-ran");
      emit(t, "atexit-registered");
      break;
    case Op::StaticObject:
      // A function-local static object: constructed at its first use only (docs/actors.md).
      if (p.static_object) break;
      p.static_object = true;
      p.exit_handlers.push_back("static-destructor-ran");
      emit(t, "static-object-constructed");
      break;
    case Op::ThreadLocalObject:
      t.thread_local_object = true;
      emit(t, "thread-local-object-constructed", {{"thread", t.tid}});
      break;
  }
}

// ------------------------------------------------------------------------------------------
// Queries

std::optional<std::uint64_t> Model::open_by_id(std::uint32_t owner_pid, ObjectKind kind, std::uint32_t id,
                                                std::uint32_t* error) {
  auto it = client_ids_.find(id);
  bool ok = it != client_ids_.end() &&
            (kind == ObjectKind::process ? processes_.contains(it->second) : threads_.contains(it->second));
  if (!ok) {
    if (error) *error = kErrorInvalidParameter;  // OpenProcess/OpenThread on an id that names nothing
    return std::nullopt;
  }
  auto& owner = processes_.at(client_ids_.at(owner_pid));
  return add_handle(owner, it->second);
}

std::optional<ObjectId> Model::resolve(std::uint32_t owner_pid, std::uint64_t handle) const {
  auto it = client_ids_.find(owner_pid);
  if (it == client_ids_.end()) return std::nullopt;
  const auto* owner = process(it->second);
  if (!owner) return std::nullopt;
  auto h = owner->handles.find(handle);
  if (h == owner->handles.end()) return std::nullopt;
  return h->second;
}

std::optional<ObjectKind> Model::kind(ObjectId id) const {
  if (processes_.contains(id)) return ObjectKind::process;
  if (threads_.contains(id)) return ObjectKind::thread;
  if (jobs_.contains(id)) return ObjectKind::job;
  if (auto n = named_.find(id); n != named_.end()) return n->second.kind;
  if (pipes_.contains(id)) return ObjectKind::pipe;
  return std::nullopt;
}

bool Model::signaled(ObjectId id) const {
  if (const auto* p = process(id)) return p->signaled;
  if (const auto* t = thread(id)) return t->signaled;
  if (const auto* n = named(id)) return n->kind == ObjectKind::mutex ? n->owner == 0 : n->signaled;
  return false;
}

// exit.still-active: while a process runs, GetExitCodeProcess answers STILL_ACTIVE; then its
// exit code. exit.still-active-ambiguity: a process may exit with 259 itself.
std::optional<std::uint32_t> Model::exit_code_process(ObjectId id) const {
  const auto* p = process(id);
  if (!p) return std::nullopt;
  if (!p->signaled) return is(Mutant::still_active_reads_zero) ? 0 : kStillActive;
  if (is(Mutant::exit_259_reads_zero) && p->exit_code == kStillActive) return 0;
  return p->exit_code;
}

std::optional<std::uint32_t> Model::exit_code_thread(ObjectId id) const {
  const auto* t = thread(id);
  if (!t) return std::nullopt;
  // thread-end.still-active-while-running: STILL_ACTIVE until the thread has ended.
  if (t->state != RunState::terminated) return is(Mutant::thread_still_active_reads_zero) ? 0 : kStillActive;
  if (is(Mutant::thread_still_active_after_end) && !t->main) {
    const ProcessObj* p = process(t->process);
    if (p && p->state == RunState::running) return kStillActive;
  }
  return is(Mutant::dead_thread_forgets) ? 0 : t->exit_code;
}

// children.survive: an orphan is not re-parented; its recorded parent id names the dead parent.
std::optional<std::uint32_t> Model::parent_of(std::uint32_t pid) const {
  const auto* p = process_by_pid(pid);
  if (!p) return std::nullopt;
  if (is(Mutant::orphans_reparented)) {
    const auto* parent = process_by_pid(p->parent_pid);
    if (!parent || parent->state == RunState::terminated) return harness_pid();
  }
  return p->parent_pid;
}

const ProcessObj* Model::process(ObjectId id) const {
  auto it = processes_.find(id);
  return it == processes_.end() ? nullptr : &it->second;
}
const ProcessObj* Model::process_by_pid(std::uint32_t pid) const {
  auto it = client_ids_.find(pid);
  return it == client_ids_.end() ? nullptr : process(it->second);
}
const ThreadObj* Model::thread(ObjectId id) const {
  auto it = threads_.find(id);
  return it == threads_.end() ? nullptr : &it->second;
}
const JobObj* Model::job(ObjectId id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}
const PipeObj* Model::pipe(ObjectId id) const {
  auto it = pipes_.find(id);
  return it == pipes_.end() ? nullptr : &it->second;
}
const NamedObj* Model::named(ObjectId id) const {
  auto it = named_.find(id);
  return it == named_.end() ? nullptr : &it->second;
}
ProcessObj* Model::process_mut(ObjectId id) {
  auto it = processes_.find(id);
  return it == processes_.end() ? nullptr : &it->second;
}
ThreadObj* Model::thread_mut(ObjectId id) {
  auto it = threads_.find(id);
  return it == threads_.end() ? nullptr : &it->second;
}

std::string Model::describe(ObjectId id) const {
  if (const auto* p = process(id)) return fmt::format("process {} ({})", p->pid, p->image);
  if (const auto* t = thread(id)) {
    const auto* p = process(t->process);
    return fmt::format("thread {} of process {}", t->tid, p ? p->pid : 0);
  }
  if (job(id)) return fmt::format("job {}", id);
  if (const auto* n = named(id)) {
    const char* kinds[] = {"process", "thread", "job", "event", "section", "mutex", "pipe", "pipe client"};
    return fmt::format("{} '{}'", kinds[static_cast<int>(n->kind)], n->name);
  }
  if (const auto* pp = pipe(id)) return fmt::format("pipe '{}'", pp->name);
  return fmt::format("object {} (gone)", id);
}

}  // namespace termsuite::sim
