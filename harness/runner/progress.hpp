#pragma once
// Live progress of a conform run on a terminal: one line, redrawn in place (\r) at most every
// 250 ms while the shards run, from their result streams (shard-N.jsonl: a "started" line when a
// test begins, a "test" line when it ends):
//   running: 23/69 done, 1 failing; 6 s in CtrlClose.HoldingHandlerIsCutShort
// (the test running longest now, and for how long; a long name is cut at the terminal's width)
// Cleared before anything else is printed. Without a terminal (CI, a pipe) it shows nothing.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace termsuite::runner {

// stdout is a terminal (isatty; a console on Windows, GetConsoleMode) and TERM is not "dumb".
bool stdout_is_terminal();

// What the line says; at most `width` - 1 characters (the last column makes some terminals wrap).
std::string progress_line(std::size_t done, std::size_t total, std::size_t failing, const std::string& longest,
                          double longest_seconds, std::size_t width);

// Follows the streams of a run's shards. Each poll reads what was appended since the last one.
class StreamFollower {
 public:
  explicit StreamFollower(std::vector<std::filesystem::path> streams);
  void poll(std::chrono::steady_clock::time_point now);
  std::size_t done() const { return done_; }
  std::size_t failing() const { return failing_; }
  // The test that has been running longest, and since when; empty name if none is running.
  std::string longest(std::chrono::steady_clock::time_point now, double& seconds) const;

 private:
  struct Shard {
    std::filesystem::path path;
    std::uintmax_t offset = 0;
    std::string partial;  // an incomplete last line, until its end arrives
    std::string running;
    std::chrono::steady_clock::time_point since;
  };
  std::vector<Shard> shards_;
  std::size_t done_ = 0, failing_ = 0;
};

class LiveProgress {
 public:
  // Starts drawing if `enabled` (normally stdout_is_terminal()); otherwise does nothing.
  LiveProgress(std::vector<std::filesystem::path> streams, std::size_t total, bool enabled = stdout_is_terminal());
  ~LiveProgress();  // stop()
  void stop();      // stops drawing and clears the line
  LiveProgress(const LiveProgress&) = delete;
  LiveProgress& operator=(const LiveProgress&) = delete;

 private:
  void loop();
  StreamFollower follower_;
  std::size_t total_;
  std::size_t drawn_ = 0;  // length of the line on screen
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace termsuite::runner
