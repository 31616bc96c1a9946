#pragma once
// What every actor program needs besides the report channel: its parent's id, its own path,
// command lines as the C runtime reads them back, and starting a copy of itself.
#include <windows.h>

#include <termsuite/win32.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace termsuite::actor {

// The parent process id the system recorded (NtQueryInformationProcess), 0 if unknown.
DWORD parent_pid();
// The full path of this executable.
std::wstring own_path();
using win32::widen;  // UTF-8 to UTF-16 (termsuite/win32.hpp)
// Starts this executable again with `verbs`, inheriting the report channel and nothing else
// (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), with the CreateProcess `flags` given. Reports `spawned`
// {child_pid, child_tid} or `error`. Closes the child's handles, except the thread handle when
// `keep_thread` (the leak of Raymond Chen's "Why are there all these processes lingering near death").
void spawn_self(const std::vector<std::string>& verbs, DWORD flags, bool keep_thread);

// What every actor does with an argv it cannot parse: reports `usage-error` {message}, writes
// "<program>: <message>" and `usage` to standard error, and ExitProcess(kUsageErrorExitCode).
inline constexpr DWORD kUsageErrorExitCode = 0xBADA;
[[noreturn]] void usage_error(std::string_view program, const std::string& message, std::string_view usage);

}  // namespace termsuite::actor
