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

std::wstring widen(std::string_view text) {
  if (text.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), n);
  return out;
}

// Builds one argument as the C runtime's command-line parser will read it back.
void append_quoted(std::wstring& line, const std::wstring& arg) {
  line += L' ';
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += arg;
    return;
  }
  line += L'"';
  for (auto it = arg.begin();; ++it) {
    std::size_t backslashes = 0;
    while (it != arg.end() && *it == L'\\') ++it, ++backslashes;
    if (it == arg.end()) {
      line.append(backslashes * 2, L'\\');
      break;
    }
    line.append(*it == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
    line += *it;
  }
  line += L'"';
}

void spawn_self(const std::vector<std::string>& verbs, DWORD flags, bool keep_thread) {
  const std::wstring path = own_path();

  HANDLE channel = report::channel();
  const bool inherit = SetHandleInformation(channel, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  std::wstring command_line = L'"' + path + L'"';
  if (inherit) {
    append_quoted(command_line, L"--report");
    append_quoted(command_line, std::to_wstring(reinterpret_cast<std::uintptr_t>(channel)));
  }
  for (const std::string& verb : verbs) append_quoted(command_line, widen(verb));

  // PROC_THREAD_ATTRIBUTE_HANDLE_LIST: only the channel is inherited, whatever else is
  // inheritable in this process.
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
  std::vector<unsigned char> storage(size);
  auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage.data());
  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof startup;
  if (inherit && InitializeProcThreadAttributeList(attributes, 1, 0, &size)) {
    if (UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, &channel,
                                  sizeof channel, nullptr, nullptr)) {
      startup.lpAttributeList = attributes;
    }
  }

  PROCESS_INFORMATION child{};
  const BOOL created = CreateProcessW(path.c_str(), command_line.data(), nullptr, nullptr,
                                     inherit ? TRUE : FALSE, EXTENDED_STARTUPINFO_PRESENT | flags, nullptr,
                                     nullptr, &startup.StartupInfo, &child);
  const DWORD error = GetLastError();
  if (startup.lpAttributeList != nullptr) DeleteProcThreadAttributeList(attributes);
  if (!created) {
    report::emit("error", {{"what", "CreateProcess"}, {"error", error}});
    return;
  }
  report::emit("spawned", {{"child_pid", child.dwProcessId}, {"child_tid", child.dwThreadId}});
  if (!keep_thread) CloseHandle(child.hThread);
  CloseHandle(child.hProcess);
}

}  // namespace termsuite::actor
