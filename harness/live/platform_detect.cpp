#include <windows.h>

#include <fmt/format.h>

#include "termsuite/live.hpp"

namespace termsuite::live {

namespace {
struct OsVersionInfo {  // RTL_OSVERSIONINFOW
  ULONG size, major, minor, build, platform_id;
  WCHAR csd[128];
};
using RtlGetVersionFn = LONG(WINAPI*)(OsVersionInfo*);
using WineGetVersionFn = const char*(CDECL*)();  // wine_get_version, wine_get_build_id
using WineGetHostVersionFn = void(CDECL*)(const char** sysname, const char** release);
}  // namespace

Platform detect_platform() {
  Platform p;
  p.os = "windows";
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  OsVersionInfo v{};
  v.size = sizeof v;
  if (auto rtl = reinterpret_cast<RtlGetVersionFn>(reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion"))))
    rtl(&v);
  p.version = fmt::format("{}.{}.{}", v.major, v.minor, v.build);
  if (auto wgv = reinterpret_cast<WineGetVersionFn>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version"))))
    p.wine = wgv();
  // The build id names a flavour of Wine ("wine-9.0 (Staging)"): part of the platform's id.
  if (auto wgb = reinterpret_cast<WineGetVersionFn>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_build_id"))))
    if (const char* build = wgb()) p.flavour = wine_flavour(build);
  if (auto whv = reinterpret_cast<WineGetHostVersionFn>(
          reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_host_version")))) {
    const char *sys = nullptr, *rel = nullptr;
    whv(&sys, &rel);
    p.host = fmt::format("{} {}", sys ? sys : "?", rel ? rel : "?");
  }
  SYSTEM_INFO si{};
  GetNativeSystemInfo(&si);
  switch (si.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64: p.arch = "x86_64"; break;
    case PROCESSOR_ARCHITECTURE_INTEL: p.arch = "x86"; break;
    case PROCESSOR_ARCHITECTURE_ARM64: p.arch = "arm64"; break;
    default: p.arch = fmt::format("arch{}", si.wProcessorArchitecture);
  }
  p.id = make_platform_id(p);
  return p;
}

}  // namespace termsuite::live

namespace termsuite {

Platform backend_platform() { return live::detect_platform(); }

std::string_view backend_name() { return "live"; }

std::string backend_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::string(path);
  // Wine exports wine_get_dos_file_name from kernel32; on Windows a '/'-rooted path stays as is.
  using ToDos = WCHAR*(CDECL*)(const char*);
  auto to_dos = reinterpret_cast<ToDos>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "wine_get_dos_file_name")));
  if (!to_dos) return std::string(path);
  std::string unix_path(path);
  WCHAR* dos = to_dos(unix_path.c_str());
  if (!dos) return unix_path;
  int n = WideCharToMultiByte(CP_UTF8, 0, dos, -1, nullptr, 0, nullptr, nullptr);
  std::string out(n > 0 ? n - 1 : 0, '\0');
  WideCharToMultiByte(CP_UTF8, 0, dos, -1, out.data(), n, nullptr, nullptr);
  HeapFree(GetProcessHeap(), 0, dos);
  return out;
}

}  // namespace termsuite
