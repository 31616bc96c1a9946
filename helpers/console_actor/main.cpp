// actor-console: a console-subsystem program whose behaviour is a small verb language in argv.
//
//   actor-console [--report H] VERB...      e.g.  thread [ wait-main exit-thread 5 ] exit-thread 3
//
// The whole argv is parsed into a tree of steps first (so a usage error is found before any
// action), then the main thread interprets it left to right. Every step reports through the
// report channel before it acts. The verbs and events are documented in docs/actors.md.
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>
#include <tlhelp32.h>

#include <termsuite/actor_support.hpp>
#include <termsuite/report_writer.hpp>
#include <termsuite/verbs.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace report = termsuite::report;
namespace actor = termsuite::actor;
using json = nlohmann::ordered_json;

constexpr DWORD kCrashFailedExitCode = 0xBADC;  // a `crash` verb that did not end the process
constexpr DWORD kWaitDeadlineMs = 60'000;

using namespace termsuite::verbs;

// ---------------------------------------------------------------------------------------------
// Facts gathered once at start.

struct Startup {
  DWORD parent_pid = 0;
  DWORD main_tid = 0;
  HANDLE main_thread = nullptr;  // a real handle to the main thread, for wait-main
  std::uint64_t main_created = 0;  // the main thread's creation time (FILETIME ticks)
};
Startup g_startup;

// The threads this actor created (`thread`), for ctrl-event's `known_thread`: id and creation
// time, so that an id reused after one of them ended is not taken for it. Lock-free (a control
// handler may run at any moment); beyond kMaxKnownThreads threads are not remembered.
struct KnownThread {
  std::atomic<DWORD> tid{0};
  std::atomic<std::uint64_t> created{0};
};
constexpr std::size_t kMaxKnownThreads = 1024;
KnownThread g_known_threads[kMaxKnownThreads];
std::atomic<std::size_t> g_known_count{0};

std::uint64_t creation_time(HANDLE thread) {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!GetThreadTimes(thread, &created, &exited, &kernel, &user)) return 0;
  return (std::uint64_t{created.dwHighDateTime} << 32) | created.dwLowDateTime;
}

void remember_thread(DWORD tid, HANDLE thread) {
  const std::size_t slot = g_known_count.fetch_add(1);
  if (slot >= kMaxKnownThreads) return;
  g_known_threads[slot].created.store(creation_time(thread));
  g_known_threads[slot].tid.store(tid);
}

// True if the calling thread is the main thread or one the actor created.
bool calling_thread_is_known() {
  const DWORD tid = GetCurrentThreadId();
  const std::uint64_t created = creation_time(GetCurrentThread());
  if (tid == g_startup.main_tid && created == g_startup.main_created) return true;
  const std::size_t n = std::min(g_known_count.load(), kMaxKnownThreads);
  for (std::size_t i = 0; i < n; ++i) {
    if (g_known_threads[i].tid.load() == tid && g_known_threads[i].created.load() == created) return true;
  }
  return false;
}


// ---------------------------------------------------------------------------------------------
// The interpreter.

void about_to_exit(const char* how, DWORD code) {
  report::emit("about-to-exit", {{"how", how}, {"code", code}});
}

const char* wait_result(DWORD result) {
  switch (result) {
    case WAIT_OBJECT_0: return "signaled";
    case WAIT_TIMEOUT: return "timeout";
    default: return "failed";
  }
}

// Waits with the deadline; reports `released` with `target` merged in.
void wait_and_report(HANDLE h, json target) {
  SetLastError(0);
  const DWORD result = WaitForSingleObject(h, kWaitDeadlineMs);
  const DWORD error = GetLastError();
  target["result"] = wait_result(result);
  target["error"] = error;
  report::emit("released", target);
}

void wait_process(DWORD pid) {
  HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (h == nullptr) {
    report::emit("error", {{"what", "OpenProcess"}, {"error", GetLastError()}, {"target_pid", pid}});
    return;
  }
  report::emit("waiting", {{"target_pid", pid}});
  wait_and_report(h, {{"target_pid", pid}});
  CloseHandle(h);
}

// crash stack-overflow: each frame keeps a page of its own alive across the call, so neither the
// recursion nor the frame can be optimised away. It never returns, on purpose.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) int overflow_stack(int depth) {
  volatile char page[4096];
  page[0] = static_cast<char>(depth);
  return overflow_stack(depth + 1) + page[0];
}
#pragma GCC diagnostic pop

[[noreturn]] void crash(CrashKind kind, DWORD code) {
  switch (kind) {
    case CrashKind::AccessViolation: {
      int* volatile null = nullptr;  // the compiler cannot prove it null, so no trap instead
      *null = 1;
      break;
    }
    case CrashKind::DivideByZero: {
      // Both operands volatile: GCC turns 1 / x into a compare, which never faults.
      volatile int dividend = 1;
      volatile int zero = 0;
      volatile int quotient = dividend / zero;
      (void)quotient;
      break;
    }
    case CrashKind::Raise:
      RaiseException(code, 0, 0, nullptr);
      break;
    case CrashKind::StackOverflow:
      overflow_stack(0);
      break;
    case CrashKind::FailFast:
      // __fastfail(FAST_FAIL_FATAL_APP_EXIT): on x86 and x64 the intrinsic is `int 0x29` with the
      // code in ecx/rcx (Microsoft Learn, "__fastfail").
#if defined(__x86_64__) || defined(__i386__)
      __asm__ volatile("int $0x29" : : "c"(static_cast<std::uintptr_t>(kFastFailCode)) : "memory");
#else
      __fastfail(kFastFailCode);
#endif
      break;
  }
  report::emit("error", {{"what", "crash did not end the process"}});
  ExitProcess(kCrashFailedExitCode);
}




// Starts this executable with the block's verbs, inheriting the report channel and nothing else;
// in this console and process group unless `flags` says otherwise (CREATE_NEW_PROCESS_GROUP,
// CREATE_NEW_CONSOLE).
// `leak_thread`: keep PROCESS_INFORMATION.hThread open for the life of this process, the leak
// of Raymond Chen's "Why are there all these processes lingering near death", which keeps each
// exited child's process object (a corpse) around.

// ---------------------------------------------------------------------------------------------
// The probe DLL and termination handlers.

// The verbs of one actor run one at a time per thread; two threads loading and freeing the probe
// at once is not a scenario.
HMODULE g_probe = nullptr;  // the probe, while loaded
int g_probe_loads = 0;      // load-probe calls not yet matched by free-probe

// load-probe: hands the options to the DLL in its environment variable, then loads probe.dll
// from this executable's directory. DllMain's records come before `probe-loaded`.
void load_probe(const ProbeOptions& options) {
  const std::string spec = probe_spec(options);
  SetEnvironmentVariableA(kProbeEnvVar, spec.empty() ? nullptr : spec.c_str());
  std::wstring path = actor::own_path();
  path.resize(path.find_last_of(L"\\/") + 1);  // npos + 1 == 0: no directory
  path += L"probe.dll";
  HMODULE module = LoadLibraryW(path.c_str());
  if (module == nullptr) {
    report::emit("error", {{"what", "LoadLibrary"}, {"error", GetLastError()}});
    return;
  }
  g_probe = module;
  ++g_probe_loads;
  report::emit("probe-loaded", {{"options", spec}});
}

// free-probe: one FreeLibrary per load-probe (the last one unloads: DLL_PROCESS_DETACH).
void free_probe() {
  if (g_probe_loads == 0) {
    report::emit("error", {{"what", "FreeLibrary"}, {"error", ERROR_INVALID_HANDLE}, {"message", "no probe loaded"}});
    return;
  }
  HMODULE module = g_probe;
  if (--g_probe_loads == 0) g_probe = nullptr;
  if (!FreeLibrary(module)) {
    report::emit("error", {{"what", "FreeLibrary"}, {"error", GetLastError()}});
    return;
  }
  report::emit("probe-freed");
}

void atexit_routine() { report::emit("atexit-ran"); }

// static-object: constructed on first use, destroyed by the C runtime's exit processing.
struct StaticObject {
  StaticObject() { report::emit("static-object-constructed"); }
  ~StaticObject() { report::emit("static-destructor-ran"); }
  StaticObject(const StaticObject&) = delete;
  StaticObject& operator=(const StaticObject&) = delete;
};

void touch_static_object() {
  static StaticObject object;
  (void)object;
}

// thread-local-object: one per thread that runs the verb, destroyed when that thread ends
// through the runtime (returning from its procedure, ExitThread) or when the process exits
// through it. The destructor reads no member: with mingw-w64 (emutls + winpthreads), a worker's
// thread_local storage is freed before its destructors run (seen under Wine 8.0: a member read
// in the destructor gave garbage), so the record takes the thread id afresh.
struct ThreadLocalObject {
  ThreadLocalObject() { report::emit("thread-local-object-constructed", {{"thread", GetCurrentThreadId()}}); }
  ~ThreadLocalObject() { report::emit("thread-local-destructor-ran", {{"thread", GetCurrentThreadId()}}); }
  ThreadLocalObject(const ThreadLocalObject&) = delete;
  ThreadLocalObject& operator=(const ThreadLocalObject&) = delete;
};

void touch_thread_local_object() {
  thread_local ThreadLocalObject object;
  (void)object;
}

// wait-event: open the harness's named event and wait for it (60 s).
void wait_event(const std::string& name) {
  HANDLE h = OpenEventW(SYNCHRONIZE, FALSE, actor::widen(name).c_str());
  if (h == nullptr) {
    report::emit("error", {{"what", "OpenEvent"}, {"error", GetLastError()}, {"event", name}});
    return;
  }
  report::emit("waiting", {{"event", name}});
  wait_and_report(h, {{"event", name}});
  CloseHandle(h);
}

// guarded-wait: wait-event inside a frame that has a termination handler, then leave the frame by
// an exception, so that the system's unwinder runs the handler: `finally-ran` (`how`: `unwind`).
// GCC has no __try/__finally. On x86-64 its exceptions are SEH exceptions: RtlUnwindEx unwinds
// the frames, and GCC's language handler sends it to the frame's cleanup (a landing pad that runs
// the local object's destructor) where MSVC's would call the __finally funclet. Either way it is
// code the system's unwinder runs as a frame is left, and TerminateProcess unwinds nothing: a
// thread terminated in the wait reports nothing more.
struct LeaveGuardedFrame {};

struct TerminationHandler {
  TerminationHandler() = default;
  TerminationHandler(const TerminationHandler&) = delete;
  TerminationHandler& operator=(const TerminationHandler&) = delete;
  ~TerminationHandler() { report::emit("finally-ran", {{"how", std::uncaught_exceptions() > 0 ? "unwind" : "normal"}}); }
};

[[gnu::noinline]] void guarded_frame(const std::string& name) {
  TerminationHandler handler;
  report::emit("guarded", {{"event", name}});
  wait_event(name);
  throw LeaveGuardedFrame{};
}

void guarded_wait(const std::string& name) {
  try {
    guarded_frame(name);
  } catch (const LeaveGuardedFrame&) {
    report::emit("guarded-left");
  }
}

// ---------------------------------------------------------------------------------------------
// Objects and I/O after death. Every handle (and view) these verbs create is kept for
// the life of the process on purpose: what happens to it when the process ends is the point. They
// are simply never closed.

DWORD g_pid = 0;  // GetCurrentProcessId(), for create-section's text

std::wstring pipe_path(const std::string& name) { return L"\\\\.\\pipe\\" + actor::widen(name); }

void api_error(const char* what, DWORD error, const std::string& name) {
  report::emit("error", {{"what", what}, {"error", error}, {"name", name}});
}

// create-event: manual reset, unsignaled. `error` is GetLastError after the call: 0, or
// ERROR_ALREADY_EXISTS when the name was taken (the handle is then to the existing event).
void create_event(const std::string& name) {
  SetLastError(0);
  HANDLE h = CreateEventW(nullptr, TRUE, FALSE, actor::widen(name).c_str());
  const DWORD error = GetLastError();
  if (h == nullptr) return api_error("CreateEvent", error, name);
  report::emit("created", {{"kind", "event"}, {"name", name}, {"error", error}});
}

// create-section: a 4096-byte pagefile-backed section; the view (kept mapped) holds the
// NUL-terminated text "termsuite:<pid>" at offset 0.
void create_section(const std::string& name) {
  constexpr DWORD kSize = 4096;
  HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, kSize, actor::widen(name).c_str());
  if (h == nullptr) return api_error("CreateFileMapping", GetLastError(), name);
  void* view = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, kSize);
  if (view == nullptr) return api_error("MapViewOfFile", GetLastError(), name);
  const std::string text = section_text(g_pid);
  std::memcpy(view, text.c_str(), text.size() + 1);
  report::emit("created", {{"kind", "section"}, {"name", name}, {"text", text}});
}

// own-mutex: created owned by the thread running the verb (abandoned when that thread ends
// without releasing it, or when the process ends). If the name already exists the mutex is not
// acquired (CreateMutexW ignores bInitialOwner then): `owned` is false.
void own_mutex(const std::string& name) {
  SetLastError(0);
  HANDLE h = CreateMutexW(nullptr, TRUE, actor::widen(name).c_str());
  const DWORD error = GetLastError();
  if (h == nullptr) return api_error("CreateMutex", error, name);
  report::emit("created", {{"kind", "mutex"}, {"name", name}, {"owned", error != ERROR_ALREADY_EXISTS}});
}

// write-pipe: the client end of the harness's pipe, for writing; nothing is written, the handle
// stays open (the actor is meant to be the pipe's only writer).
void write_pipe(const std::string& name) {
  HANDLE h = CreateFileW(pipe_path(name).c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return api_error("CreateFile", GetLastError(), name);
  report::emit("pipe-open", {{"name", name}, {"mode", "write"}});
}

constexpr DWORD kReadBytes = 4096;

void read_done(const std::string& name, bool ok, DWORD error, DWORD bytes) {
  report::emit("read-done", {{"name", name}, {"ok", ok}, {"error", ok ? 0 : error}, {"bytes", bytes}});
}

// read-pipe: a synchronous ReadFile on the client end that blocks until data, end of pipe, or
// the death of the process (the harness never writes). The one unbounded wait of the actor.
void read_pipe(const std::string& name) {
  HANDLE h = CreateFileW(pipe_path(name).c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return api_error("CreateFile", GetLastError(), name);
  char buffer[kReadBytes];
  report::emit("reading", {{"name", name}, {"mode", "sync"}});
  DWORD bytes = 0;
  SetLastError(0);
  const BOOL ok = ReadFile(h, buffer, kReadBytes, &bytes, nullptr);
  read_done(name, ok != FALSE, GetLastError(), bytes);
}

// read-pipe-overlapped: an overlapped ReadFile (ERROR_IO_PENDING expected), then a wait of 60 s
// at most on the OVERLAPPED's event. At the deadline: `read-done` with `error` WAIT_TIMEOUT (258),
// then the read is cancelled (CancelIoEx) and waited for.
void read_pipe_overlapped(const std::string& name) {
  HANDLE h = CreateFileW(pipe_path(name).c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING,
                         FILE_FLAG_OVERLAPPED, nullptr);
  if (h == INVALID_HANDLE_VALUE) return api_error("CreateFile", GetLastError(), name);
  HANDLE done = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (done == nullptr) return api_error("CreateEvent", GetLastError(), name);
  // Heap, never freed: the system may write to them until the read is really over (at the
  // latest when the process dies with the read pending).
  auto* overlapped = new OVERLAPPED{};
  overlapped->hEvent = done;
  auto* buffer = new char[kReadBytes];

  DWORD bytes = 0;
  SetLastError(0);
  const BOOL completed = ReadFile(h, buffer, kReadBytes, nullptr, overlapped);
  const DWORD start_error = GetLastError();
  const bool pending = !completed && start_error == ERROR_IO_PENDING;
  report::emit("reading", {{"name", name}, {"mode", "overlapped"}, {"pending", pending}});
  if (!completed && !pending) return read_done(name, false, start_error, 0);  // failed at once

  if (pending) {
    SetLastError(0);
    const DWORD waited = WaitForSingleObject(done, kWaitDeadlineMs);
    if (waited == WAIT_TIMEOUT) {
      read_done(name, false, WAIT_TIMEOUT, 0);
      CancelIoEx(h, overlapped);
      GetOverlappedResult(h, overlapped, &bytes, TRUE);
      return;
    }
    if (waited != WAIT_OBJECT_0) return read_done(name, false, GetLastError(), 0);
  }
  SetLastError(0);
  const BOOL ok = GetOverlappedResult(h, overlapped, &bytes, FALSE);
  read_done(name, ok != FALSE, GetLastError(), bytes);
}

// ---------------------------------------------------------------------------------------------
// Consoles, process groups and console control handlers.

// One handler routine per mode (a HandlerRoutine has no context). Each `ctrl-handler MODE`
// registers its mode's routine once more; the system calls the last registered first.
template <CtrlMode Mode>
BOOL WINAPI ctrl_handler(DWORD type) {
  report::emit("ctrl-event", {{"type", type},
                              {"name", std::string(ctrl_event_name(type))},
                              {"thread", GetCurrentThreadId()},
                              {"main_thread", g_startup.main_tid},
                              {"known_thread", calling_thread_is_known()},
                              {"mode", std::string(ctrl_mode_name(Mode))}});
  switch (Mode) {
    case CtrlMode::ReturnTrue:
      return TRUE;
    case CtrlMode::ReturnFalse:
      return FALSE;
    case CtrlMode::Exit:
      about_to_exit("exit", kCtrlExitCode);
      std::exit(static_cast<int>(kCtrlExitCode));
    case CtrlMode::Hold: {
      report::emit("ctrl-handler-holding", {{"type", type}, {"deadline_ms", kCtrlHoldMs}});
      const ULONGLONG start = GetTickCount64();
      HANDLE never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
      const DWORD result = never ? WaitForSingleObject(never, kCtrlHoldMs) : WAIT_FAILED;
      const ULONGLONG held = GetTickCount64() - start;
      if (never) CloseHandle(never);
      report::emit("ctrl-handler-returning",
                   {{"type", type}, {"result", wait_result(result)}, {"held_ms", held}});
      return TRUE;
    }
  }
  return FALSE;
}

PHANDLER_ROUTINE ctrl_routine(CtrlMode mode) {
  switch (mode) {
    case CtrlMode::ReturnTrue: return ctrl_handler<CtrlMode::ReturnTrue>;
    case CtrlMode::ReturnFalse: return ctrl_handler<CtrlMode::ReturnFalse>;
    case CtrlMode::Exit: return ctrl_handler<CtrlMode::Exit>;
    case CtrlMode::Hold: return ctrl_handler<CtrlMode::Hold>;
  }
  return nullptr;
}

// ctrl-handler MODE: `ctrl-handler-installed` (`mode`), or `error` (`what`: SetConsoleCtrlHandler).
void install_ctrl_handler(CtrlMode mode) {
  const std::string name(ctrl_mode_name(mode));
  if (!SetConsoleCtrlHandler(ctrl_routine(mode), TRUE)) {
    report::emit("error", {{"what", "SetConsoleCtrlHandler"}, {"error", GetLastError()}, {"mode", name}});
    return;
  }
  report::emit("ctrl-handler-installed", {{"mode", name}});
}

// remove-ctrl-handler MODE: SetConsoleCtrlHandler(routine of MODE, FALSE): one registration of
// that mode's routine is removed; `ctrl-handler-removed` (`mode`), or `error`.
void remove_ctrl_handler(CtrlMode mode) {
  const std::string name(ctrl_mode_name(mode));
  if (!SetConsoleCtrlHandler(ctrl_routine(mode), FALSE)) {
    report::emit("error", {{"what", "SetConsoleCtrlHandler"}, {"error", GetLastError()}, {"mode", "remove-" + name}});
    return;
  }
  report::emit("ctrl-handler-removed", {{"mode", name}});
}

// unhandled-filter: the top-level exception filter reports the exception and asks for the
// handler to be executed (EXCEPTION_EXECUTE_HANDLER): the process ends.
LONG WINAPI execute_handler_filter(EXCEPTION_POINTERS* info) {
  const DWORD code = info && info->ExceptionRecord ? info->ExceptionRecord->ExceptionCode : 0;
  report::emit("unhandled-filter", {{"code", code}});
  return EXCEPTION_EXECUTE_HANDLER;
}

// ignore-ctrl-c: SetConsoleCtrlHandler(NULL, TRUE); children not started with
// CREATE_NEW_PROCESS_GROUP inherit the setting.
void ignore_ctrl_c() {
  if (!SetConsoleCtrlHandler(nullptr, TRUE)) {
    report::emit("error", {{"what", "SetConsoleCtrlHandler"}, {"error", GetLastError()}, {"mode", "ignore-ctrl-c"}});
    return;
  }
  report::emit("ignoring-ctrl-c");
}

// accept-ctrl-c: SetConsoleCtrlHandler(NULL, FALSE): Ctrl+C is handled again (undoes
// ignore-ctrl-c, an inherited ignore, or the one a CREATE_NEW_PROCESS_GROUP child starts with).
void accept_ctrl_c() {
  if (!SetConsoleCtrlHandler(nullptr, FALSE)) {
    report::emit("error", {{"what", "SetConsoleCtrlHandler"}, {"error", GetLastError()}, {"mode", "accept-ctrl-c"}});
    return;
  }
  report::emit("accepting-ctrl-c");
}

// ctrl-send TYPE GROUP: reported after the call (its outcome is the record). When the event
// also reaches this process, its handlers run on another thread, so their records may come
// before `ctrl-sent`, and a default handler may end the process before it is written.
void ctrl_send(DWORD type, DWORD group) {
  SetLastError(0);
  const BOOL ok = GenerateConsoleCtrlEvent(type, group);
  const DWORD error = GetLastError();
  report::emit("ctrl-sent", {{"type", type}, {"group", group}, {"ok", ok != FALSE}, {"error", ok ? 0 : error}});
}

// new-console: leave the current console (if any) and create one of this process's own. The
// report channel is a pipe (or the standard output handle captured at start) and is not
// touched. FreeConsole's outcome is not reported: it fails when there was no console.
void new_console() {
  FreeConsole();
  SetLastError(0);
  const BOOL ok = AllocConsole();
  const DWORD error = GetLastError();
  report::emit("console", {{"ok", ok != FALSE}, {"error", ok ? 0 : error}});
}

// console-window: the console window's handle (GetConsoleWindow), 0 when the process has none,
// for the harness to close the console (post WM_CLOSE to it).
void console_window() {
  const HWND hwnd = GetConsoleWindow();
  report::emit("console-window", {{"hwnd", static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(hwnd))}});
}

// NtQueryInformationThread(ThreadAmILastThread): "yes", "no", or "unknown" if it cannot tell.
const char* am_i_last_thread() {
  using Query = LONG(WINAPI*)(HANDLE, int, void*, ULONG, ULONG*);
  constexpr int kThreadAmILastThread = 12;  // THREADINFOCLASS
  static const auto query = reinterpret_cast<Query>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationThread")));
  ULONG last = 0;
  if (query == nullptr || query(GetCurrentThread(), kThreadAmILastThread, &last, sizeof last, nullptr) < 0)
    return "unknown";
  return last ? "yes" : "no";
}

// The threads of this process in a Toolhelp snapshot (0 if no snapshot could be taken).
DWORD thread_count() {
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE) return 0;
  DWORD n = 0;
  THREADENTRY32 te{};
  te.dwSize = sizeof te;
  for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te))
    if (te.th32OwnerProcessID == GetCurrentProcessId()) ++n;
  CloseHandle(snap);
  return n;
}

// The ids of this process's threads other than the caller, in a Toolhelp snapshot (empty if none
// could be taken).
std::vector<DWORD> other_threads() {
  std::vector<DWORD> tids;
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE) return tids;
  THREADENTRY32 te{};
  te.dwSize = sizeof te;
  for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te))
    if (te.th32OwnerProcessID == GetCurrentProcessId() && te.th32ThreadID != GetCurrentThreadId())
      tids.push_back(te.th32ThreadID);
  CloseHandle(snap);
  return tids;
}

// become-last-thread: until ThreadAmILastThread says yes, or kLastThreadWaitMs have passed, open
// the other threads of the snapshot with SYNCHRONIZE and wait for them all to end (the loader's
// thread-pool workers of Windows 10 and later idle out after about 30 s); then look again, as a
// new one may have started meanwhile. A thread listed but gone before it is opened needs no wait.
// When the system says others remain but the snapshot lists none (one is starting or ending), it
// looks again after 10 ms on an event nobody sets. Reports `last-thread`: `last` (yes; no at the
// deadline; unknown when the system cannot tell), `waited_for` (the distinct threads it waited
// for), `left` (other threads listed at the end) and `ms` (how long it took).
void become_last_thread() {
  const ULONGLONG start = GetTickCount64();
  const ULONGLONG deadline = start + kLastThreadWaitMs;
  HANDLE pause = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  std::vector<DWORD> waited_for;
  std::string last = am_i_last_thread();
  while (last == "no" && GetTickCount64() < deadline) {
    std::vector<HANDLE> handles;
    for (DWORD tid : other_threads()) {
      if (handles.size() == MAXIMUM_WAIT_OBJECTS) break;  // the rest in the next round
      HANDLE h = OpenThread(SYNCHRONIZE, FALSE, tid);
      if (h == nullptr) continue;
      handles.push_back(h);
      if (std::find(waited_for.begin(), waited_for.end(), tid) == waited_for.end()) waited_for.push_back(tid);
    }
    const ULONGLONG now = GetTickCount64();
    const DWORD remaining = now < deadline ? static_cast<DWORD>(deadline - now) : 0;
    if (!handles.empty())
      WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(), TRUE, remaining);
    else if (pause)
      WaitForSingleObject(pause, std::min<DWORD>(remaining, 10));
    for (HANDLE h : handles) CloseHandle(h);
    last = am_i_last_thread();
  }
  if (pause) CloseHandle(pause);
  const auto left = last == "yes" ? std::size_t{0} : other_threads().size();
  report::emit("last-thread", {{"last", last},
                               {"waited_for", waited_for.size()},
                               {"left", left},
                               {"ms", GetTickCount64() - start}});
}

std::optional<DWORD> run(const Block& block);

DWORD WINAPI thread_main(void* block) {
  return run(*static_cast<const Block*>(block)).value_or(0);
}

void start_thread(const Block& body) {
  // Created suspended so that `thread-started` precedes every record of the new thread.
  DWORD tid = 0;
  HANDLE h = CreateThread(nullptr, 0, thread_main, const_cast<Block*>(&body), CREATE_SUSPENDED, &tid);
  if (h == nullptr) {
    report::emit("error", {{"what", "CreateThread"}, {"error", GetLastError()}});
    return;
  }
  remember_thread(tid, h);
  report::emit("thread-started", {{"thread", tid}});
  ResumeThread(h);
  // The handle is never closed: it keeps the thread object, so the id of `thread-started` names
  // this thread for as long as the process lives, even once the thread has ended. The harness
  // opens a worker by that id (OpenThread), and a worker that ends at once (`exit-thread`) may be
  // gone before it asks; with the object kept it finds the ended thread, never an error 87 or a
  // thread that reused the id. The process's end closes the handle with every other.
}

void wait_forever() {
  HANDLE never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  const DWORD result = never ? WaitForSingleObject(never, INFINITE) : WAIT_FAILED;
  report::emit("error", {{"what", "wait-forever returned"}, {"result", result}, {"error", GetLastError()}});
}

// Runs a block; returns the code of the `return` verb that ended it, if one did.
std::optional<DWORD> run(const Block& block) {
  for (const Step& step : block) {
    switch (step.op) {
      case Op::Ready:
        report::emit("ready");
        break;
      case Op::Mark:
        report::emit("mark", {{"name", step.name}});
        break;
      case Op::Return:
        about_to_exit("return", step.number);
        return step.number;
      case Op::ExitProcess:
        about_to_exit("exit-process", step.number);
        ExitProcess(step.number);
      case Op::ExitThread:
        // Whether this is the process's last thread: only then does ExitThread end the process
        // with this code. Windows 10 and later start loader thread-pool workers before main,
        // which idle for about 30 s, so the actor's last thread is often not the last one.
        report::emit("about-to-exit", {{"how", "exit-thread"}, {"code", step.number}, {"last_thread", am_i_last_thread()},
                                       {"threads", thread_count()}});
        ExitThread(step.number);
      case Op::TerminateSelf:
        about_to_exit("terminate-self", step.number);
        TerminateProcess(GetCurrentProcess(), step.number);
        report::emit("error", {{"what", "TerminateProcess"}, {"error", GetLastError()}});
        break;
      case Op::TerminateThreadSelf:
        // As exit-thread, but no DLL is told (TerminateThread): the process ends with N only if
        // this is its last thread.
        report::emit("about-to-exit", {{"how", "terminate-thread"}, {"code", step.number},
                                       {"last_thread", am_i_last_thread()}, {"threads", thread_count()}});
        TerminateThread(GetCurrentThread(), step.number);
        report::emit("error", {{"what", "TerminateThread"}, {"error", GetLastError()}});
        break;
      case Op::BecomeLastThread:
        become_last_thread();
        break;
      case Op::Crash: {
        report::emit("about-to-exit", {{"how", "crash"},
                                       {"kind", std::string(crash_name(step.crash))},
                                       {"code", step.number}});
        crash(step.crash, step.number);
      }
      case Op::Thread:
        start_thread(step.body);
        break;
      case Op::Spawn:
        actor::spawn_self(step.args, 0, false);
        break;
      case Op::SpawnLeakThread:
        actor::spawn_self(step.args, 0, true);
        break;
      case Op::SpawnGroup:
        actor::spawn_self(step.args, CREATE_NEW_PROCESS_GROUP, false);
        break;
      case Op::SpawnConsole:
        actor::spawn_self(step.args, CREATE_NEW_CONSOLE, false);
        break;
      case Op::CtrlHandler:
        install_ctrl_handler(step.ctrl);
        break;
      case Op::RemoveCtrlHandler:
        remove_ctrl_handler(step.ctrl);
        break;
      case Op::SpawnBreakaway:
        actor::spawn_self(step.args, CREATE_BREAKAWAY_FROM_JOB, false);
        break;
      case Op::UnhandledFilter:
        SetUnhandledExceptionFilter(execute_handler_filter);
        report::emit("unhandled-filter-installed");
        break;
      case Op::Abort:
        report::emit("about-to-exit", {{"how", "abort"}, {"code", 3}});
        std::abort();
      case Op::IgnoreCtrlC:
        ignore_ctrl_c();
        break;
      case Op::AcceptCtrlC:
        accept_ctrl_c();
        break;
      case Op::CtrlSend:
        ctrl_send(step.number, step.group);
        break;
      case Op::NewConsole:
        new_console();
        break;
      case Op::ConsoleWindow:
        console_window();
        break;
      case Op::ReadDevice:  // rejected before the program runs
        break;
      case Op::WaitForever:
        wait_forever();
        break;
      case Op::WaitPid:
        wait_process(step.number);
        break;
      case Op::WaitParent:
        wait_process(g_startup.parent_pid);
        break;
      case Op::WaitMain:
        report::emit("waiting", {{"target", "main-thread"}});
        wait_and_report(g_startup.main_thread, {{"target", "main-thread"}});
        break;
      case Op::LoadProbe:
        load_probe(step.probe);
        break;
      case Op::FreeProbe:
        free_probe();
        break;
      case Op::Exit:
        about_to_exit("exit", step.number);
        std::exit(static_cast<int>(step.number));
      case Op::AtExit:
        if (std::atexit(atexit_routine) != 0) {
          report::emit("error", {{"what", "atexit"}});
        } else {
          report::emit("atexit-registered");
        }
        break;
      case Op::StaticObject:
        touch_static_object();
        break;
      case Op::ThreadLocalObject:
        touch_thread_local_object();
        break;
      case Op::WaitEvent:
        wait_event(step.name);
        break;
      case Op::GuardedWait:
        guarded_wait(step.name);
        break;
      case Op::CreateEvent:
        create_event(step.name);
        break;
      case Op::CreateSection:
        create_section(step.name);
        break;
      case Op::OwnMutex:
        own_mutex(step.name);
        break;
      case Op::WritePipe:
        write_pipe(step.name);
        break;
      case Op::ReadPipe:
        read_pipe(step.name);
        break;
      case Op::ReadPipeOverlapped:
        read_pipe_overlapped(step.name);
        break;
    }
  }
  return std::nullopt;
}

// A bad argv (actor::usage_error), with the verbs listed for a person at a terminal.
[[noreturn]] void usage_error(const std::string& message) {
  actor::usage_error("actor-console", message,
      "usage: actor-console [--report HANDLE] VERB...\n"
      "verbs: ready | mark NAME | return N | exit-process N | exit-thread N | terminate-self N\n"
      "       terminate-thread N | become-last-thread\n"
      "       crash av | crash div0 | crash raise CODE | crash stack-overflow | crash fail-fast\n"
      "       abort | unhandled-filter | thread [ VERB... ] | spawn [ VERB... ] | spawn-breakaway [ VERB... ]\n"
      "       spawn-leak-thread [ VERB... ]\n"
      "       wait-forever | wait-pid PID | wait-parent | wait-main | wait-event NAME\n"
      "       load-probe [ OPTION... ] | free-probe | exit N | atexit | static-object\n"
      "       guarded-wait NAME | thread-local-object | create-event NAME | create-section NAME | own-mutex NAME\n"
      "       write-pipe PIPE | read-pipe PIPE | read-pipe-overlapped PIPE\n"
      "       ctrl-handler true|false|exit|hold | remove-ctrl-handler MODE | ignore-ctrl-c | accept-ctrl-c\n"
      "       ctrl-send TYPE GROUP | new-console | console-window\n"
      "       spawn-group [ VERB... ] | spawn-console [ VERB... ]\n"
      "       (N: decimal or 0x hex; PIPE: the name after \\\\.\\pipe\\)\n"
      "probe options: attach-thread | detach-thread | block-attach NAME | block-detach NAME\n"
      "       slow-thread-attach MS\n");
}

// No crash dialog and no error-reporting UI for this process: a CI machine may have Windows Error
// Reporting enabled, and an actor crashes on purpose. (WerSetFlags is looked up: not every
// platform has it.)
void no_crash_dialog() {
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  using SetFlags = HRESULT(WINAPI*)(DWORD);
  constexpr DWORD kWerFaultReportingNoUi = 0x20;  // WER_FAULT_REPORTING_NO_UI
  if (auto set = reinterpret_cast<SetFlags>(
          reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "WerSetFlags"))))
    set(kWerFaultReportingNoUi);
}

}  // namespace

int main(int argc, char** argv) {
  no_crash_dialog();
  report::init(argc, argv);

  g_pid = GetCurrentProcessId();
  g_startup.parent_pid = actor::parent_pid();
  g_startup.main_tid = GetCurrentThreadId();
  DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(),
                  &g_startup.main_thread, 0, FALSE, DUPLICATE_SAME_ACCESS);
  g_startup.main_created = creation_time(GetCurrentThread());
  report::emit("start", {{"ppid", g_startup.parent_pid}, {"main_tid", g_startup.main_tid}});

  // Never freed: worker threads read it until the process is gone.
  auto* program = new Block;
  try {
    *program = parse(std::vector<std::string>(argv + 1, argv + argc));
    if (uses(*program, Op::ReadDevice)) throw UsageError{"read-device is a simulator verb (no device to read here)"};
  } catch (const UsageError& e) {
    usage_error(e.message);
  }
  return static_cast<int>(run(*program).value_or(0));
}
