#pragma once
// The simulator's model: an executable reading of the documents the claims catalog quotes.
//
// An object manager with per-process handle tables; processes, threads and jobs with their
// states, exit codes and signaled state; client ids (pids and tids) that stay reserved while
// their object exists; pending I/O held by a driver; a deterministic scheduler that runs the
// actors' verb programs one step at a time, in thread-creation order, in virtual time.
//
// Each rule is written once, next to the claim ID it implements (grep the claim ID to go from
// docs/claims.json to the rule). A mutant turns one rule wrong, to prove the suite notices.
//
// It also has consoles and process groups (console control events, delivered on a new thread),
// windows with per-thread message queues (the GUI actor, WM_CLOSE, registered messages, a WH_CBT
// hook) and taskkill. They follow the documented Windows behaviour, not Wine's.
#include <bitset>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/gui_verbs.hpp"
#include "termsuite/report.hpp"
#include "termsuite/verbs.hpp"
#include "termsuite/win32_codes.hpp"  // kStillActive, kErrorAccessDenied, kErrorInvalidHandle, ...

namespace termsuite::sim {

inline constexpr std::uint32_t kUsageErrorExitCode = 0xBADA;   // the actor's, for a bad argv
inline constexpr std::uint64_t kActorWaitMs = 60'000;          // the actor's own wait deadline
inline constexpr std::uint32_t kErrorInvalidWindowHandle = 1400;  // ERROR_INVALID_WINDOW_HANDLE
inline constexpr std::uint64_t kCloseTimeoutMs = 5'000;        // how long a CTRL_CLOSE handler may run
inline constexpr std::uint32_t kTaskkillForceCode = 1;         // what Windows' taskkill /f passes
inline constexpr std::uint32_t kTaskkillNotFound = 128;        // taskkill's status: no such process
inline constexpr std::uint32_t kTaskkillFailed = 1;            // taskkill's status: could not end it

// ------------------------------------------------------------------------------------------
// Mutants: one wrong rule each.
enum class Mutant {
  none,
  return_ignored,                 // exit.code.return-from-main
  worker_exitprocess_ends_thread, // exit.code.exitprocess
  terminate_code_ignored,         // exit.code.terminateprocess
  last_thread_code_zero,          // exit.code.last-thread
  fatal_exception_exits_zero,     // exit.code.fatal-exception
  still_active_reads_zero,        // exit.still-active
  exit_259_reads_zero,            // exit.still-active-ambiguity
  signal_wakes_one_waiter,        // signal.process-object
  process_object_resets,          // signal.process-object
  waiting_threads_survive,        // threads.terminated
  ended_threads_take_process_code,  // threads.terminated
  cancelled_io_thread_code_zero,  // threads.terminated
  children_die_with_parent,       // children.survive
  orphans_reparented,             // children.survive
  children_die_with_exiting_parent,  // children.survive
  job_close_kills_nothing,        // children.job-kill-on-close
  driver_releases_at_once,        // corpse.driver-hostage
  signaled_while_thread_held,     // corpse.driver-hostage
  ids_freed_at_exit,              // corpse.ids-unique
  thread_handle_keeps_nothing,    // corpse.thread-handle-keeps-process
  dead_thread_forgets,            // corpse.terminated-thread-queryable
  corpses_never_released,         // corpse.released
  handles_survive_exit,           // handles.closed
  mutex_not_abandoned,            // handles.closed
  mutex_abandoned_forever,        // handles.closed
  objects_die_with_creator,       // objects.outlive-creator
  named_objects_linger,           // objects.die-with-last-handle
  pipe_read_not_cancelled,        // io.pending-cancelled
  shutdown_failed_call_changes_level,  // shutdown.parameters
  shutdown_parameters_not_kept,   // shutdown.parameters
  terminate_runs_detach,          // dll.terminate-no-detach
  exit_detach_reserved_null,      // dll.exitprocess-detach
  terminate_runs_handlers,        // dll.terminate-no-handlers
  terminate_unwinds_threads,      // dll.terminate-no-handlers
  fatal_exception_kills_only_faulting_thread,  // exit.code.fatal-exception-threads
  dllmain_thread_starts_at_once,  // loader.threads-deferred
  dllmain_not_serialized,         // loader.one-thread-in-dllmain
  exitprocess_ignores_loader_lock,  // loader.exitprocess-waits
  // Consoles, windows, taskkill.
  ctrl_handler_on_main_thread,    // ctrl.handler-new-thread
  ctrl_default_exits_zero,        // ctrl.default-handler-exits
  ctrl_ignore_blocks_every_event, // ctrl.default-handler-exits
  ctrl_reaches_every_group,       // ctrl.process-group
  ctrl_group_leader_only,         // ctrl.process-group
  ctrl_zero_reaches_own_group,    // ctrl.process-group
  new_group_accepts_ctrl_c,       // ctrl.process-group
  gui_gets_console_events,        // ctrl.process-group
  close_event_survives_true,      // ctrl.close-event
  close_handler_runs_unbounded,   // ctrl.close-event
  ignore_flag_not_inherited,      // ctrl.process-group
  new_console_shares_console,     // ctrl.process-group
  handlers_first_registered_first,  // ctrl.handler-new-thread
  ctrl_chain_ignores_true,        // ctrl.handler-new-thread
  taskkill_force_sends_wm_close_first,  // taskkill.force
  polite_quit_code_zero,                // taskkill.gui-wm-close
  taskkill_graceful_escalates,          // taskkill.gui-ignores-close
  wm_close_destroys_window,             // taskkill.gui-ignores-close
  taskkill_graceful_terminates_windowless,  // taskkill.windowless-needs-force
  taskkill_console_no_close_event,      // taskkill.console-close
  taskkill_console_close_by_group,      // taskkill.console-close
  taskkill_force_code_zero,             // taskkill.force
  taskkill_tree_only_root,              // taskkill.tree
  broadcast_reaches_sender,             // graceful.private-message
  broadcast_reaches_nobody,             // graceful.private-message
  broadcast_reaches_one,                // graceful.private-message
  terminate_calls_cbt_hook,             // hooks.no-wh-cbt
  destroy_window_calls_no_hook,         // hooks.no-wh-cbt
  // Jobs, fatal paths, console handlers (sim/src/model_jobs.cpp).
  terminate_job_code_ignored,           // job.terminate-code
  breakaway_ignored,                    // job.breakaway
  breakaway_always_allowed,             // job.breakaway-denied
  silent_breakaway_ignored,             // job.silent-breakaway
  job_close_spares_child_jobs,          // job.nested-kill-on-close
  job_port_reports_no_exits,            // job.completion-port
  stack_overflow_is_access_violation,   // fatal.stack-overflow
  fail_fast_calls_filter,               // fatal.fail-fast
  abort_runs_atexit,                    // fatal.abort
  unhandled_filter_not_called,          // fatal.unhandled-filter
  ctrl_remove_ignored,                  // ctrl.handler-removed
  ctrl_ignore_spares_handlers,          // ctrl.ignore-concerns-ctrl-c
  ctrl_handler_registered_once,         // ctrl.handler-registered-twice
  // The termination APIs' own pages (TerminateProcess, ExitProcess, ExitThread, TerminateThread,
  // GetExitCodeThread): sim/src/model_threads.cpp and the steps of model.cpp they name.
  terminate_ended_succeeds,             // terminate.ended-access-denied
  terminate_ignores_access,             // terminate.needs-terminate-right
  terminate_self_returns,               // terminate.self-does-not-return
  terminate_self_caller_code_zero,      // terminate.threads-get-the-code
  exitprocess_sends_thread_detach,      // exitprocess.no-thread-detach
  exitprocess_threads_signaled_late,    // exitprocess.threads-signaled-before-detach
  exitprocess_caller_signaled_first,    // exitprocess.caller-signaled-after-detach
  exitprocess_signaled_first,           // exitprocess.signaled-after-detach
  return_from_main_ends_only_main,      // exitprocess.return-from-main
  exit_thread_no_detach,                // thread-end.exit-thread-detach
  exit_thread_code_zero,                // thread-end.code-replaces-still-active
  thread_still_active_reads_zero,       // thread-end.still-active-while-running
  exited_thread_not_signaled,           // thread-end.waiters-released
  terminate_thread_runs_detach,         // terminate-thread.no-detach
  terminate_thread_code_zero,           // terminate-thread.code
  terminate_thread_replaces_ended_code, // terminate-thread.ended-code-kept
  last_thread_exit_is_thread_exit,      // thread-end.last-thread-exit-ends-process
  terminate_last_thread_keeps_process,  // terminate-thread.last-thread-ends-process
  terminated_thread_keeps_mutex,        // terminate-thread.mutex-abandoned
  // Job chains: nesting, breakaway up a chain, kill-on-close, TerminateJobObject and completion
  // ports through nesting (sim/src/model_jobs.cpp).
  terminate_job_spares_child_jobs,      // job.terminate-nested
  terminate_job_climbs_chain,           // job.terminate-nested
  terminate_job_follows_descendants,    // job.breakaway
  breakaway_leaves_whole_chain,         // job.breakaway-chain
  breakaway_leaves_only_immediate,      // job.breakaway-chain
  breakaway_checks_top_job,             // job.breakaway-chain
  silent_breakaway_from_parent_job,     // job.breakaway-chain
  job_close_kills_parent_chain,         // job.nested-kill-on-close
  job_port_only_immediate_job,          // job.completion-port-chain
  job_port_zero_per_child_job,          // job.completion-port-chain
  // A thread's end and the DllMain calls it makes, on which thread.
  exit_thread_detach_on_main_thread,    // thread-end.exit-thread-detach
  exit_thread_detach_every_thread,      // thread-end.exit-thread-detach
  exit_thread_sends_process_detach,     // thread-end.exit-thread-detach
  exit_thread_detach_twice,             // thread-end.exit-thread-detach
  thread_return_no_detach,              // thread-end.exit-thread-detach
  thread_return_code_zero,              // thread-end.code-replaces-still-active
  exitprocess_detach_on_helper_thread,  // exitprocess.caller-signaled-after-detach
  exitprocess_caller_gets_thread_detach,  // exitprocess.caller-signaled-after-detach
  worker_exitprocess_detach_on_main,    // exitprocess.caller-signaled-after-detach
  exitprocess_detach_per_thread,        // exitprocess.no-thread-detach
  terminate_thread_detach_on_main,      // terminate-thread.no-detach
  // The rest of the termination APIs' pages, fatal paths and console handlers.
  terminate_ended_rewrites_code,        // terminate.ended-access-denied
  terminate_without_right_still_kills,  // terminate.needs-terminate-right
  terminate_self_others_code_zero,      // terminate.threads-get-the-code
  unhandled_filter_called_twice,        // fatal.unhandled-filter
  fail_fast_is_access_violation,        // fatal.fail-fast
  stack_overflow_is_fail_fast,          // fatal.stack-overflow
  stack_overflow_ends_the_thread,       // fatal.stack-overflow
  ctrl_remove_every_registration,       // ctrl.handler-registered-twice
  ctrl_remove_pops_last,                // ctrl.handler-removed
  terminate_ended_invalid_handle,       // terminate.ended-access-denied
  exitprocess_threads_code_zero,        // exitprocess.threads-signaled-before-detach
  thread_still_active_after_end,        // thread-end.code-replaces-still-active
  exited_thread_wakes_one_waiter,       // thread-end.waiters-released
  terminate_thread_ends_process,        // terminate-thread.code
  terminated_thread_mutex_released,     // terminate-thread.mutex-abandoned
  terminate_job_threads_code_zero,      // job.terminate-code
  assign_replaces_job,                  // job.nested-kill-on-close
  job_port_zero_before_exit,            // job.completion-port
  breakaway_denied_wrong_error,         // job.breakaway-denied
  count_                                 // not a mutant: how many there are
};
static_assert(static_cast<int>(Mutant::count_) <= 256, "Model::consulted() has room for 256 mutants");

struct MutantInfo {
  Mutant id;
  std::string_view name;
  std::string_view claim;
  std::string_view wrong_rule;
};
const std::vector<MutantInfo>& mutants();
std::optional<Mutant> find_mutant(std::string_view name);

// ------------------------------------------------------------------------------------------
using ObjectId = std::uint64_t;
enum class ObjectKind { process, thread, job, event, section, mutex, pipe, pipe_client };

// What a verb expands into, run one per scheduler step before the thread's next verb: DllMain
// calls, termination handlers, the loader lock. (The loader's rules live in these steps.)
struct Micro {
  enum class Kind {
    emit,                 // report `ev` with `fields`
    lock_loader,          // take the loader lock; blocks while another thread holds it
    unlock_loader,
    dllmain_enter,        // `text` = reason; fields: reserved, shutdown
    dllmain_leave,        // reports dllmain-return {reason, inside}
    hold,                 // a bounded wait on nothing, `ms` long
    wait_named,           // wait (`ms` at most) on the named event `text`; then report `ev` + fields + result
    create_sign_thread,   // a thread whose first act is to set the process's sign of life
    wait_sign,            // wait 500 ms at most for the sign; report probe-sign {during: text, seen}
    set_sign,
    unload_probe,         // FreeLibrary done: the probe is gone
    exit_process_locked,  // ExitProcess(code) with the loader lock held
    finish_exit,          // after the DLLs were told: end the process with `code`
    end_thread,           // after DLL_THREAD_DETACH: the thread ends with `code`
    ctrl_begin,           // CtrlRoutine starts, for event `code`: is it ignored?
    ctrl_handler,         // a console control handler (mode `text`) called for event `code`
    ctrl_default,         // no handler returned TRUE: the default handler, for event `code`
    ctrl_done,            // a handler returned TRUE for event `code`
    guard_leave,          // the thread leaves a guarded frame (guarded-wait): its handler has run
    become_last,          // become-last-thread: wait (`ms` at most) until no other thread of the process runs
  };
  // Positional, as the steps are written ({kind, ev, fields, text, ms, code}); what is left out
  // is empty.
  Micro(Kind kind, std::string ev = {}, nlohmann::json fields = nlohmann::json::object(), std::string text = {},
        std::uint64_t ms = 0, std::uint32_t code = 0)
      : kind(kind), ev(std::move(ev)), fields(std::move(fields)), text(std::move(text)), ms(ms), code(code) {}

  Kind kind;
  std::string ev;
  nlohmann::json fields;
  std::string text;
  std::uint64_t ms;
  std::uint32_t code;
};
enum class RunState { running, terminating, terminated };

// Which program a process runs: the console actor or the GUI actor (windows subsystem).
enum class Image { console, gui };

// A message in a thread's queue.
struct Message {
  enum class Kind { close, registered, drain_marker } kind = Kind::close;
  std::uint64_t hwnd = 0;   // 0: a thread message
  std::uint32_t id = 0;     // registered: the message id
  std::uint64_t token = 0;  // a sent message (SendMessage): its sender waits until it is handled
};
std::string_view to_string(RunState s);

struct ThreadObj {
  ObjectId id = 0;
  std::uint32_t tid = 0;
  ObjectId process = 0;
  RunState state = RunState::running;
  std::uint32_t exit_code = kStillActive;
  bool main = false;
  bool signaled = false;
  bool started = false;  // the main thread's first step reports "start"
  const verbs::Block* code = nullptr;
  std::size_t pc = 0;
  // Blocked: on an object (with the actor's own deadline), forever, or in I/O.
  enum class Block { none, object, forever, io } blocked = Block::none;
  ObjectId wait_on = 0;
  std::uint64_t wait_handle = 0;     // the handle the wait used (wait-pid's, closed afterwards)
  std::uint64_t wait_deadline = 0;
  int waiter = 0;                    // its registration as a waiter on wait_on
  // Pending I/O: the driver holds the request (and so this thread) until it finishes cancelling.
  bool irp_pending = false;
  bool irp_driver = false;                      // the (wedged) device driver: its delay, read at cancel time
  std::optional<std::uint64_t> irp_cancel_ms;   // else how long cancelling takes (nullopt: never)
  std::optional<std::uint64_t> irp_release_at;
  std::uint64_t created_at = 0, exited_at = 0;  // virtual ms
  std::uint32_t pending_exit_code = 0;
  std::deque<Micro> micros;               // to run before the next verb
  std::optional<std::uint64_t> wake_at;   // when a timed block (hold, wait) ends
  std::uint64_t hold_until = 0;
  std::size_t last_wait_others = 0;       // become-last-thread: the other threads it found running
  std::string done_ev;                    // what a finished object wait reports
  nlohmann::json done_fields;
  int dll_inside_max = 0;                 // highest count of threads in DllMain during this call
  bool thread_local_object = false;       // `thread-local-object` ran on this thread
  bool guarded = false;                   // inside `guarded-wait`'s frame, before its handler ran
  // A GUI actor's main thread: its verbs, its message queue, and where it is in them.
  const gui_verbs::Program* gui_code = nullptr;
  std::deque<Message> queue;
  enum class Pump { none, drain, loop } pump = Pump::none;  // pumping messages: in `drain`, or the loop
  int dispatched = 0;                     // drain: messages dispatched before the marker
  std::optional<std::uint32_t> quit;      // PostQuitMessage's code, until the loop sees WM_QUIT
  bool cbt_hook = false;                  // a WH_CBT hook on this thread
  struct Send {                           // broadcast-private-send in progress
    bool active = false;
    std::string name;
    std::uint32_t message = 0;
    std::vector<std::uint64_t> targets;
    std::size_t next = 0;
    std::uint64_t token = 0;              // the message sent, not yet handled
    ObjectId receiver = 0;
  } send;
};

struct ProcessObj {
  ObjectId id = 0;
  std::uint32_t pid = 0;
  std::uint32_t parent_pid = 0;
  std::uint64_t created_at = 0;  // virtual ms
  std::string image;
  RunState state = RunState::running;
  std::uint32_t exit_code = kStillActive;
  std::uint32_t pending_exit_code = 0;
  bool signaled = false;
  bool harness = false;
  std::vector<ObjectId> threads;                 // every thread object it has had
  std::map<std::uint64_t, ObjectId> handles;     // its handle table
  std::uint64_t next_handle = 4;
  ObjectId job = 0;
  int channel = -1;
  std::uint64_t seq = 0;
  std::shared_ptr<const verbs::Block> program;
  // The probe DLL, the loader lock, and the C runtime's termination handlers.
  bool probe_loaded = false;
  verbs::ProbeOptions probe;
  ObjectId loader_owner = 0;
  int loader_depth = 0;
  int dll_inside = 0;
  bool sign = false;
  int atexit_registered = 0;  // registrations: each one runs (the same routine registered twice runs twice)
  bool static_object = false;
  // What exit() runs, in the order it was registered (atexit) or constructed (a static object);
  // exit() runs it backwards.
  std::vector<std::string> exit_handlers;
  bool unhandled_filter = false;  // SetUnhandledExceptionFilter: returns EXCEPTION_EXECUTE_HANDLER
  // Consoles and process groups.
  Image image_kind = Image::console;
  std::shared_ptr<const gui_verbs::Program> gui_program;
  std::uint32_t console = 0;                  // the console it is attached to (0: none)
  std::uint32_t group = 0;                    // its process group id
  bool ignore_ctrl_c = false;                 // SetConsoleCtrlHandler(NULL, TRUE)
  std::vector<verbs::CtrlMode> ctrl_handlers; // in registration order
  std::optional<std::uint64_t> close_deadline;  // CTRL_CLOSE_EVENT delivered: ended at this time
  // Windows (the GUI actor).
  bool had_window = false;                    // `window` or `listen-private` ran: the loop runs
  std::vector<std::uint64_t> gui_windows;     // `window` windows, in creation order
  int live_windows = 0;                       // `window` windows not yet destroyed
  std::uint64_t listener = 0;
  std::vector<std::pair<std::string, std::uint32_t>> listening;  // name, registered message id
  // Handles to processes opened without PROCESS_TERMINATE (open_process_without_terminate).
  std::set<std::uint64_t> without_terminate;
};

// A top-level window. Console windows belong to the console (its host), not to an actor.
struct WindowObj {
  std::uint64_t hwnd = 0;
  enum class Role { window, listener, console } role = Role::window;
  gui_verbs::WindowKind kind{};
  ObjectId process = 0;
  ObjectId thread = 0;
  std::uint32_t console = 0;  // a console window: its console
  bool visible = false;
  std::string title;
};

struct ConsoleObj {
  std::uint32_t id = 0;
  ObjectId root = 0;       // the process that created it: the owner of its window
  std::uint64_t hwnd = 0;  // its window (GetConsoleWindow)
  bool closed = false;     // its window was closed: every process attached got CTRL_CLOSE_EVENT
};

// Events, sections, mutexes and the client ends of pipes: objects with a name, kept by handles.
struct NamedObj {
  ObjectId id = 0;
  ObjectKind kind = ObjectKind::event;
  std::string name;
  bool signaled = false;      // event
  std::string text;           // section: what its creator wrote at offset 0
  ObjectId owner = 0;         // mutex: the owning thread (or the harness process)
  bool abandoned = false;     // mutex: its owner ended without releasing it
  std::uint32_t creator = 0;  // pid of the process that created it
};

// A named pipe whose server end the harness holds.
struct PipeObj {
  ObjectId id = 0;
  std::string name;
  bool harness_reads = true;  // the actor is the writer (else the reader)
  bool connected = false;
  ObjectId client = 0;        // the client end's object, once an actor opened it
};

struct JobObj {
  ObjectId id = 0;
  bool kill_on_close = false;
  bool closed = false;  // its last handle was closed
  std::vector<ObjectId> members;  // the processes whose immediate job it is
  // Limits, nesting and the completion port (sim/src/model_jobs.cpp).
  ObjectId parent = 0;            // nested jobs: the parent job (0: a top-level job)
  bool breakaway_ok = false;      // JOB_OBJECT_LIMIT_BREAKAWAY_OK
  bool silent_breakaway_ok = false;  // JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK
  bool port = false;              // a completion port is associated
  int active = 0;                 // active processes (this job and its child jobs)
  std::vector<std::pair<std::uint32_t, std::uint32_t>> messages;  // JOB_OBJECT_MSG_*, pid
};

// Why an object still exists: one reason per line, each naming what holds it.
struct Keeper {
  std::string reason;
  ObjectId via = 0;  // the object that holds it (a thread object, for a process), if any
};

struct TraceLine {
  std::uint64_t time;  // virtual milliseconds
  std::string text;
};

// How CreateProcess starts a process.
struct ProcessOptions {
  Image image = Image::console;
  bool new_group = false;    // CREATE_NEW_PROCESS_GROUP
  bool new_console = false;  // CREATE_NEW_CONSOLE
  bool breakaway = false;    // CREATE_BREAKAWAY_FROM_JOB (checked by the spawner first)
};

class Model {
 public:
  explicit Model(Mutant mutant = Mutant::none);

  Mutant mutant() const { return mutant_; }
  // Whether this model has rule `m` wrong. Every rule that a mutant changes asks here, so a run
  // knows which mutants' rules it consulted: a mutant whose rule a run never consulted plays that
  // run exactly as the documented model does (consulted()).
  bool is(Mutant m) const {
    consulted_.set(static_cast<std::size_t>(m));
    return mutant_ == m;
  }
  const std::bitset<256>& consulted() const { return consulted_; }
  std::uint64_t now() const { return now_; }
  std::uint32_t harness_pid() const;

  // --- actions ---------------------------------------------------------------------------
  struct Created {
    std::uint32_t pid = 0, tid = 0;
    std::uint64_t process_handle = 0, thread_handle = 0;  // in the creator's handle table
  };
  // CreateProcess by `creator` (pid), running `program` (argv verbs), in `job` (0: the
  // creator's job), reporting on `channel`. A program that does not parse runs as the actor
  // does: it reports usage-error and exits with 0xBADA. Call run() afterwards.
  using CreateOptions = ProcessOptions;
  Created create_process(std::uint32_t creator, const std::vector<std::string>& argv, ObjectId job, int channel,
                         CreateOptions options = {});
  ObjectId create_job(std::uint32_t owner, bool kill_on_close, std::uint64_t* handle);
  // Jobs (sim/src/model_jobs.cpp). Call run() afterwards.
  void set_job_limits(ObjectId job, bool breakaway_ok, bool silent_breakaway_ok, bool port);
  bool terminate_job(ObjectId job, std::uint32_t code);          // TerminateJobObject
  std::uint32_t assign_to_job(ObjectId job, ObjectId process);   // AssignProcessToJobObject: 0 or the error
  ObjectId create_event(std::uint32_t owner, std::string name, std::uint64_t* handle);  // manual reset
  bool set_event(ObjectId event);
  // Opens a named object (event, section, mutex) for `owner`; ERROR_FILE_NOT_FOUND if none.
  std::optional<std::uint64_t> open_named(std::uint32_t owner, ObjectKind kind, std::string_view name, std::uint32_t* error);
  ObjectId create_pipe(std::uint32_t owner, std::string name, bool harness_reads, std::uint64_t* handle);
  // A waiter (the harness, `who`) takes a free mutex: {taken, it was abandoned}.
  std::pair<bool, bool> take_mutex(ObjectId mutex, ObjectId who);
  bool release_mutex(ObjectId mutex, ObjectId who);
  // The pipe's far end: true once the client that connected has no handle left.
  bool pipe_broken(ObjectId pipe) const;
  bool pipe_connected(ObjectId pipe) const;
  // Shutdown parameters of the harness process: 0 or the error.
  std::uint32_t set_shutdown_parameters(std::uint32_t level, std::uint32_t flags);
  std::pair<std::uint32_t, std::uint32_t> shutdown_parameters() const;
  ObjectId harness_object() const { return harness_; }
  bool terminate_process(ObjectId process, std::uint32_t code, std::string_view why);
  // TerminateProcess through a handle (with or without PROCESS_TERMINATE) and TerminateThread:
  // 0, or the Win32 error (sim/src/model_threads.cpp).
  std::uint32_t terminate_process_status(ObjectId process, std::uint32_t code, bool terminate_right);
  std::uint32_t terminate_thread(ObjectId thread, std::uint32_t code);
  // Records that `owner`'s handle `handle` (to a process) lacks PROCESS_TERMINATE.
  void mark_without_terminate(std::uint32_t owner, std::uint64_t handle);
  bool close_handle(std::uint32_t owner, std::uint64_t handle);
  std::optional<std::uint64_t> open_by_id(std::uint32_t owner, ObjectKind kind, std::uint32_t id, std::uint32_t* error);
  void set_driver_cancel_delay(std::uint64_t ms) { driver_cancel_ms_ = ms; }

  // Consoles, windows and taskkill. Each returns 0 or the Win32 error (taskkill: its
  // exit status). Call run() afterwards.
  bool own_console(std::uint32_t pid);  // FreeConsole + AllocConsole (idempotent for the harness)
  std::uint32_t generate_ctrl_event(std::uint32_t sender_pid, std::uint32_t type, std::uint32_t group);
  std::uint32_t post_close(std::uint64_t hwnd);  // PostMessage(hwnd, WM_CLOSE)
  // taskkill /pid PID [/f] [/t], run by the harness (in its console and group); `until` bounds
  // what it may wait for.
  std::uint32_t taskkill(std::uint32_t pid, bool force, bool tree, std::uint64_t until);

  // Runs every runnable thread, step by step, until none can move.
  void run();
  // Advances virtual time (firing actor wait deadlines and driver completions) until `done`
  // holds or `until` is reached. Returns done().
  bool advance_until(std::uint64_t until, const std::function<bool()>& done);

  // Harness waiters: like threads of the harness blocked on an object.
  int add_waiter(ObjectId object);
  bool waiter_released(int waiter) const;
  void remove_waiter(int waiter);

  // --- queries ------------------------------------------------------------------------------
  std::optional<ObjectId> resolve(std::uint32_t owner, std::uint64_t handle) const;
  std::optional<ObjectKind> kind(ObjectId id) const;
  bool signaled(ObjectId id) const;
  std::optional<std::uint32_t> exit_code_process(ObjectId id) const;  // GetExitCodeProcess
  std::optional<std::uint32_t> exit_code_thread(ObjectId id) const;   // GetExitCodeThread
  std::optional<std::uint32_t> parent_of(std::uint32_t pid) const;    // Toolhelp
  const ProcessObj* process(ObjectId id) const;
  const ProcessObj* process_by_pid(std::uint32_t pid) const;
  const ThreadObj* thread(ObjectId id) const;
  const JobObj* job(ObjectId id) const;
  const NamedObj* named(ObjectId id) const;
  const PipeObj* pipe(ObjectId id) const;
  const std::map<ObjectId, ProcessObj>& processes() const { return processes_; }
  const std::map<ObjectId, ThreadObj>& threads() const { return threads_; }
  const std::map<ObjectId, JobObj>& jobs() const { return jobs_; }
  const std::map<std::uint64_t, WindowObj>& windows() const { return windows_; }
  const std::map<std::uint32_t, ConsoleObj>& consoles() const { return consoles_; }
  // Why `id` still exists (empty: it does not, or nothing keeps it and it is about to go).
  std::vector<Keeper> keepers(ObjectId id) const;
  // Every handle, by the object it refers to: (owning process object, handle value).
  using HandleIndex = std::map<ObjectId, std::vector<std::pair<ObjectId, std::uint64_t>>>;
  HandleIndex handle_index() const;
  std::string describe(ObjectId id) const;  // "process 104 (actor-console)", "thread 108 of process 104"

  const std::vector<Event>& channel(int c) const;
  int new_channel();
  const std::vector<TraceLine>& trace() const { return trace_; }

 private:
  ProcessObj* process_mut(ObjectId id);
  ThreadObj* thread_mut(ObjectId id);
  std::uint32_t allocate_client_id();
  std::uint64_t add_handle(ProcessObj& owner, ObjectId target);
  ObjectId new_thread(ProcessObj& p, const verbs::Block* code, bool main);
  void emit(const ThreadObj& t, std::string_view ev, nlohmann::json fields = nlohmann::json::object());
  // A whole DllMain call of the probe on `t` (its dllmain and dllmain-return records), as the
  // mutants make it on a thread the rule does not call.
  void emit_dllmain_call(const ThreadObj& t, std::string_view reason, bool reserved, bool shutdown);
  void log(std::string text);
  bool step(ThreadObj& t);  // one step; false if it cannot move
  bool run_micro(ThreadObj& t);
  void start_verb(ThreadObj& t, const verbs::Step& s);
  // The actors' spawn verbs: CreateProcess of the block `args` on the spawner's channel, report
  // `spawned`, close the child's handles (all but the thread handle if `keep_thread_handle`).
  void spawn_child(ThreadObj& t, const std::vector<std::string>& args, CreateOptions options,
                   bool keep_thread_handle = false);
  void block_on(ThreadObj& t, ObjectId object, std::uint64_t handle, std::uint64_t ms, std::string done_ev,
                nlohmann::json done_fields);
  void push_thread_init(ThreadObj& t);
  void push_probe_call(ThreadObj& t, std::string_view reason, bool create_thread,
                       const std::optional<std::string>& block_on_event);
  void push_thread_exit(ThreadObj& t, std::uint32_t code, bool by_return = false);
  void push_process_exit(ThreadObj& t, std::uint32_t code, bool run_handlers);
  void abandon_mutexes(const ThreadObj& t);
  ObjectId create_named(ProcessObj& creator, ObjectKind kind, std::string name, std::uint64_t* handle);
  PipeObj* find_pipe(std::string_view name, bool harness_reads);
  void exit_thread(ThreadObj& t, std::uint32_t code);
  void exit_process(ProcessObj& p, std::uint32_t code, std::string_view how);
  void kill_thread(ThreadObj& t, std::uint32_t code, bool abandon = true);
  void maybe_finish(ProcessObj& p);
  void signal(ObjectId id);
  void close_all_handles(ProcessObj& p);
  void job_handle_closed(JobObj& j);
  void collect();
  std::vector<Keeper> keepers(ObjectId id, const HandleIndex& index) const;
  int handle_count(ObjectId id) const;
  // Consoles and control events.
  std::uint32_t new_console(ObjectId root);
  // Jobs, fatal paths and console handlers (sim/src/model_jobs.cpp).
  std::vector<ObjectId> job_chain(ObjectId job) const;           // the job, its parent, ... up to the top
  std::vector<ObjectId> processes_in_job(ObjectId job) const;    // its processes and its child jobs'
  ObjectId child_job(const ProcessObj& creator, bool breakaway) const;
  bool breakaway_refused(const ProcessObj& creator) const;
  void job_process_added(const ProcessObj& p);
  void job_process_ended(const ProcessObj& p);
  std::uint32_t fatal_exit_code(ThreadObj& t, const verbs::Step& s);
  void remove_ctrl_handler(ThreadObj& t, verbs::CtrlMode mode);

 public:
  // The process that created console `id` (the owner of its window), 0 if none.
  ObjectId console_root(std::uint32_t id) const {
    auto it = consoles_.find(id);
    return it == consoles_.end() ? 0 : it->second.root;
  }

 private:
  bool console_alive(std::uint32_t console) const;
  void deliver_ctrl(ProcessObj& p, std::uint32_t type);
  void close_console(std::uint32_t console);
  void console_verb(ThreadObj& t, const verbs::Step& s);
  bool run_ctrl_micro(ThreadObj& t);
  bool check_close_deadlines();
  // Windows and messages.
  bool gui_step(ThreadObj& t);
  void gui_verb(ThreadObj& t, const gui_verbs::Step& s);
  bool send_step(ThreadObj& t);
  void dispatch(ThreadObj& t, const Message& m);
  std::uint64_t create_window(ThreadObj& t, WindowObj w);
  void destroy_window(ThreadObj& t, std::uint64_t hwnd);
  void release_windows(ProcessObj& p, std::string_view why);
  void cbt(const ThreadObj& t, int code, std::uint64_t hwnd);
  bool post_message(std::uint64_t hwnd, Message m);
  std::vector<std::uint64_t> top_level_windows(ObjectId process) const;  // EnumWindows order
  std::uint32_t register_message(std::string_view name);
  bool taskkill_graceful(ProcessObj& p);

  Mutant mutant_;
  mutable std::bitset<256> consulted_;
  std::uint64_t now_ = 0;
  ObjectId next_object_ = 1;
  std::uint64_t driver_cancel_ms_ = 5'000;
  std::map<ObjectId, ProcessObj> processes_;
  std::map<ObjectId, ThreadObj> threads_;
  std::map<ObjectId, JobObj> jobs_;
  std::map<ObjectId, NamedObj> named_;
  std::map<ObjectId, PipeObj> pipes_;
  std::map<std::uint64_t, WindowObj> windows_;
  std::uint64_t next_hwnd_ = 0x10010;
  std::map<std::uint32_t, ConsoleObj> consoles_;
  std::uint32_t next_console_ = 1;
  std::map<std::string, std::uint32_t> registered_;  // RegisterWindowMessage: lower-cased name -> id
  std::set<std::uint64_t> pending_sends_;            // sent messages not yet handled
  std::uint64_t next_token_ = 1;
  std::uint32_t shutdown_level_ = 0x280, shutdown_flags_ = 0;
  std::map<std::uint32_t, ObjectId> client_ids_;  // pid/tid -> object, while the object exists
  ObjectId harness_ = 0;
  struct Waiter {
    ObjectId object;
    bool released = false;
  };
  std::map<int, Waiter> waiters_;
  int next_waiter_ = 1;
  std::vector<std::vector<Event>> channels_;
  std::vector<TraceLine> trace_;
};

}  // namespace termsuite::sim
