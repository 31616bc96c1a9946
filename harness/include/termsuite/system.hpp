#pragma once
// The System interface: what a conformance test drives. One implementation runs actors on the
// real platform (live: Windows or Wine), another on the simulator (sim/). A test is written once
// against this interface and runs on every backend.
//
// Vocabulary follows Win32 so a reader can map each call to the API it stands for; no Win32 type
// appears here, so the interface builds on any OS.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/backend.hpp"
#include "termsuite/deadline.hpp"
#include "termsuite/platform.hpp"
#include "termsuite/report.hpp"

namespace termsuite {

// A handle the System handed out (process, thread or job). The System owns it: it is closed by
// close() or when the System is torn down. A zero handle is "none".
struct Handle {
  std::uint64_t value = 0;
  explicit operator bool() const { return value != 0; }
  friend bool operator==(Handle, Handle) = default;
};

enum class WaitResult { signaled, timeout, abandoned, failed };
std::string_view to_string(WaitResult r);

// An actor the System started: the PROCESS_INFORMATION, with the process and the thread handle
// kept apart (the thread handle alone keeps a corpse; see corpse.* claims).
struct Actor {
  int channel = 0;          // which report channel carries its (and its descendants') records
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  Handle process;
  Handle thread;
};

struct ActorSpec {
  std::string kind = "console";        // which actor program: "console" or "gui" (actor-gui)
  std::vector<std::string> verbs;      // its behaviour (docs/actors.md)
  Handle job;                          // the job to start it in; none = the test's sandbox job
  bool new_group = false;              // CREATE_NEW_PROCESS_GROUP: leads a group (id = its pid)
  bool new_console = false;            // CREATE_NEW_CONSOLE: a console of its own
};

// The result of opening an object by id: a handle, or the Win32 error code the open failed with.
struct Opened {
  Handle handle;
  std::uint32_t error = 0;
};

struct JobOptions {
  bool kill_on_close = true;
  bool breakaway_ok = false;         // JOB_OBJECT_LIMIT_BREAKAWAY_OK
  bool silent_breakaway_ok = false;  // JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK
  bool completion_port = false;      // a completion port of its own, read by job_messages()
};

// A message a job posted to its completion port: JOB_OBJECT_MSG_* and the process id it carries.
struct JobMessage {
  std::uint32_t message = 0;
  std::uint32_t pid = 0;
  friend bool operator==(const JobMessage&, const JobMessage&) = default;
};
inline constexpr std::uint32_t kJobMsgActiveProcessZero = 4;    // JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO
inline constexpr std::uint32_t kJobMsgNewProcess = 6;           // JOB_OBJECT_MSG_NEW_PROCESS
inline constexpr std::uint32_t kJobMsgExitProcess = 7;          // JOB_OBJECT_MSG_EXIT_PROCESS
inline constexpr std::uint32_t kJobMsgAbnormalExitProcess = 8;  // JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS

// Several threads of the harness waiting on one object at once (signal.process-object).
struct WaitGroup {
  int id = 0;
};

class System {
 public:
  virtual ~System() = default;

  virtual std::string_view backend() const = 0;  // "live" or "sim"

  // Starts an actor (suspended, put in its job, then resumed, so its children are in the job
  // too). Throws std::runtime_error if it cannot be started.
  virtual Actor start(const ActorSpec& spec) = 0;

  // WaitForSingleObject with a deadline.
  virtual WaitResult wait(Handle h, Deadline d) = 0;
  // `waiters` threads wait on `h` at once until signaled or `d`; join() collects their results.
  virtual WaitGroup wait_async(Handle h, int waiters, Deadline d) = 0;
  virtual std::vector<WaitResult> join(WaitGroup g) = 0;

  virtual bool terminate(Handle process, std::uint32_t exit_code) = 0;            // TerminateProcess
  // TerminateProcess, TerminateThread: 0, or the Win32 error the call failed with.
  virtual std::uint32_t terminate_status(Handle process, std::uint32_t exit_code) = 0;
  virtual std::uint32_t terminate_thread(Handle thread, std::uint32_t exit_code) = 0;
  // OpenProcess with SYNCHRONIZE and PROCESS_QUERY_LIMITED_INFORMATION only: no PROCESS_TERMINATE.
  virtual Opened open_process_without_terminate(std::uint32_t pid) = 0;
  virtual std::optional<std::uint32_t> exit_code(Handle process) = 0;              // GetExitCodeProcess
  virtual std::optional<std::uint32_t> thread_exit_code(Handle thread) = 0;        // GetExitCodeThread
  virtual void close(Handle h) = 0;                                                // CloseHandle
  virtual Opened open_process(std::uint32_t pid) = 0;                              // OpenProcess
  virtual Opened open_thread(std::uint32_t tid) = 0;                               // OpenThread
  // The parent process id the system records for `pid` (Toolhelp's th32ParentProcessID).
  virtual std::optional<std::uint32_t> parent_pid(std::uint32_t pid) = 0;

  virtual Handle create_job(JobOptions options) = 0;  // CreateJobObject + limits

  // --- Jobs ----------------------------------------------------------------------------------
  virtual bool terminate_job(Handle job, std::uint32_t exit_code) = 0;  // TerminateJobObject
  // AssignProcessToJobObject: 0 or the Win32 error. A process already in a job makes `job` a
  // child of its job (nested jobs).
  virtual std::uint32_t assign_to_job(Handle job, Handle process) = 0;
  // The messages of a job created with completion_port (GetQueuedCompletionStatus), every one
  // received so far, waiting until JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO has come or `d` passes.
  virtual std::vector<JobMessage> job_messages(Handle job, Deadline d) = 0;

  // A named manual-reset event (CreateEvent), unsignaled, for an actor to wait on
  // (wait-event NAME, the probe's block-attach NAME). The name is unique to this test run.
  struct NamedEvent {
    Handle handle;
    std::string name;
  };
  virtual NamedEvent create_event(std::string_view hint) = 0;
  virtual bool set_event(Handle event) = 0;  // SetEvent

  // --- What remains after death -------------------------------------------------------------
  // Named objects, opened by name from the harness: OpenEvent, OpenFileMapping, OpenMutex. The
  // error of a failed open is the Win32 one (ERROR_FILE_NOT_FOUND once the object is gone).
  enum class NamedType { event, section, mutex };
  virtual Opened open_named(NamedType type, std::string_view name) = 0;
  virtual std::optional<std::string> read_section(Handle section) = 0;  // the text at offset 0
  virtual bool release_mutex(Handle mutex) = 0;                          // ReleaseMutex

  // A named pipe whose server end the harness holds; an actor opens \\.\pipe\<name>.
  enum class PipeUse { harness_reads, harness_writes };
  struct Pipe {
    Handle handle;
    std::string name;
  };
  virtual Pipe create_pipe(std::string_view hint, PipeUse use) = 0;
  enum class PipeIo { data, broken, timeout, failed };
  struct PipeResult {
    PipeIo io = PipeIo::failed;
    std::uint32_t error = 0;  // the Win32 error of a broken or failed call
  };
  // ReadFile on the harness's end: broken (ERROR_BROKEN_PIPE) once every writer has gone.
  virtual PipeResult read_pipe(Handle pipe, Deadline d) = 0;
  // WriteFile of one byte: broken (ERROR_NO_DATA or ERROR_BROKEN_PIPE) once the reader has gone.
  virtual PipeResult write_pipe(Handle pipe) = 0;

  // A thread's id and times from its handle alone (GetThreadId, GetThreadTimes), in 100 ns.
  struct ThreadTimes {
    std::uint32_t tid = 0;
    std::uint64_t creation = 0, exit = 0, kernel = 0, user = 0;
  };
  virtual std::optional<ThreadTimes> thread_times(Handle thread) = 0;
  // A process's creation time from its handle (GetProcessTimes), in 100 ns: with the pid it names
  // one process, so a pid that now names another process can be told apart.
  virtual std::optional<std::uint64_t> process_creation_time(Handle process) = 0;

  // SetProcessShutdownParameters / GetProcessShutdownParameters, for the harness's own process.
  // set returns 0 or the Win32 error it failed with.
  virtual std::uint32_t set_shutdown_parameters(std::uint32_t level, std::uint32_t flags) = 0;
  struct ShutdownParameters {
    std::uint32_t level = 0, flags = 0;
  };
  virtual std::optional<ShutdownParameters> shutdown_parameters() = 0;

  // --- Asking a process to leave -------------------------------------------------------------
  // Gives the harness a console of its own (FreeConsole, then AllocConsole; the harness's standard
  // handles are kept) and a control handler that returns TRUE for every event, so the harness
  // survives what it sends. It also clears an ignore-Ctrl+C flag the harness may have inherited
  // (SetConsoleCtrlHandler(NULL, FALSE): a suite started in a new process group, by `start /b` or
  // a CI agent, starts with Ctrl+C ignored, and its actors would inherit that). Actors started afterwards without new_console share that console, and
  // taskkill runs in it. Idempotent: the console stays for the life of the harness process.
  // False if no console could be made.
  virtual bool own_console() = 0;
  // GenerateConsoleCtrlEvent(type, group) from the harness's console (own_console first):
  // 0, or the Win32 error the call failed with (ERROR_GEN_FAILURE, 31, if it failed without
  // setting one, as Wine 8.0 does for types other than Ctrl+C and Ctrl+Break).
  virtual std::uint32_t ctrl_event(std::uint32_t type, std::uint32_t group) = 0;
  // PostMessage(hwnd, WM_CLOSE, 0, 0) to a window an actor reported (`hwnd` of its records, a
  // console window included): 0, or the Win32 error.
  virtual std::uint32_t post_close(std::uint64_t hwnd) = 0;
  // The class name of a window (GetClassName), or nullopt if `hwnd` names no window (IsWindow):
  // tells a classic console window (ConsoleWindowClass) from Windows Terminal's pseudo-console
  // window (PseudoConsoleWindow), and shows from outside that a window is gone.
  virtual std::optional<std::string> window_class(std::uint64_t hwnd) = 0;
  // The process a window is reported to belong to (GetWindowThreadProcessId), or nullopt if
  // `hwnd` names no window. For a console's window the console host reports its creator.
  virtual std::optional<std::uint32_t> window_process(std::uint64_t hwnd) = 0;
  // `taskkill /pid PID` (+ `/f`, `/t`), started in the harness's console and the test's sandbox
  // job, its output discarded (never judged: it is localised). Its exit status, or nullopt if it
  // had not finished by the deadline (it is then ended).
  struct TaskkillOptions {
    bool force = false;  // /f
    bool tree = false;   // /t
  };
  virtual std::optional<std::uint32_t> taskkill(std::uint32_t pid, TaskkillOptions options, Deadline d) = 0;

  // Report channel. await() returns the first record named `ev` (from process `pid` if non-zero)
  // that arrives by the deadline, or nullopt. Records are kept: awaiting again finds it again.
  virtual std::optional<Event> await(const Actor& a, std::string_view ev, Deadline d, std::uint32_t pid = 0) = 0;
  // The first `count` records named `ev`, or fewer if the deadline passes first.
  virtual std::vector<Event> await_n(const Actor& a, std::string_view ev, std::size_t count, Deadline d) = 0;
  virtual std::vector<Event> events(const Actor& a) = 0;  // everything received so far
  // True once every writer of the actor's channel is gone (the actor and all its descendants),
  // so events() is complete: what is not there was never written.
  virtual bool drained(const Actor& a, Deadline d) = 0;

  // End of test: ends every process the test left in its jobs and checks that each is gone.
  // Returns one line per problem (a survivor, a malformed record); empty when all is clean.
  virtual std::vector<std::string> reap() = 0;
};

// Each Windows backend (live, sim) provides this and backend.hpp's functions; the suite binary is
// linked with exactly one backend.
std::unique_ptr<System> make_system();

}  // namespace termsuite
