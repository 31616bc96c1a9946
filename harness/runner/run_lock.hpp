#pragma once
// One run per build tree at a time. Two runs on one tree would share (and stop) one wineserver
// and write the same result streams, and each would report the other's damage as regressions.
// `conform` and `test` hold an exclusive flock on <build>/termsuite-run.lock for their whole run;
// the kernel drops it when the holder ends, however it ends (kill -9 included), so a lock is never
// stale. The file names the holder (pid and command line) for the run that is refused. On Windows
// (termsuite.exe) the lock is the file itself, open without write sharing (run_lock_win.cpp).
#include <filesystem>

namespace termsuite::runner {

class RunLock {
 public:
  // Takes the lock of `build_dir`, or throws EnvError naming the run that holds it. Never waits.
  explicit RunLock(const std::filesystem::path& build_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  static std::filesystem::path file_of(const std::filesystem::path& build_dir) {
    return build_dir / "termsuite-run.lock";
  }

 private:
#ifdef _WIN32
  void* handle_ = nullptr;  // the lock file, opened without write sharing (not inherited)
#else
  int fd_ = -1;  // close-on-exec: no child of the run (a wineserver) inherits the lock
#endif
};

}  // namespace termsuite::runner
