#pragma once
// The actors' verb language, parsed into a tree of steps. Portable: the console actor runs the
// tree on Windows, the simulator interprets the same tree in its model, so a scenario is written
// once for both. Reference: docs/actors.md.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace termsuite::verbs {

enum class Op {
  Ready, Mark, Return, ExitProcess, ExitThread, TerminateSelf, Crash,
  Thread, Spawn, SpawnLeakThread, WaitForever, WaitPid, WaitParent, WaitMain,
  ReadDevice,  // simulator only: block in I/O that a (simulated) driver completes
  // The probe DLL and termination handlers.
  LoadProbe, FreeProbe, Exit, AtExit, StaticObject, ThreadLocalObject, WaitEvent,
  GuardedWait,  // guarded-wait NAME: wait-event inside a frame with a termination handler
  // Objects and I/O that outlive (or die with) the process. Operand: `name`.
  CreateEvent,         // create-event NAME: named manual-reset event, kept for the process's life
  CreateSection,       // create-section NAME: 4096-byte named section, view holds "termsuite:<pid>"
  OwnMutex,            // own-mutex NAME: named mutex created owned by the running thread
  WritePipe,           // write-pipe NAME: open \\.\pipe\NAME for writing, keep it open
  ReadPipe,            // read-pipe NAME: synchronous ReadFile on \\.\pipe\NAME (blocks)
  ReadPipeOverlapped,  // read-pipe-overlapped NAME: overlapped ReadFile, bounded wait for it
  // Consoles, process groups and console control handlers.
  CtrlHandler,   // ctrl-handler MODE: SetConsoleCtrlHandler(handler acting by `ctrl`, TRUE)
  IgnoreCtrlC,   // ignore-ctrl-c: SetConsoleCtrlHandler(NULL, TRUE)
  AcceptCtrlC,   // accept-ctrl-c: SetConsoleCtrlHandler(NULL, FALSE) (undo it, or the new group's)
  CtrlSend,      // ctrl-send TYPE GROUP: GenerateConsoleCtrlEvent(`number`, `group`)
  SpawnGroup,    // spawn-group [ .. ]: spawn with CREATE_NEW_PROCESS_GROUP
  SpawnConsole,  // spawn-console [ .. ]: spawn with CREATE_NEW_CONSOLE
  NewConsole,    // new-console: FreeConsole, then AllocConsole
  ConsoleWindow, // console-window: report GetConsoleWindow() (for the harness to close it)
  // Jobs, fatal paths and more of SetConsoleCtrlHandler.
  SpawnBreakaway,     // spawn-breakaway [ .. ]: spawn with CREATE_BREAKAWAY_FROM_JOB
  Abort,              // abort: the C runtime's abort()
  UnhandledFilter,    // unhandled-filter: SetUnhandledExceptionFilter(a filter returning EXCEPTION_EXECUTE_HANDLER)
  RemoveCtrlHandler,  // remove-ctrl-handler MODE: SetConsoleCtrlHandler(handler of `ctrl`, FALSE)
  // Ending one thread without ExitThread.
  TerminateThreadSelf,  // terminate-thread N: TerminateThread(GetCurrentThread(), N)
  // become-last-thread: wait (kLastThreadWaitMs at most) until the running thread is the process's
  // last one (the other threads, system-started ones too, have ended); report `last-thread`
  BecomeLastThread,
};
enum class CrashKind { AccessViolation, DivideByZero, Raise, StackOverflow, FailFast };

// What a `ctrl-handler MODE` handler does after reporting the event:
//   true   return TRUE (handled: no further handler runs)
//   false  return FALSE (the next handler runs, finally the default one)
//   exit   the C runtime's exit(kCtrlExitCode), like "Remote Process Termination"'s choice.exe: atexit routines run
//   hold   wait kCtrlHoldMs on an event nobody sets, then return TRUE (how long may it run?)
enum class CtrlMode { ReturnTrue, ReturnFalse, Exit, Hold };

inline constexpr std::uint32_t kCtrlExitCode = 0x43;       // ctrl-handler exit: exit(0x43)
inline constexpr std::uint32_t kCtrlHoldMs = 20'000;       // ctrl-handler hold: the bounded wait
// become-last-thread's deadline: Windows 10 and later start loader thread-pool workers before main,
// which idle about 30 s before they leave.
inline constexpr std::uint32_t kLastThreadWaitMs = 45'000;
inline constexpr std::uint32_t kStatusControlCExit = 0xC000013A;  // STATUS_CONTROL_C_EXIT

// Console control event types (the HandlerRoutine's dwCtrlType).
inline constexpr std::uint32_t kCtrlCEvent = 0;
inline constexpr std::uint32_t kCtrlBreakEvent = 1;
inline constexpr std::uint32_t kCtrlCloseEvent = 2;
inline constexpr std::uint32_t kCtrlLogoffEvent = 5;
inline constexpr std::uint32_t kCtrlShutdownEvent = 6;

inline constexpr std::uint32_t kAccessViolation = 0xC0000005;  // STATUS_ACCESS_VIOLATION
inline constexpr std::uint32_t kIntegerDivideByZero = 0xC0000094;  // STATUS_INTEGER_DIVIDE_BY_ZERO
inline constexpr std::uint32_t kStackOverflow = 0xC00000FD;   // STATUS_STACK_OVERFLOW
inline constexpr std::uint32_t kFailFast = 0xC0000409;        // STATUS_STACK_BUFFER_OVERRUN: __fastfail
inline constexpr std::uint32_t kFastFailCode = 7;             // FAST_FAIL_FATAL_APP_EXIT, crash fail-fast's code

// The probe DLL's behaviours, chosen by `load-probe [ OPTION... ]` and handed to the DLL in the
// environment variable kProbeEnvVar (probe_spec's text), which the DLL reads back with
// parse_probe_spec at DLL_PROCESS_ATTACH. Options:
//   attach-thread          create a thread in DLL_PROCESS_ATTACH, give it 500 ms to show life
//   detach-thread          the same in DLL_PROCESS_DETACH
//   block-attach NAME      block DLL_PROCESS_ATTACH on the named event NAME (30 s at most)
//   block-detach NAME      the same in DLL_PROCESS_DETACH
//   slow-thread-attach MS  hold every DLL_THREAD_ATTACH/DETACH for MS milliseconds
inline constexpr const char* kProbeEnvVar = "TERMSUITE_PROBE";

struct ProbeOptions {
  bool attach_thread = false;
  bool detach_thread = false;
  std::optional<std::string> block_attach;  // event name
  std::optional<std::string> block_detach;  // event name
  std::optional<std::uint32_t> slow_thread_attach_ms;

  bool operator==(const ProbeOptions&) const = default;
};

// The options as tokens separated by single spaces, in the order listed above ("" for none).
std::string probe_spec(const ProbeOptions& options);

// Reads probe_spec's text (any whitespace separates tokens). Never throws: on a bad spec, returns
// nullopt and sets *error (if given).
std::optional<ProbeOptions> parse_probe_spec(std::string_view spec, std::string* error = nullptr) noexcept;

struct Step;
using Block = std::vector<Step>;

struct Step {
  Op op{};
  std::uint32_t number = 0;       // exit code, pid, exception code, ctrl-send's TYPE
  std::uint32_t group = 0;        // ctrl-send's GROUP (a process group id, 0: the sender's console)
  CtrlMode ctrl{};                // ctrl-handler
  std::string name;               // mark, wait-event, the object and pipe verbs
  CrashKind crash{};              // crash
  Block body;                     // thread, spawn
  std::vector<std::string> args;  // spawn: the block's tokens, handed to the child verbatim;
                                  // load-probe: the option tokens
  ProbeOptions probe;             // load-probe
};

struct UsageError {
  std::string message;
};

std::string_view crash_name(CrashKind k);  // "av", "div0", "raise", "stack-overflow", "fail-fast"

std::string_view ctrl_mode_name(CtrlMode m);  // "true", "false", "exit", "hold"
std::optional<CtrlMode> parse_ctrl_mode(std::string_view text);

// ctrl-event's `name`: "ctrl-c", "ctrl-break", "ctrl-close", "ctrl-logoff", "ctrl-shutdown";
// "unknown" for any other value (3 and 4 are unused).
std::string_view ctrl_event_name(std::uint32_t type);

// The text create-section writes at offset 0 of its view (NUL-terminated): "termsuite:<pid>".
std::string section_text(std::uint32_t pid);

// Decimal or 0x hex, unsigned 32-bit.
std::optional<std::uint32_t> parse_u32(std::string_view text);

// Parses a whole argv (without the program name). Throws UsageError naming the argument.
Block parse(std::vector<std::string> tokens);

// True if the block (or a nested one) uses `op`.
bool uses(const Block& block, Op op);

}  // namespace termsuite::verbs
