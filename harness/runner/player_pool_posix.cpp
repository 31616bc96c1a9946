// The player pool on Linux: each player a `wine termsuite-play.exe --serve` with a pipe each way.
// A player dies with the runner (PR_SET_PDEATHSIG), and its actors with it (they are in the
// player's kill-on-close jobs, which close when the player's process does).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>

#include "player_pool.hpp"
#include "supervise.hpp"

extern char** environ;

namespace termsuite::runner {

struct PlayerPool::Player::Os {
  pid_t pid = -1;
  int to = -1, from = -1;

  // Its stdin closed, a healthy player ends by itself within 2 s; one that does not is killed.
  void stop(bool kill) {
    if (to >= 0) ::close(to), to = -1;
    if (pid > 0) {
      if (kill) ::kill(pid, SIGKILL);
      for (int i = 0; i < 100 && pid > 0; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) == pid) pid = -1;
        else ::poll(nullptr, 0, 20);
      }
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        pid = -1;
      }
    }
    if (from >= 0) ::close(from), from = -1;
  }
};

PlayerPool::Player::Player(const PlayerCommand& c, int index) : os_(std::make_unique<Os>()) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw EnvError("pipe failed");
  if (pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    throw EnvError("pipe failed");
  }
  const auto log = c.log_dir / fmt::format("player-{}.log", index);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  // Everything the child needs is made before fork (after it, only async-signal-safe calls).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    bool replaced = false;
    for (const auto& [k, v] : c.env) replaced |= kv.rfind(k + "=", 0) == 0;
    if (!replaced) env_strings.push_back(kv);
  }
  for (const auto& [k, v] : c.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = c.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string program = args.at(0);
  if (program.find('/') == std::string::npos) program = find_program(program);
  const std::string cwd = c.cwd.string();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw EnvError("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in[0], 0);
    dup2(out[1], 1);
    if (log_fd >= 0) dup2(log_fd, 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
    execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (log_fd >= 0) ::close(log_fd);
  os_->pid = pid;
  os_->to = in[1];
  os_->from = out[0];
}

PlayerPool::Player::~Player() { os_->stop(false); }

bool PlayerPool::Player::alive() const { return os_->pid > 0; }

std::optional<std::string> PlayerPool::Player::request(const std::string& line, Deadline d) {
  if (!alive()) return std::nullopt;
  const std::string msg = line + "\n";
  std::size_t off = 0;
  while (off < msg.size()) {
    const ssize_t n = ::write(os_->to, msg.data() + off, msg.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    off += static_cast<std::size_t>(n);
  }
  for (;;) {
    const auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string reply = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      if (!reply.empty() && reply.back() == '\r') reply.pop_back();
      if (reply.empty() || reply[0] != '{') continue;  // not an answer (a stray line)
      return reply;
    }
    const int ms = static_cast<int>(d.remaining_ms());
    if (ms <= 0 || interrupted()) return std::nullopt;
    pollfd p{os_->from, POLLIN, 0};
    const int r = ::poll(&p, 1, std::min(ms, 200));
    if (r <= 0) continue;  // nothing yet, or a signal
    char chunk[65536];
    const ssize_t n = ::read(os_->from, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

void PlayerPool::Player::kill_now() { os_->stop(true); }

}  // namespace termsuite::runner
