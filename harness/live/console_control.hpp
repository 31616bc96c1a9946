#pragma once
// The live backend's console and window controls: the harness's own console,
// GenerateConsoleCtrlEvent, WM_CLOSE, and taskkill. Win32 only; LiveSystem forwards to these.
#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>

#include "termsuite/deadline.hpp"
#include "termsuite/system.hpp"

namespace termsuite::live {

// FreeConsole + AllocConsole once per process (the standard handles kept, an inherited
// ignore-Ctrl+C flag cleared, a handler returning TRUE for every event installed); later calls
// return the first call's outcome.
bool own_console();

// GenerateConsoleCtrlEvent(type, group): 0, or GetLastError (cleared before the call).
std::uint32_t ctrl_event(std::uint32_t type, std::uint32_t group);

// PostMessageW(hwnd, WM_CLOSE, 0, 0): 0, or GetLastError.
std::uint32_t post_close(std::uint64_t hwnd);

// GetClassNameW as UTF-8, or nullopt if IsWindow(hwnd) is false.
std::optional<std::string> window_class(std::uint64_t hwnd);

// GetWindowThreadProcessId's process id, or nullopt if it fails (no such window).
std::optional<std::uint32_t> window_process(std::uint64_t hwnd);

// `%SystemRoot%\system32\taskkill.exe /pid PID [/f] [/t]`, started with no creation flag about
// consoles (so in this process's console), its standard handles on NUL and nothing else inherited,
// in `job`, waited for until `d`. Its exit status, or nullopt when it was still running at the
// deadline (it is then terminated). Throws std::runtime_error if it cannot be started in the job.
std::optional<std::uint32_t> run_taskkill(std::uint32_t pid, System::TaskkillOptions options, HANDLE job, Deadline d);

}  // namespace termsuite::live
