#include "termsuite/win32.hpp"

namespace termsuite::win32 {

std::wstring widen(std::string_view text) {
  if (text.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), n);
  return out;
}

void append_quoted(std::wstring& line, const std::wstring& arg) {
  if (!line.empty()) line += L' ';
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += arg;
    return;
  }
  line += L'"';
  for (auto it = arg.begin();; ++it) {
    std::size_t backslashes = 0;
    while (it != arg.end() && *it == L'\\') ++it, ++backslashes;
    if (it == arg.end()) {
      line.append(backslashes * 2, L'\\');  // they precede the closing quote
      break;
    }
    line.append(*it == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
    line += *it;
  }
  line += L'"';
}

bool create_process(const Launch& launch, PROCESS_INFORMATION* pi) {
  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof startup;
  if (launch.use_std_handles) {
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = launch.std_in;
    startup.StartupInfo.hStdOutput = launch.std_out;
    startup.StartupInfo.hStdError = launch.std_err;
  }
  std::vector<unsigned char> storage;
  auto* attributes = static_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(nullptr);
  if (!launch.inherit.empty()) {
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    storage.resize(size);
    attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage.data());
    if (!InitializeProcThreadAttributeList(attributes, 1, 0, &size)) return false;
    // The list is read by CreateProcess: it must not be a temporary.
    if (!UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                   const_cast<HANDLE*>(launch.inherit.data()),
                                   launch.inherit.size() * sizeof(HANDLE), nullptr, nullptr)) {
      const DWORD error = GetLastError();
      DeleteProcThreadAttributeList(attributes);
      SetLastError(error);
      return false;
    }
    startup.lpAttributeList = attributes;
  }
  std::wstring line = launch.command_line;  // CreateProcessW may write to it
  const BOOL created =
      CreateProcessW(launch.exe.c_str(), line.data(), nullptr, nullptr, launch.inherit.empty() ? FALSE : TRUE,
                     launch.flags | EXTENDED_STARTUPINFO_PRESENT, nullptr, nullptr, &startup.StartupInfo, pi);
  const DWORD error = GetLastError();
  if (attributes) DeleteProcThreadAttributeList(attributes);
  SetLastError(error);
  return created != FALSE;
}

bool create_process_in_job(Launch launch, HANDLE job, PROCESS_INFORMATION* pi, const char** what) {
  launch.flags |= CREATE_SUSPENDED;
  if (!create_process(launch, pi)) {
    *what = "CreateProcess";
    return false;
  }
  if (!AssignProcessToJobObject(job, pi->hProcess)) {
    const DWORD error = GetLastError();
    TerminateProcess(pi->hProcess, 1);
    CloseHandle(pi->hProcess);
    CloseHandle(pi->hThread);
    *pi = PROCESS_INFORMATION{};
    *what = "AssignProcessToJobObject";
    SetLastError(error);
    return false;
  }
  ResumeThread(pi->hThread);
  return true;
}

std::wstring module_dir() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n < path.size()) {
      path.resize(n);
      break;
    }
    path.resize(path.size() * 2);
  }
  auto slash = path.find_last_of(L"\\/");
  return slash == std::wstring::npos ? L"." : path.substr(0, slash);
}

}  // namespace termsuite::win32
