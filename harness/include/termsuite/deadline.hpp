#pragma once
// Deadlines for every wait. A wait that reaches its deadline is a result (timeout), not a hang.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace termsuite {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class Deadline {
 public:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline in(milliseconds d) { return Deadline(Clock::now() + d); }
  static Deadline now() { return Deadline(Clock::now()); }
  Clock::time_point at() const { return at_; }
  bool passed() const { return Clock::now() >= at_; }
  // Remaining time, clamped to [0, max] (a Win32 wait takes a DWORD of milliseconds).
  milliseconds remaining() const {
    auto left = std::chrono::duration_cast<milliseconds>(at_ - Clock::now());
    return std::max(left, milliseconds(0));
  }
  std::uint32_t remaining_ms() const {
    return static_cast<std::uint32_t>(std::min<std::int64_t>(remaining().count(), 0x7fffffff));
  }

 private:
  Clock::time_point at_;
};

// Default budgets. Process start-up under a warm Wine is well under 0.2 s; these leave room
// for a loaded CI machine without letting a broken platform stall a run.
inline constexpr milliseconds kStartBudget{10'000};   // an actor to report "ready"
inline constexpr milliseconds kExitBudget{10'000};    // a process that should end to be signaled
inline constexpr milliseconds kAbsentBudget{300};     // how long "still running" is watched

}  // namespace termsuite
