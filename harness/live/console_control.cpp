// The harness's console, console control events, WM_CLOSE and taskkill.
#include "console_control.hpp"

#include "termsuite/win32.hpp"

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace termsuite::live {

namespace {

// The harness survives every event it sends to its own group (and a close of its console):
// returning TRUE ends the handler chain before the default handler. Not SetConsoleCtrlHandler(
// NULL, TRUE): that ignore flag would be inherited by every actor not started in a new group.
BOOL WINAPI harness_ctrl_handler(DWORD) { return TRUE; }

struct ConsoleState {
  std::mutex mutex;
  bool attempted = false;
  bool ok = false;
};

ConsoleState& console_state() {
  static ConsoleState state;
  return state;
}

}  // namespace

bool own_console() {
  auto& state = console_state();
  std::lock_guard lock(state.mutex);
  if (state.attempted) return state.ok;
  state.attempted = true;

  // AllocConsole points the standard handles at the new console; the harness's output is a
  // pipe the runner reads, and it must keep going there.
  const HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  const HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  const HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
  FreeConsole();  // fails when there is none: no matter
  const bool allocated = AllocConsole() != FALSE;
  SetStdHandle(STD_INPUT_HANDLE, in);
  SetStdHandle(STD_OUTPUT_HANDLE, out);
  SetStdHandle(STD_ERROR_HANDLE, err);
  if (!allocated) return false;
  // A process started with CREATE_NEW_PROCESS_GROUP (and its descendants) starts with Ctrl+C
  // ignored, and actors would inherit that: the verdicts must not depend on how the suite was
  // started. Wine's console test does the same ("protect self against ctrl-c, but don't mask it
  // on child"): the handler below protects the harness, the flag stays clear for the actors.
  state.ok = SetConsoleCtrlHandler(nullptr, FALSE) != FALSE && SetConsoleCtrlHandler(harness_ctrl_handler, TRUE) != FALSE;
  return state.ok;
}

std::uint32_t ctrl_event(std::uint32_t type, std::uint32_t group) {
  SetLastError(0);
  if (GenerateConsoleCtrlEvent(type, group)) return 0;
  // Wine 8.0 fails some calls (type 2) without setting an error: a failure must not read as 0.
  const DWORD error = GetLastError();
  return error != 0 ? error : ERROR_GEN_FAILURE;
}

std::uint32_t post_close(std::uint64_t hwnd) {
  SetLastError(0);
  if (PostMessageW(reinterpret_cast<HWND>(static_cast<std::uintptr_t>(hwnd)), WM_CLOSE, 0, 0)) return 0;
  return GetLastError();
}

std::optional<std::string> window_class(std::uint64_t hwnd) {
  const HWND h = reinterpret_cast<HWND>(static_cast<std::uintptr_t>(hwnd));
  if (!IsWindow(h)) return std::nullopt;
  wchar_t name[256];
  const int n = GetClassNameW(h, name, 256);
  if (n <= 0) return std::string();
  const int bytes = WideCharToMultiByte(CP_UTF8, 0, name, n, nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(bytes > 0 ? bytes : 0), '\0');
  if (bytes > 0) WideCharToMultiByte(CP_UTF8, 0, name, n, out.data(), bytes, nullptr, nullptr);
  return out;
}

std::optional<std::uint32_t> window_process(std::uint64_t hwnd) {
  DWORD pid = 0;
  if (GetWindowThreadProcessId(reinterpret_cast<HWND>(static_cast<std::uintptr_t>(hwnd)), &pid) == 0)
    return std::nullopt;
  return pid;
}

namespace {

std::wstring taskkill_path() {
  std::wstring dir(MAX_PATH, L'\0');
  for (;;) {
    UINT n = GetSystemDirectoryW(dir.data(), static_cast<UINT>(dir.size()));
    if (n == 0) throw std::runtime_error(fmt::format("GetSystemDirectory failed: error {}", GetLastError()));
    if (n < dir.size()) {
      dir.resize(n);
      break;
    }
    dir.resize(n);
  }
  return dir + L"\\taskkill.exe";
}

}  // namespace

std::optional<std::uint32_t> run_taskkill(std::uint32_t pid, System::TaskkillOptions options, HANDLE job, Deadline d) {
  win32::Launch launch;
  launch.exe = taskkill_path();
  launch.command_line = L"taskkill.exe";
  if (options.force) launch.command_line += L" /f";
  if (options.tree) launch.command_line += L" /t";
  launch.command_line += L" /pid " + std::to_wstring(pid);

  // Its output goes nowhere: the text is localised and never judged. NUL is its standard input,
  // output and error, and the one handle it inherits.
  SECURITY_ATTRIBUTES inheritable{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  win32::OwnedHandle nul(CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                     &inheritable, OPEN_EXISTING, 0, nullptr));
  if (!nul) throw std::runtime_error(fmt::format("CreateFile(NUL) failed: error {}", GetLastError()));
  launch.inherit.push_back(nul.get());
  launch.use_std_handles = true;
  launch.std_in = launch.std_out = launch.std_err = nul.get();

  PROCESS_INFORMATION pi{};
  const char* failed = nullptr;
  if (!win32::create_process_in_job(std::move(launch), job, &pi, &failed))
    throw std::runtime_error(fmt::format("{} of taskkill failed: error {}", failed, GetLastError()));
  win32::OwnedHandle process(pi.hProcess), thread(pi.hThread);

  if (WaitForSingleObject(pi.hProcess, d.remaining_ms()) != WAIT_OBJECT_0) {
    TerminateProcess(pi.hProcess, 1);
    // Gone before the handle is closed, so the test's reap finds no taskkill left in its job.
    WaitForSingleObject(pi.hProcess, 2'000);
    return std::nullopt;
  }
  DWORD code = 0;
  if (!GetExitCodeProcess(pi.hProcess, &code)) return std::nullopt;
  return code;
}

}  // namespace termsuite::live
