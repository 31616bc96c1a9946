// The Win32 side of the preflight (preflight.hpp): what this machine does to a Windows process,
// measured from inside one (the suite binary), on Windows or under Wine. Only facts here; the
// checks that judge them are portable (harness/src/preflight.cpp).
#include <windows.h>
#include <tlhelp32.h>

#include <cctype>
#include <cstdlib>
#include <cwchar>
#include <cstring>
#include <thread>

#include "termsuite/backend.hpp"
#include "termsuite/live.hpp"
#include "termsuite/preflight.hpp"

namespace termsuite::live {

namespace {

std::string narrow(const std::wstring& w) {
  if (w.empty()) return {};
  int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), out.data(), n, nullptr, nullptr);
  return out;
}

// A registry value as the facts want it: text for REG_SZ/REG_EXPAND_SZ (expanded), the number
// for REG_DWORD (as text when `as_text`).
struct Value {
  bool present = false;
  DWORD type = 0;
  std::wstring text;
  DWORD number = 0;
};

Value read_value(HKEY root, const wchar_t* path, const wchar_t* name, REGSAM view = 0) {
  Value v;
  HKEY key = nullptr;
  if (RegOpenKeyExW(root, path, 0, KEY_QUERY_VALUE | view, &key) != ERROR_SUCCESS) return v;
  DWORD type = 0, size = 0;
  if (RegQueryValueExW(key, name, nullptr, &type, nullptr, &size) == ERROR_SUCCESS) {
    std::wstring buffer(size / sizeof(wchar_t) + 1, L'\0');
    if (RegQueryValueExW(key, name, nullptr, &type, reinterpret_cast<BYTE*>(buffer.data()), &size) == ERROR_SUCCESS) {
      v.present = true;
      v.type = type;
      if (type == REG_DWORD && size >= sizeof(DWORD)) {
        std::memcpy(&v.number, buffer.data(), sizeof(DWORD));
      } else if (type == REG_SZ || type == REG_EXPAND_SZ) {
        buffer.resize(size / sizeof(wchar_t));
        while (!buffer.empty() && buffer.back() == L'\0') buffer.pop_back();
        v.text = buffer;
        if (type == REG_EXPAND_SZ) {
          DWORD n = ExpandEnvironmentStringsW(buffer.c_str(), nullptr, 0);
          std::wstring expanded(n, L'\0');
          ExpandEnvironmentStringsW(buffer.c_str(), expanded.data(), n);
          if (!expanded.empty() && expanded.back() == L'\0') expanded.pop_back();
          v.text = expanded;
        }
      }
    }
  }
  RegCloseKey(key);
  return v;
}

bool key_exists(HKEY root, const wchar_t* path, REGSAM view = 0) {
  HKEY key = nullptr;
  if (RegOpenKeyExW(root, path, 0, KEY_QUERY_VALUE | view, &key) != ERROR_SUCCESS) return false;
  RegCloseKey(key);
  return true;
}

std::optional<std::uint32_t> dword(HKEY root, const wchar_t* path, const wchar_t* name) {
  auto v = read_value(root, path, name);
  if (!v.present) return std::nullopt;
  if (v.type == REG_DWORD) return v.number;
  return static_cast<std::uint32_t>(std::wcstoul(v.text.c_str(), nullptr, 10));
}

std::optional<std::string> text(HKEY root, const wchar_t* path, const wchar_t* name) {
  auto v = read_value(root, path, name);
  if (!v.present) return std::nullopt;
  return narrow(v.text);
}

// "Configuring Automatic Debugging": Debugger (REG_SZ) and Auto (REG_SZ "0"/"1"; Wine also reads a
// REG_DWORD). `view` picks the 64-bit key or its 32-bit copy (Wow6432Node).
preflight::AeDebug aedebug(REGSAM view) {
  static const wchar_t* const path = L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug";
  preflight::AeDebug a;
  a.present = key_exists(HKEY_LOCAL_MACHINE, path, view);
  if (!a.present) return a;
  auto debugger = read_value(HKEY_LOCAL_MACHINE, path, L"Debugger", view);
  if (debugger.present) a.debugger = narrow(debugger.text);
  auto autostart = read_value(HKEY_LOCAL_MACHINE, path, L"Auto", view);
  if (autostart.present) a.autostart = autostart.type == REG_DWORD ? std::to_string(autostart.number) : narrow(autostart.text);
  return a;
}

preflight::DwordSetting wer(const wchar_t* name) {
  static const wchar_t* const path = L"Software\\Microsoft\\Windows\\Windows Error Reporting";
  static const wchar_t* const policy = L"Software\\Policies\\Microsoft\\Windows\\Windows Error Reporting";
  return {dword(HKEY_CURRENT_USER, path, name), dword(HKEY_LOCAL_MACHINE, path, name), dword(HKEY_LOCAL_MACHINE, policy, name)};
}

// winetest's check_display_driver (programs/winetest/main.c): a STATIC window, created and
// destroyed, on a thread of its own so that the suite's main thread gets no message queue.
void probe_window(preflight::WindowsFacts& f) {
  std::thread([&f] {
    HWND w = CreateWindowExW(0, L"STATIC", L"termsuite preflight", WS_OVERLAPPEDWINDOW, CW_USEDEFAULT, CW_USEDEFAULT, 100,
                             100, nullptr, nullptr, GetModuleHandleW(nullptr), nullptr);
    f.window_error = w ? 0 : GetLastError();
    f.window_created = w != nullptr;
    if (w) DestroyWindow(w);
  }).join();
  USEROBJECTFLAGS flags{};
  if (HWINSTA station = GetProcessWindowStation())
    if (GetUserObjectInformationW(station, UOI_FLAGS, &flags, sizeof flags, nullptr))
      f.station_visible = (flags.dwFlags & WSF_VISIBLE) != 0;
}

std::uint32_t own_threads() {
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE) return 0;
  std::uint32_t n = 0;
  THREADENTRY32 te{};
  te.dwSize = sizeof te;
  for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te))
    n += te.th32OwnerProcessID == GetCurrentProcessId();
  CloseHandle(snap);
  return n;
}

// The C runtime this program imports (the suite binary, built by the toolchain that builds the
// actors): msvcrt.dll, ucrtbase.dll or the UCRT's api-ms-win-crt-* forwarders, read from its own
// import directory. (GetModuleHandle("ucrtbase.dll") would not tell: other DLLs load the UCRT, as
// Wine's user32 does.)
std::string c_runtime() {
  auto* base = reinterpret_cast<const unsigned char*>(GetModuleHandleW(nullptr));
  const auto* dos = reinterpret_cast<const IMAGE_DOS_HEADER*>(base);
  const auto* nt = reinterpret_cast<const IMAGE_NT_HEADERS*>(base + dos->e_lfanew);
  const auto& dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
  if (dir.VirtualAddress == 0) return {};
  std::string found;
  for (const auto* d = reinterpret_cast<const IMAGE_IMPORT_DESCRIPTOR*>(base + dir.VirtualAddress); d->Name; ++d) {
    std::string name(reinterpret_cast<const char*>(base + d->Name));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "ucrtbase.dll" || name.starts_with("api-ms-win-crt-")) return "ucrtbase.dll";
    if (name.starts_with("msvcr")) found = name;  // msvcrt.dll, or a versioned msvcr*.dll
  }
  return found.empty() ? "a static C runtime" : found;
}

void probe_job(preflight::WindowsFacts& f) {
  BOOL in = FALSE;
  if (IsProcessInJob(GetCurrentProcess(), nullptr, &in)) f.in_job = in;
  // Wine 8.0 answers these queries with zeros whatever the job (dlls/ntdll/unix/sync.c): only
  // IsProcessInJob is trusted there.
  if (!f.in_job || f.under_wine()) return;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  if (QueryInformationJobObject(nullptr, JobObjectExtendedLimitInformation, &limits, sizeof limits, nullptr))
    f.job_limit_flags = limits.BasicLimitInformation.LimitFlags;
  JOBOBJECT_BASIC_UI_RESTRICTIONS ui{};
  if (QueryInformationJobObject(nullptr, JobObjectBasicUIRestrictions, &ui, sizeof ui, nullptr))
    f.job_ui_restrictions = ui.UIRestrictionsClass;
}

void probe_token(preflight::WindowsFacts& f) {
  SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
  PSID admins = nullptr;
  if (AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &admins)) {
    BOOL member = FALSE;
    if (CheckTokenMembership(nullptr, admins, &member)) f.administrators_member = member;
    FreeSid(admins);
  }
  HANDLE token = nullptr;
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    TOKEN_ELEVATION elevation{};
    DWORD size = 0;
    if (GetTokenInformation(token, TokenElevation, &elevation, sizeof elevation, &size))
      f.elevated = elevation.TokenIsElevated != 0;
    CloseHandle(token);
  }
}

}  // namespace

preflight::WindowsFacts probe_machine() {
  preflight::WindowsFacts f;
  f.threads = own_threads();  // first: the probe's own thread comes later
  const auto platform = detect_platform();
  f.version = platform.version;
  f.wine = platform.wine;
  f.aedebug = aedebug(KEY_WOW64_64KEY);
  f.aedebug_wow64 = aedebug(KEY_WOW64_32KEY);
  if (f.under_wine()) f.show_crash_dialog = dword(HKEY_CURRENT_USER, L"Software\\Wine\\WineDbg", L"ShowCrashDialog");
  f.wer_dont_show_ui = wer(L"DontShowUI");
  f.wer_disabled = wer(L"Disabled");
  f.wer_local_dumps = key_exists(HKEY_LOCAL_MACHINE, L"Software\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps");
  probe_window(f);
  f.delegation_console = text(HKEY_CURRENT_USER, L"Console\\%%Startup", L"DelegationConsole");
  f.delegation_terminal = text(HKEY_CURRENT_USER, L"Console\\%%Startup", L"DelegationTerminal");
  probe_job(f);
  f.c_runtime = c_runtime();
  probe_token(f);
  return f;
}

}  // namespace termsuite::live

namespace termsuite {

std::optional<preflight::WindowsFacts> backend_machine_facts() { return live::probe_machine(); }

}  // namespace termsuite
