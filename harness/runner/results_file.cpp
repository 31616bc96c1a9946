#include "results_file.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

int current_pid() {
#ifdef _WIN32
  return static_cast<int>(GetCurrentProcessId());
#else
  return static_cast<int>(getpid());
#endif
}

// Replaces `to` with `from` in one step (rename(2); MoveFileExW with MOVEFILE_REPLACE_EXISTING).
void replace_file(const fs::path& from, const fs::path& to) {
#ifdef _WIN32
  if (!MoveFileExW(from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    throw std::system_error(static_cast<int>(GetLastError()), std::system_category());
#else
  fs::rename(from, to);
#endif
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::string& text) {
  static std::atomic<unsigned> counter{0};
  const auto folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const auto tmp = folder / fmt::format(".{}.{}-{}.tmp", path.filename().string(), current_pid(), counter++);
  auto fail = [&](const std::string& why) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), why));
  };
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) fail(ec.message());
#ifdef _WIN32
  std::FILE* f = _wfopen(tmp.c_str(), L"wb");
#else
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
#endif
  if (!f) fail(fmt::format("cannot create {}", tmp.string()));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
#ifdef _WIN32
  ok = ok && _commit(_fileno(f)) == 0;
#else
  ok = ok && fsync(fileno(f)) == 0;
#endif
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) fail(fmt::format("writing {} failed", tmp.string()));
  try {
    replace_file(tmp, path);
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

ResultsWritten write_run_results(const fs::path& results_dir, const fs::path& run_dir, const std::string& name,
                                 const std::string& text, bool complete) {
  ResultsWritten w;
  w.partial = !complete;
  const auto partial_path = run_dir / (name + ".partial.json");
  w.path = complete ? results_dir / (name + ".json") : partial_path;
  write_file_atomically(w.path, text);
  std::error_code ec;
  if (complete) fs::remove(partial_path, ec);  // an earlier partial run's file would only mislead
  return w;
}

}  // namespace termsuite::runner
