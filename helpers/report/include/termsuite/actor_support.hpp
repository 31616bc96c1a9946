#pragma once
// What every actor program needs besides the report channel: its parent's id, its own path,
// command lines as the C runtime reads them back, and starting a copy of itself.
#include <windows.h>

#include <string>
#include <string_view>
#include <vector>

namespace termsuite::actor {

// The parent process id the system recorded (NtQueryInformationProcess), 0 if unknown.
DWORD parent_pid();
// The full path of this executable.
std::wstring own_path();
std::wstring widen(std::string_view text);  // UTF-8 to UTF-16
// Appends one argument (after a space) as CommandLineToArgvW / the CRT will read it back.
void append_quoted(std::wstring& line, const std::wstring& arg);
// Starts this executable again with `verbs`, inheriting the report channel and nothing else
// (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), with the CreateProcess `flags` given. Reports `spawned`
// {child_pid, child_tid} or `error`. Closes the child's handles, except the thread handle when
// `keep_thread` (the leak of seed 001).
void spawn_self(const std::vector<std::string>& verbs, DWORD flags, bool keep_thread);

}  // namespace termsuite::actor
