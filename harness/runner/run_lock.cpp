#include "run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "supervise.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

// This process's command line, its arguments separated by spaces.
std::string own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto text = ss.str();
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text)
    if (c == '\0' || c == '\n') c = ' ';
  return text;
}

}  // namespace

RunLock::RunLock(const fs::path& build_dir) {
  std::error_code ec;
  fs::create_directories(build_dir, ec);
  const auto file = file_of(build_dir);
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw EnvError(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  int rc;
  while ((rc = ::flock(fd_, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
  }
  if (rc != 0) {
    const int err = errno;
    std::string holder;
    char buf[4096];
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n > 0) holder.assign(buf, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw EnvError(fmt::format("cannot lock {}: {}", file.string(), std::strerror(err)));
    throw EnvError(fmt::format("{} is in use by another run ({}); wait for it to end",
                               build_dir.string(), holder.empty() ? "it has not named itself yet" : holder));
  }
  // Name the holder: "pid N: command line".
  const auto me = fmt::format("pid {}: {}\n", ::getpid(), own_command_line());
  // Should this fail, the lock holds all the same; only the name of the holder is missing.
  [[maybe_unused]] bool named =
      ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, me.data(), me.size(), 0) == static_cast<ssize_t>(me.size());
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace termsuite::runner
