// The player pool on Windows: each player a `termsuite-play.exe --serve` with a pipe each way, in
// a kill-on-close job of this process's, so the players (and, through their own jobs, their
// actors) end when termsuite.exe ends, however it ends.
#include <windows.h>

#include <fmt/format.h>

#include "player_pool.hpp"
#include "supervise.hpp"
#include "termsuite/win32.hpp"

namespace termsuite::runner {

namespace {

HANDLE players_job() {
  static HANDLE job = [] {
    HANDLE j = CreateJobObjectW(nullptr, nullptr);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION info{};
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (j) SetInformationJobObject(j, JobObjectExtendedLimitInformation, &info, sizeof info);
    return j;
  }();
  return job;
}

}  // namespace

struct PlayerPool::Player::Os {
  HANDLE process = nullptr, to = nullptr, from = nullptr;
  void stop(bool kill) {
    if (to) CloseHandle(to), to = nullptr;
    if (process) {
      if (kill || WaitForSingleObject(process, 2000) != WAIT_OBJECT_0) {
        TerminateProcess(process, 1);
        WaitForSingleObject(process, 5000);
      }
      CloseHandle(process);
      process = nullptr;
    }
    if (from) CloseHandle(from), from = nullptr;
  }
};

PlayerPool::Player::Player(const PlayerCommand& c, int index) : os_(std::make_unique<Os>()) {
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  HANDLE in_read = nullptr, in_write = nullptr, out_read = nullptr, out_write = nullptr;
  if (!CreatePipe(&in_read, &in_write, &inherit, 0) || !CreatePipe(&out_read, &out_write, &inherit, 0))
    throw EnvError(fmt::format("CreatePipe failed: error {}", GetLastError()));
  SetHandleInformation(in_write, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
  auto log = c.log_dir / fmt::format("player-{}.log", index);
  HANDLE log_file = CreateFileW(log.wstring().c_str(), FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                                OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  win32::Launch launch;
  launch.exe = win32::widen(c.argv[0]);
  for (const auto& a : c.argv) win32::append_quoted(launch.command_line, win32::widen(a));
  launch.use_std_handles = true;
  launch.std_in = in_read;
  launch.std_out = out_write;
  launch.std_err = log_file != INVALID_HANDLE_VALUE ? log_file : nullptr;
  launch.inherit = {in_read, out_write};
  if (launch.std_err) launch.inherit.push_back(launch.std_err);
  PROCESS_INFORMATION pi{};
  const char* what = nullptr;
  const bool ok = win32::create_process_in_job(launch, players_job(), &pi, &what);
  const DWORD error = GetLastError();
  CloseHandle(in_read);
  CloseHandle(out_write);
  if (log_file != INVALID_HANDLE_VALUE) CloseHandle(log_file);
  if (!ok) {
    CloseHandle(in_write);
    CloseHandle(out_read);
    throw EnvError(fmt::format("{} of {} failed: error {}", what ? what : "CreateProcess", c.argv[0], error));
  }
  CloseHandle(pi.hThread);
  os_->process = pi.hProcess;
  os_->to = in_write;
  os_->from = out_read;
}

PlayerPool::Player::~Player() { os_->stop(false); }

bool PlayerPool::Player::alive() const { return os_->process != nullptr; }

std::optional<std::string> PlayerPool::Player::request(const std::string& line, Deadline d) {
  if (!alive()) return std::nullopt;
  std::string msg = line + "\n";
  DWORD written = 0;
  if (!WriteFile(os_->to, msg.data(), static_cast<DWORD>(msg.size()), &written, nullptr) || written != msg.size())
    return std::nullopt;
  for (;;) {
    auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string reply = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      if (!reply.empty() && reply.back() == '\r') reply.pop_back();
      if (reply.empty() || reply[0] != '{') continue;
      return reply;
    }
    // An anonymous pipe cannot be waited on: look, then wait on the player a little (its end
    // also ends the wait), until the deadline.
    DWORD avail = 0;
    if (!PeekNamedPipe(os_->from, nullptr, 0, nullptr, &avail, nullptr)) return std::nullopt;
    if (avail == 0) {
      if (d.remaining_ms() == 0 || interrupted()) return std::nullopt;
      if (WaitForSingleObject(os_->process, std::min<DWORD>(d.remaining_ms(), 5)) == WAIT_OBJECT_0) {
        if (!PeekNamedPipe(os_->from, nullptr, 0, nullptr, &avail, nullptr) || avail == 0) return std::nullopt;
      } else {
        continue;
      }
    }
    char chunk[65536];
    DWORD got = 0;
    if (!ReadFile(os_->from, chunk, std::min<DWORD>(avail, sizeof chunk), &got, nullptr) || got == 0) return std::nullopt;
    buf_.append(chunk, got);
  }
}

void PlayerPool::Player::kill_now() { os_->stop(true); }

}  // namespace termsuite::runner
