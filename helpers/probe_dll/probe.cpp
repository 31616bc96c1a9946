// probe.dll: a DLL whose DllMain reports every call through the report channel, synchronously.
//
// Loaded by an actor's `load-probe [ OPTION... ]` verb, which puts the options in the
// TERMSUITE_PROBE environment variable before LoadLibraryW; the DLL reads them once, at
// DLL_PROCESS_ATTACH. It never calls report::init: the first emit finds the channel through
// TERMSUITE_REPORT, and shares the process's `seq` counter. Records and options: docs/actors.md,
// section "DLL and termination-handler verbs".
//
// Rules for this file: every wait is bounded (the DLL must never block a run), no Sleep, and no
// global object with a destructor (the DLL's C runtime runs destructors right after DllMain's
// DLL_PROCESS_DETACH, and a thread created in DllMain may still be pending then).
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>

#include <termsuite/report_writer.hpp>
#include <termsuite/win32.hpp>
#include <termsuite/verbs.hpp>

#include <cstring>
#include <string>

namespace {

namespace report = termsuite::report;
namespace verbs = termsuite::verbs;
using json = nlohmann::ordered_json;

constexpr DWORD kSignWaitMs = 500;      // a thread created in DllMain: its chance to show life
constexpr DWORD kBlockWaitMs = 30'000;  // block-attach / block-detach: at most this long

using ShutdownInProgress = BOOLEAN(WINAPI*)();
using ThreadRoutine = DWORD(WINAPI*)(void*);

// Set at DLL_PROCESS_ATTACH, never freed (see the rules above).
ShutdownInProgress g_shutdown_in_progress = nullptr;  // ntdll!RtlDllShutdownInProgress, if any
ThreadRoutine g_host_sign_of_life = nullptr;          // the main module's export, if any
const verbs::ProbeOptions* g_options = nullptr;
HANDLE g_never = nullptr;  // an event nobody sets: slow-thread-attach holds DllMain on it

// slow-thread-attach: threads inside DllMain(THREAD_ATTACH/DETACH) now, and the most seen.
LONG g_inside = 0;
LONG g_most = 0;

const char* reason_name(DWORD reason) {
  switch (reason) {
    case DLL_PROCESS_ATTACH: return "process-attach";
    case DLL_PROCESS_DETACH: return "process-detach";
    case DLL_THREAD_ATTACH: return "thread-attach";
    case DLL_THREAD_DETACH: return "thread-detach";
    default: return "unknown";
  }
}

const char* wait_result(DWORD result) {
  switch (result) {
    case WAIT_OBJECT_0: return "signaled";
    case WAIT_TIMEOUT: return "timeout";
    default: return "failed";
  }
}

// Reads TERMSUITE_PROBE (absent or empty: no behaviour). A bad value is reported and ignored.
const verbs::ProbeOptions* read_options() {
  std::string spec(256, '\0');
  for (;;) {
    const DWORD n = GetEnvironmentVariableA(verbs::kProbeEnvVar, spec.data(), static_cast<DWORD>(spec.size()));
    if (n < spec.size()) {
      spec.resize(n);  // 0 when the variable is absent
      break;
    }
    spec.resize(n);  // n counts the terminating null when the buffer is too small
  }
  std::string error;
  auto options = verbs::parse_probe_spec(spec, &error);
  if (!options) {
    report::emit("error", {{"what", verbs::kProbeEnvVar}, {"message", error}, {"value", spec}});
    return new verbs::ProbeOptions{};
  }
  return new verbs::ProbeOptions(std::move(*options));
}

void resolve_at_attach() {
  if (HMODULE ntdll = GetModuleHandleW(L"ntdll.dll")) {
    g_shutdown_in_progress = reinterpret_cast<ShutdownInProgress>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlDllShutdownInProgress")));
  }
  // The host's copy of the sign-of-life routine stays mapped after FreeLibrary unmaps this DLL.
  g_host_sign_of_life = reinterpret_cast<ThreadRoutine>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(nullptr), report::kSignOfLifeExport)));
  g_never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  g_options = read_options();
}

// attach-thread / detach-thread: create a thread whose first act is a sign of life, give it
// kSignWaitMs to show it, report whether it did. The loader defers the thread until DllMain's
// caller releases the loader lock, so `seen` is expected to be false.
void thread_with_sign_of_life(const char* during) {
  HANDLE sign = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE mine = nullptr;
  if (sign == nullptr ||
      !DuplicateHandle(GetCurrentProcess(), sign, GetCurrentProcess(), &mine, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    report::emit("error", {{"what", "CreateEvent"}, {"error", GetLastError()}, {"during", during}});
    if (sign != nullptr) CloseHandle(sign);
    return;
  }

  // The thread owns `sign` and the context. Its code must outlive this DLL: the host's export
  // if there is one; else this DLL's own copy while attaching (the DLL stays mapped), or
  // kernel32's SetEvent while detaching (a sign without a record).
  ThreadRoutine routine = g_host_sign_of_life;
  void* parameter = nullptr;
  const char* runner = "host";
  if (routine == nullptr && std::strcmp(during, "process-attach") == 0) {
    routine = termsuite_sign_of_life;
    runner = "probe";
  }
  if (routine != nullptr) {
    auto* context = static_cast<report::SignOfLife*>(HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(report::SignOfLife)));
    if (context == nullptr) {
      report::emit("error", {{"what", "HeapAlloc"}, {"during", during}});
      CloseHandle(sign);
      CloseHandle(mine);
      return;
    }
    context->event = sign;
    std::strncpy(context->ev, "probe-thread-running", sizeof context->ev - 1);
    std::strncpy(context->during, during, sizeof context->during - 1);
    parameter = context;
  } else {
    routine = reinterpret_cast<ThreadRoutine>(
        reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "SetEvent")));
    parameter = sign;
    runner = "SetEvent";
  }

  DWORD tid = 0;
  SetLastError(0);
  HANDLE thread = CreateThread(nullptr, 0, routine, parameter, 0, &tid);
  if (thread == nullptr) {
    const DWORD error = GetLastError();
    report::emit("error", {{"what", "CreateThread"}, {"error", error}, {"during", during}});
    if (parameter != sign) HeapFree(GetProcessHeap(), 0, parameter);
    CloseHandle(sign);
    CloseHandle(mine);
    return;
  }
  CloseHandle(thread);
  const DWORD result = WaitForSingleObject(mine, kSignWaitMs);
  report::emit("probe-sign", {{"during", during},
                              {"seen", result == WAIT_OBJECT_0},
                              {"thread", tid},
                              {"waited_ms", kSignWaitMs},
                              {"runner", runner}});
  CloseHandle(mine);
}

// block-attach / block-detach: hold DllMain until the harness sets the named event (bounded).
void block_on(const std::string& name) {
  report::emit("dllmain-blocked", {{"event", name}});
  SetLastError(0);
  HANDLE event = OpenEventW(SYNCHRONIZE, FALSE, termsuite::win32::widen(name).c_str());
  const DWORD result = event != nullptr ? WaitForSingleObject(event, kBlockWaitMs) : WAIT_FAILED;
  const DWORD error = GetLastError();
  if (event != nullptr) CloseHandle(event);
  report::emit("dllmain-unblocked", {{"event", name}, {"result", wait_result(result)}, {"error", error}});
}

// slow-thread-attach: count the threads inside, hold for `ms` on an event nobody sets.
void hold_inside(DWORD ms) {
  const LONG now = InterlockedIncrement(&g_inside);
  for (LONG most = g_most; now > most;) {
    const LONG seen = InterlockedCompareExchange(&g_most, now, most);
    if (seen == most) break;
    most = seen;
  }
  if (g_never == nullptr || WaitForSingleObject(g_never, ms) != WAIT_TIMEOUT)
    report::emit("error", {{"what", "slow-thread-attach wait"}, {"error", GetLastError()}});
  InterlockedDecrement(&g_inside);
}

}  // namespace

extern "C" BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID reserved) {
  const char* name = reason_name(reason);
  if (reason == DLL_PROCESS_ATTACH) resolve_at_attach();

  json entry = {{"reason", name}, {"reserved", reserved == nullptr ? "null" : "non-null"}};
  if (g_shutdown_in_progress != nullptr) entry["shutdown"] = g_shutdown_in_progress() != 0;
  report::emit("dllmain", entry);

  json exit_fields = {{"reason", name}};
  if (g_options != nullptr) {
    const verbs::ProbeOptions& options = *g_options;
    switch (reason) {
      case DLL_PROCESS_ATTACH:
        if (options.block_attach) block_on(*options.block_attach);
        if (options.attach_thread) thread_with_sign_of_life("process-attach");
        break;
      case DLL_PROCESS_DETACH:
        if (options.block_detach) block_on(*options.block_detach);
        if (options.detach_thread) thread_with_sign_of_life("process-detach");
        break;
      case DLL_THREAD_ATTACH:
      case DLL_THREAD_DETACH:
        if (options.slow_thread_attach_ms) {
          hold_inside(*options.slow_thread_attach_ms);
          exit_fields["inside"] = g_most;
        }
        break;
    }
  }

  report::emit("dllmain-return", exit_fields);
  return TRUE;
}
