#include "phase_line.hpp"

#include <fmt/format.h>

#include "progress.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace termsuite::runner {

std::string phase_duration(Clock::duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 60) return fmt::format("{} s", s);
  return fmt::format("{} min {:02} s", s / 60, s % 60);
}

std::string shown_path(const fs::path& path) {
  std::error_code ec;
  const auto rel = fs::relative(path, fs::current_path(ec), ec);
  if (ec || rel.empty() || *rel.begin() == "..") return path.string();
  return rel.string();
}

void announce_phase(const std::string& name, const std::string& logs, std::FILE* out) {
  fmt::print(out, "termsuite: {} ({})\n", name, logs);
  std::fflush(out);  // said as it starts, also when the output is a file
}

PhaseLine::PhaseLine(const std::string& name, const fs::path& log) : PhaseLine(name, log, stdout_is_terminal()) {}

PhaseLine::PhaseLine(const std::string& name, const fs::path& log, bool terminal, std::FILE* out)
    : out_(out), start_(Clock::now()) {
  announce_phase(name, "log: " + shown_path(log), out_);
  if (terminal) thread_ = std::thread([this] { loop(); });
}

PhaseLine::~PhaseLine() { stop(false); }

void PhaseLine::done() { stop(true); }

void PhaseLine::stop(bool finished) {
  {
    std::lock_guard lock(m_);
    if (stopped_) return;
    stopped_ = stop_ = true;
  }
  cv_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  // Spaces, not an escape sequence, clear what was drawn: a Windows console shows no VT sequences
  // unless asked to.
  fmt::print(out_, "\r{}\r", std::string(drawn_, ' '));
  if (finished) fmt::print(out_, "  done in {}\n", phase_duration(Clock::now() - start_));
  std::fflush(out_);
}

void PhaseLine::loop() {
  std::unique_lock lock(m_);
  for (;;) {
    auto line = "  " + phase_duration(Clock::now() - start_);
    const auto len = line.size();
    if (len < drawn_) line.append(drawn_ - len, ' ');
    fmt::print(out_, "\r{}", line);
    drawn_ = len;
    std::fflush(out_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; })) break;
  }
}

}  // namespace termsuite::runner
