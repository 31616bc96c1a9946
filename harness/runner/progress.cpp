#include "progress.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "termsuite/outcome.hpp"
#ifdef _WIN32
#include <windows.h>
#else
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace termsuite::runner {

namespace {

std::size_t terminal_width() {
#ifdef _WIN32
  CONSOLE_SCREEN_BUFFER_INFO info;
  if (GetConsoleScreenBufferInfo(GetStdHandle(STD_OUTPUT_HANDLE), &info))
    return static_cast<std::size_t>(info.srWindow.Right - info.srWindow.Left + 1);
#else
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
#endif
  return 80;
}

}  // namespace

bool stdout_is_terminal() {
  if (const char* term = std::getenv("TERM"); term && std::string_view(term) == "dumb") return false;
#ifdef _WIN32
  DWORD mode = 0;
  return GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
#else
  return isatty(STDOUT_FILENO) != 0;
#endif
}

std::string progress_line(std::size_t done, std::size_t total, std::size_t failing, const std::string& longest,
                          double longest_seconds, std::size_t width) {
  std::string line = fmt::format("running: {}/{} done, {} failing", done, total, failing);
  if (!longest.empty()) line += fmt::format("; {:.0f} s in {}", longest_seconds, longest);
  if (width > 1 && line.size() > width - 1) line.resize(width - 1);
  return line;
}

StreamFollower::StreamFollower(std::vector<fs::path> streams) {
  for (auto& p : streams) {
    Shard s;
    s.path = std::move(p);
    shards_.push_back(std::move(s));
  }
}

void StreamFollower::poll(Clock::time_point now) {
  for (auto& s : shards_) {
    std::ifstream in(s.path, std::ios::binary);
    if (!in) continue;  // the suite has not created it yet
    in.seekg(static_cast<std::streamoff>(s.offset));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    s.offset += chunk.size();
    s.partial += chunk;
    std::size_t start = 0;
    for (auto nl = s.partial.find('\n'); nl != std::string::npos; nl = s.partial.find('\n', start)) {
      auto j = nlohmann::json::parse(std::string_view(s.partial).substr(start, nl - start), nullptr, false);
      start = nl + 1;
      if (!j.is_object()) continue;
      if (auto st = j.find("started"); st != j.end() && st->is_object()) {
        s.running = st->value("name", "");
        s.since = now;
      } else if (auto t = j.find("test"); t != j.end() && t->is_object()) {
        ++done_;
        auto o = parse_outcome(t->value("outcome", ""));
        if (!o || !gate_accepts(*o)) ++failing_;
        if (t->value("name", "") == s.running) s.running.clear();
      }
    }
    s.partial.erase(0, start);
  }
}

std::string StreamFollower::longest(Clock::time_point now, double& seconds) const {
  const Shard* oldest = nullptr;
  for (const auto& s : shards_)
    if (!s.running.empty() && (!oldest || s.since < oldest->since)) oldest = &s;
  if (!oldest) return {};
  seconds = std::chrono::duration<double>(now - oldest->since).count();
  return oldest->running;
}

LiveProgress::LiveProgress(std::vector<fs::path> streams, std::size_t total, bool enabled)
    : follower_(std::move(streams)), total_(total) {
  if (enabled) thread_ = std::thread([this] { loop(); });
}

LiveProgress::~LiveProgress() { stop(); }

void LiveProgress::stop() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LiveProgress::loop() {
  std::unique_lock lock(m_);
  for (;;) {
    const auto now = Clock::now();
    follower_.poll(now);
    double secs = 0;
    auto name = follower_.longest(now, secs);
    auto line = progress_line(follower_.done(), total_, follower_.failing(), name, secs, terminal_width());
    const std::size_t len = line.size();
    if (line.size() < drawn_) line.append(drawn_ - line.size(), ' ');
    std::fputc('\r', stdout);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    drawn_ = len;
    // Wait for the next redraw or for stop(), whichever comes first.
    if (cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) break;
  }
  std::fputc('\r', stdout);
  std::fputs(std::string(drawn_, ' ').c_str(), stdout);
  std::fputc('\r', stdout);
  std::fflush(stdout);
}

}  // namespace termsuite::runner
