// run_lock.hpp on Windows: the lock file is opened for writing with no write sharing, so a second
// run's open fails with ERROR_SHARING_VIOLATION while the first holds it. The system closes the
// handle when the holder ends, however it ends, so the lock is never stale. The holder's name
// (pid and command line) is in the file, readable by the refused run.
#include <windows.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "run_lock.hpp"
#include "supervise.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

std::string utf8(const wchar_t* w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  std::string out(n > 0 ? static_cast<std::size_t>(n - 1) : 0, '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, -1, out.data(), n, nullptr, nullptr);
  return out;
}

}  // namespace

RunLock::RunLock(const fs::path& build_dir) {
  std::error_code ec;
  fs::create_directories(build_dir, ec);
  const auto file = file_of(build_dir);
  HANDLE h = CreateFileW(file.wstring().c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, nullptr, OPEN_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD err = GetLastError();
    if (err != ERROR_SHARING_VIOLATION)
      throw EnvError(fmt::format("cannot open {}: error {}", file.string(), err));
    std::string holder = read_text_file(file);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\r' || holder.back() == ' ')) holder.pop_back();
    throw EnvError(fmt::format("{} is in use by another run ({}); wait for it to end", build_dir.string(),
                               holder.empty() ? "it has not named itself yet" : holder));
  }
  handle_ = h;
  const auto me = fmt::format("pid {}: {}\n", GetCurrentProcessId(), utf8(GetCommandLineW()));
  DWORD written = 0;
  // Should this fail, the lock holds all the same; only the name of the holder is missing.
  SetEndOfFile(h);
  WriteFile(h, me.data(), static_cast<DWORD>(me.size()), &written, nullptr);
  FlushFileBuffers(h);
}

RunLock::~RunLock() {
  if (handle_) CloseHandle(static_cast<HANDLE>(handle_));
}

}  // namespace termsuite::runner
