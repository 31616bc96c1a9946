#pragma once
// A phase of a run that may take a while (the Wine prefix's creation, the suite), said as it
// starts, the way ./termsuite says its own (harness/phases.sh):
//   termsuite: NAME (log: LOG)
// On a terminal a status line under it counts the seconds, redrawn in place, and becomes
// "  done in T" when the phase ends. Without a terminal (CI, a pipe, a file) the start line is
// all: no status, no carriage return. A phase that fails says so through its error, which names
// its log; its status line is cleared first.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

namespace termsuite::runner {

// "42 s", "2 min 05 s".
std::string phase_duration(std::chrono::steady_clock::duration d);

// `path` as shown to the user: relative to the working folder when it lies under it.
std::string shown_path(const std::filesystem::path& path);

// The start line alone, for a phase that draws its own status (the suite's progress line).
void announce_phase(const std::string& name, const std::string& logs, std::FILE* out = stdout);

class PhaseLine {
 public:
  // `out` is where the lines go (stdout); `terminal`: whether to draw the status line.
  PhaseLine(const std::string& name, const std::filesystem::path& log, bool terminal, std::FILE* out = stdout);
  PhaseLine(const std::string& name, const std::filesystem::path& log);  // terminal: stdout_is_terminal()
  ~PhaseLine();  // without done(): the status line cleared (the phase failed; its error follows)
  void done();   // on a terminal, the status line becomes "  done in T"
  PhaseLine(const PhaseLine&) = delete;
  PhaseLine& operator=(const PhaseLine&) = delete;

 private:
  void stop(bool finished);
  void loop();
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false, stopped_ = false;
  std::size_t drawn_ = 0;  // length of the status line on screen
  std::thread thread_;
};

}  // namespace termsuite::runner
