#include "termsuite/actor_support.hpp"

#include <cstdint>

#include "termsuite/report_writer.hpp"

namespace termsuite::actor {

namespace report = termsuite::report;

// PROCESS_BASIC_INFORMATION as ntdll fills it (winternl.h names the last field differently
// across SDKs).
struct BasicInformation {
  LONG exit_status;
  void* peb;
  ULONG_PTR affinity;
  LONG base_priority;
  ULONG_PTR pid;
  ULONG_PTR parent_pid;
};

DWORD parent_pid() {
  using Query = LONG(WINAPI*)(HANDLE, ULONG, void*, ULONG, ULONG*);
  auto query = reinterpret_cast<Query>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationProcess")));
  BasicInformation info{};
  if (query == nullptr || query(GetCurrentProcess(), 0 /* ProcessBasicInformation */, &info,
                                sizeof info, nullptr) < 0) {
    return 0;
  }
  return static_cast<DWORD>(info.parent_pid);
}

// The full path of this executable.
std::wstring own_path() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

void spawn_self(const std::vector<std::string>& verbs, DWORD flags, bool keep_thread) {
  const std::wstring path = own_path();

  HANDLE channel = report::channel();
  const bool inherit = SetHandleInformation(channel, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  std::wstring command_line;
  win32::append_quoted(command_line, path);
  if (inherit) {
    win32::append_quoted(command_line, L"--report");
    win32::append_quoted(command_line, std::to_wstring(reinterpret_cast<std::uintptr_t>(channel)));
  }
  for (const std::string& verb : verbs) win32::append_quoted(command_line, widen(verb));

  // Only the channel is inherited, whatever else is inheritable in this process.
  win32::Launch launch;
  launch.exe = path;
  launch.command_line = std::move(command_line);
  launch.flags = flags;
  if (inherit) launch.inherit.push_back(channel);
  PROCESS_INFORMATION child{};
  if (!win32::create_process(launch, &child)) {
    report::emit("error", {{"what", "CreateProcess"}, {"error", GetLastError()}});
    return;
  }
  report::emit("spawned", {{"child_pid", child.dwProcessId}, {"child_tid", child.dwThreadId}});
  if (!keep_thread) CloseHandle(child.hThread);
  CloseHandle(child.hProcess);
}

void usage_error(std::string_view program, const std::string& message, std::string_view usage) {
  report::emit("usage-error", {{"message", message}});
  const std::string text = std::string(program) + ": " + message + "\n" + std::string(usage);
  DWORD written = 0;
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
  ExitProcess(kUsageErrorExitCode);
}

}  // namespace termsuite::actor
