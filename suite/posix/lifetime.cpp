// What is left of a process that has ended, against Windows' process objects: a POSIX child that
// has ended stays a zombie, holding its status and its process ID, until its parent waits for it;
// a pidfd (Linux) is the waitable handle that becomes readable when the process ends.
#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <sys/stat.h>

#include "termsuite/posix/posix_test.hpp"

namespace termsuite::posix {
namespace {

class PosixLifetime : public PosixClaimTest {};

// The state letter of /proc/<pid>/stat ('Z' for a zombie), or nullopt once the entry is gone.
std::optional<char> proc_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return std::nullopt;
  return stat[close + 2];
}

bool proc_entry_exists(pid_t pid) {
  struct stat st {};
  return ::stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0;
}

// waitid(P_PID, WEXITED | WNOWAIT): the status of an ended child, leaving it a zombie.
std::optional<siginfo_t> peek_status(pid_t pid) {
  siginfo_t info{};
  int r;
  while ((r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r != 0 || info.si_pid != pid) return std::nullopt;
  return info;
}

// The system call glibc's poll(3) makes: poll where the architecture has it, ppoll elsewhere (arm64).
#ifdef SYS_poll
constexpr long kPollCall = SYS_poll;
#else
constexpr long kPollCall = SYS_ppoll;
#endif

// clone3(2) with set_tid: a child with exactly the process ID `pid`, which ends at once with
// status 0 if getpid() agrees (1 if not). Returns the child's pid, or -1 with errno set.
pid_t clone_with_pid(pid_t pid) {
  pid_t want[1] = {pid};
  clone_args args{};
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<std::uint64_t>(want);
  args.set_tid_size = 1;
  long r = ::syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) ::_exit(::syscall(SYS_getpid) == want[0] ? 0 : 1);  // the child
  return static_cast<pid_t>(r);
}

// A child that has ended is a zombie while its parent (this suite) has not waited: /proc shows
// it in state Z, kill(2) still finds it (and changes nothing), and waitid with WNOWAIT reads its
// status as often as asked. The wait that takes the status ends its lifetime: kill(2) then fails
// with ESRCH and /proc has no entry for it.
TEST_F(PosixLifetime, EndedChildStaysAZombieUntilItsParentWaits) {
  claim("posix.zombie-until-waited");
  auto a = start({"ready", "_exit", "7"});
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(ends(a.pidfd, "the actor"));

  EXPECT_EQ(proc_state(a.pid), std::optional<char>('Z')) << "an ended, unwaited child is not a zombie";
  EXPECT_EQ(::kill(a.pid, 0), 0) << "kill(zombie, 0): " << std::strerror(errno);
  EXPECT_EQ(::kill(a.pid, SIGKILL), 0) << "kill(zombie, SIGKILL): " << std::strerror(errno);
  for (int i = 0; i < 3; ++i) {
    auto peek = peek_status(a.pid);
    ASSERT_TRUE(peek) << "waitid(WNOWAIT) #" << i + 1 << " found no ended child " << a.pid;
    EXPECT_EQ(peek->si_code, CLD_EXITED) << "read #" << i + 1;
    EXPECT_EQ(peek->si_status, 7) << "read #" << i + 1 << " (a signal sent to the zombie changes nothing)";
  }
  EXPECT_EQ(proc_state(a.pid), std::optional<char>('Z')) << "reading the status with WNOWAIT released the zombie";

  auto end = ending(a);  // waitid(P_PIDFD, WEXITED): the parent's wait
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->exited && end->status == 7) << end->describe();
  // Through its pidfd, which no later process can take over: the process is gone.
  errno = 0;
  EXPECT_EQ(::syscall(SYS_pidfd_send_signal, a.pidfd, 0, nullptr, 0), -1) << "the waited-for child is still there";
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(proc_entry_exists(a.pid)) << "/proc/" << a.pid << " remains after the wait";
  EXPECT_FALSE(peek_status(a.pid)) << "its status could be read a second time after the wait";
}

// While a zombie is there its process ID still names it: pidfd_open(2) of that ID gives a pidfd
// of the zombie (readable: it has ended), through which waitid reads the zombie's own status.
TEST_F(PosixLifetime, APidfdOpenedByTheZombiesPidRefersToIt) {
  claim("posix.zombie-pid-not-reused");
  auto a = start({"ready", "_exit", "5"});
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(ends(a.pidfd, "the actor"));
  ASSERT_EQ(proc_state(a.pid), std::optional<char>('Z'));

  int zombie_fd = open_pidfd(a.pid);  // pidfd_open of a zombie
  ASSERT_GE(zombie_fd, 0);
  EXPECT_FALSE(still_running(zombie_fd)) << "a pidfd opened on a zombie is not readable";
  siginfo_t info{};
  EXPECT_EQ(::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(zombie_fd), &info, WEXITED | WNOWAIT), 0)
      << std::strerror(errno);
  EXPECT_EQ(info.si_pid, a.pid) << "the pidfd opened on the zombie refers to another process";
  EXPECT_EQ(info.si_status, 5);
}

// A zombie keeps its process ID: clone3 asking for exactly that ID (set_tid) fails with EEXIST
// while the zombie is there; once the parent has waited, the same clone3 succeeds and the new
// child has that ID.
TEST_F(PosixLifetime, ZombieKeepsItsPidUntilWaited) {
  claim("posix.zombie-pid-not-reused");
  auto a = start({"ready", "_exit", "5"});
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(ends(a.pidfd, "the actor"));
  ASSERT_EQ(proc_state(a.pid), std::optional<char>('Z'));

  errno = 0;
  pid_t taken = clone_with_pid(a.pid);
  const int taken_errno = errno;
  if (taken < 0 && (taken_errno == EPERM || taken_errno == ENOSYS || taken_errno == E2BIG)) {
    skip(std::string("clone3 with set_tid is not available here (needs CAP_SYS_ADMIN in the user namespace that owns "
                     "the PID namespace, Linux 5.5): ") + std::strerror(taken_errno));
    return;
  }
  EXPECT_EQ(taken, -1) << "a new process got the zombie's pid " << a.pid;
  EXPECT_EQ(taken_errno, EEXIST) << std::strerror(taken_errno);
  if (taken > 0) ::waitpid(taken, nullptr, 0);

  auto end = ending(a);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->exited && end->status == 5) << end->describe();

  // Positive control: once waited for, the ID is free again and the same request gets it.
  errno = 0;
  pid_t again = clone_with_pid(a.pid);
  ASSERT_EQ(again, a.pid) << "clone3(set_tid=" << a.pid << ") after the wait: " << std::strerror(errno);
  int status = 0;
  ASSERT_EQ(::waitpid(again, &status, 0), again);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child made with set_tid has another pid";
}

// A pidfd is not readable while its process runs and becomes readable when it ends, before it is
// waited for: two processes polling it at that moment both wake, and a poller that comes later
// finds it readable at once, as does the suite's own poll of its pidfd.
TEST_F(PosixLifetime, PidfdBecomesReadableForEveryPollerWhenTheProcessEnds) {
  claim("posix.pidfd-readable");
  auto target = start({"ready", "wait-forever"});
  ASSERT_TRUE(ready(target));
  const auto pid = std::to_string(target.pid);
  auto w1 = start({"watch", pid});
  auto w2 = start({"watch", pid});
  ASSERT_TRUE(expect_event(w1, "watching"));
  ASSERT_TRUE(expect_event(w2, "watching"));
  // "watching" is written before the poll begins: wait until both are inside it, so the end of the
  // process is what wakes them (not a readable pidfd found by a poll that began late).
  if (!blocked_in(w1.pid, w1.pid, kPollCall)) return;  // the first watcher never got to its poll
  if (!blocked_in(w2.pid, w2.pid, kPollCall)) return;  // the second watcher never got to its poll
  EXPECT_TRUE(still_running(target.pidfd)) << "the pidfd of a running process is readable";
  EXPECT_TRUE(records(w1, "watched-ended").empty() && records(w2, "watched-ended").empty())
      << "a watcher woke while the process ran";

  ASSERT_TRUE(signal(target, SIGKILL));
  EXPECT_TRUE(expect_event(w1, "watched-ended")) << "the first poller did not wake";
  EXPECT_TRUE(expect_event(w2, "watched-ended")) << "the second poller did not wake";
  EXPECT_FALSE(still_running(target.pidfd)) << "the same poll does not see the ended process (positive control)";
  EXPECT_EQ(proc_state(target.pid), std::optional<char>('Z')) << "it was readable only after the process was reaped";

  auto later = start({"watch", pid});
  EXPECT_TRUE(expect_event(later, "watched-ended")) << "a later poller did not find the pidfd readable";
  EXPECT_FALSE(still_running(target.pidfd)) << "the pidfd did not stay readable";

  auto end = ending(target);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killed && end->status == SIGKILL) << end->describe();
  // After the wait: what the pidfd says is the kernel's business (newer kernels add POLLHUP).
  pollfd p{target.pidfd, POLLIN, 0};
  std::string after = ::poll(&p, 1, 0) == 1 ? "" : "not readable";
  if (p.revents & POLLIN) after += "POLLIN";
  if (p.revents & POLLHUP) after += after.empty() ? "POLLHUP" : "|POLLHUP";
  observe("pidfd-poll-after-reap", after);
}

}  // namespace
}  // namespace termsuite::posix
