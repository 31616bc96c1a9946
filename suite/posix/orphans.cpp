// What happens to children when their parent ends, against Windows' children and jobs: a POSIX
// orphan lives on and is reparented; a child dies with its parent only if it asked to
// (PR_SET_PDEATHSIG, Linux); and a cgroup (Linux cgroup v2) can be killed whole, as a job can.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "termsuite/deadline.hpp"
#include "termsuite/posix/posix_test.hpp"

namespace termsuite::posix {
namespace {

class PosixOrphans : public PosixClaimTest {};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The parent pid in /proc/<pid>/stat, or 0.
pid_t proc_ppid(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  long ppid = 0;
  rest >> state >> ppid;
  return static_cast<pid_t>(ppid);
}

// A process the actor started (a "spawned" record), as the fixture's waiting calls take it.
PosixActor descendant(const PosixActor& parent, pid_t pid, int pidfd) { return PosixActor{pid, pidfd, parent.channel}; }

// When its parent is killed, a child is not: it lives on, and its parent becomes the nearest
// subreaper, this suite (PR_SET_CHILD_SUBREAPER), where it was the actor before.
TEST_F(PosixOrphans, OrphanLivesOnWithTheSubreaperAsItsParent) {
  claim("posix.orphan-reparented");
  auto parent = start({"ready", "spawn", "[", "ready", "wait-parent", "mark", "alive", "wait-forever", "]", "wait-forever"});
  ASSERT_TRUE(ready(parent));
  auto spawned = expect_event(parent, "spawned");
  ASSERT_TRUE(spawned);
  const auto child_pid = static_cast<pid_t>(spawned->number("child_pid").value_or(0));
  auto child_ready = expect_event(parent, "ready", kStartBudget, child_pid);
  ASSERT_TRUE(child_ready);
  EXPECT_EQ(child_ready->number("ppid").value_or(0), parent.pid) << "before: the child's parent is the actor";
  ASSERT_TRUE(expect_event(parent, "waiting", kStartBudget, child_pid));
  int child_fd = open_pidfd(child_pid);
  ASSERT_GE(child_fd, 0);

  ASSERT_TRUE(signal(parent, SIGKILL));
  auto end = ending(parent);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killed && end->status == SIGKILL) << end->describe();

  auto orphaned = expect_event(parent, "parent-ended", kExitBudget, child_pid);
  ASSERT_TRUE(orphaned) << "the child did not outlive its parent";
  EXPECT_EQ(orphaned->number("was").value_or(0), parent.pid);
  EXPECT_EQ(orphaned->number("ppid").value_or(0), ::getpid()) << "getppid() of the orphan is not the subreaper";
  EXPECT_TRUE(expect_event(parent, "mark", kExitBudget, child_pid)) << "the orphan did not go on running";
  EXPECT_TRUE(still_running(child_fd)) << "the orphan ended";
  EXPECT_EQ(proc_ppid(child_pid), ::getpid()) << "/proc does not name the subreaper as the orphan's parent";
}

// The child that set PR_SET_PDEATHSIG(SIGKILL) is killed when its parent ends; its sibling that
// did not set it lives on, sees the parent end, and goes on.
TEST_F(PosixOrphans, PdeathsigKillsOnlyTheChildThatAskedForIt) {
  claim("posix.pdeathsig");
  auto parent = start({"ready", "spawn", "[", "pdeathsig", "KILL", "ready", "wait-forever", "]", "spawn", "[", "ready",
                       "wait-parent", "mark", "alive", "wait-forever", "]", "wait-forever"});
  ASSERT_TRUE(ready(parent));
  auto spawned = parent.channel->await_n("spawned", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(spawned.size(), 2u);
  const auto tied_pid = static_cast<pid_t>(spawned[0].number("child_pid").value_or(0));
  const auto free_pid = static_cast<pid_t>(spawned[1].number("child_pid").value_or(0));
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, tied_pid));  // after its prctl
  ASSERT_TRUE(expect_event(parent, "waiting", kStartBudget, free_pid));
  auto tied = descendant(parent, tied_pid, open_pidfd(tied_pid));
  auto sibling = descendant(parent, free_pid, open_pidfd(free_pid));
  ASSERT_GE(tied.pidfd, 0);
  ASSERT_GE(sibling.pidfd, 0);

  ASSERT_TRUE(signal(parent, SIGKILL));
  ASSERT_TRUE(ending(parent));
  // The tied child is now this suite's (the subreaper's), so its ending can be read here.
  auto tied_end = ending(tied);
  ASSERT_TRUE(tied_end) << "the child that set PR_SET_PDEATHSIG outlived its parent";
  EXPECT_TRUE(tied_end->killed && tied_end->status == SIGKILL) << tied_end->describe();
  // Positive control for the difference: the sibling saw the same parent end and goes on.
  auto seen = expect_event(parent, "parent-ended", kExitBudget, free_pid);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->number("was").value_or(0), parent.pid);
  EXPECT_TRUE(expect_event(parent, "mark", kExitBudget, free_pid));
  EXPECT_TRUE(still_running(sibling.pidfd)) << "the child without PR_SET_PDEATHSIG ended with its parent";
}

// The "parent" of PR_SET_PDEATHSIG is the thread that created the child: when that thread ends,
// the child gets its signal although the parent process runs on.
TEST_F(PosixOrphans, PdeathsigFollowsTheParentThread) {
  claim("posix.pdeathsig");
  auto parent = start({"ready", "thread-spawn", "[", "pdeathsig", "KILL", "ready", "wait-forever", "]", "mark", "after",
                       "wait-forever"});
  ASSERT_TRUE(ready(parent));
  auto spawned = expect_event(parent, "spawned");
  ASSERT_TRUE(spawned);
  const auto child_pid = static_cast<pid_t>(spawned->number("child_pid").value_or(0));
  EXPECT_NE(spawned->tid, spawned->pid) << "the child was not started by a second thread";
  ASSERT_TRUE(expect_event(parent, "ready", kStartBudget, child_pid));
  auto child = descendant(parent, child_pid, open_pidfd(child_pid));
  ASSERT_GE(child.pidfd, 0);
  EXPECT_TRUE(still_running(child.pidfd)) << "the child ended before its parent thread did";

  ASSERT_TRUE(signal(parent, SIGUSR1));  // the thread that started the child returns
  ASSERT_TRUE(expect_event(parent, "thread-joined"));
  ASSERT_TRUE(ends(child.pidfd, "the child of the ended thread"));
  // The child is the actor's (reparented to its other thread), so its status is not this suite's
  // to read; the actor process itself runs on.
  EXPECT_TRUE(expect_event(parent, "mark", kExitBudget, parent.pid));
  EXPECT_TRUE(still_running(parent.pidfd)) << "the parent process ended with its thread";
}

// A cgroup of the writable cgroup v2 hierarchy made for one test, removed at its end whatever
// happened: its processes are killed (cgroup.kill) and, once cgroup.events says "populated 0",
// the directory is removed.
class ScopedCgroup {
 public:
  // The directory of this process's cgroup v2 (from /proc/self/mountinfo and /proc/self/cgroup),
  // or an empty string with `why` set.
  static std::string own_cgroup(std::string& why) {
    std::string mount;
    std::istringstream info(read_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(info, line);) {
      auto dash = line.find(" - ");
      if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
      std::istringstream f(line);
      std::string id, parent, dev, root, point;
      f >> id >> parent >> dev >> root >> point;
      if (root == "/") {
        mount = point;
        break;
      }
    }
    if (mount.empty()) {
      why = "no cgroup2 hierarchy is mounted (with its root) in this mount namespace";
      return {};
    }
    std::istringstream groups(read_file("/proc/self/cgroup"));
    for (std::string line; std::getline(groups, line);)
      if (line.rfind("0::", 0) == 0) return line == "0::/" ? mount : mount + line.substr(3);
    why = "this process has no cgroup v2 entry in /proc/self/cgroup";
    return {};
  }

  explicit ScopedCgroup(const std::string& parent)
      : path_(fmt::format("{}/termsuite-posix-{}-{}", parent, ::getpid(), counter_++)) {
    if (::mkdir(path_.c_str(), 0755) != 0) {
      error_ = fmt::format("a cgroup cannot be made under this process's own: {}", std::strerror(errno));
      path_.clear();
    }
  }
  ~ScopedCgroup() {
    if (path_.empty()) return;
    kill();
    wait_unpopulated(Deadline::in(milliseconds(10'000)));
    if (::rmdir(path_.c_str()) != 0)
      ADD_FAILURE() << "the cgroup " << path_ << " could not be removed: " << std::strerror(errno);
  }
  ScopedCgroup(const ScopedCgroup&) = delete;
  ScopedCgroup& operator=(const ScopedCgroup&) = delete;

  bool made() const { return !path_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

  bool has_kill() const {
    struct stat st {};
    return ::stat((path_ + "/cgroup.kill").c_str(), &st) == 0;
  }
  std::set<pid_t> procs() const {
    std::set<pid_t> out;
    std::istringstream in(read_file(path_ + "/cgroup.procs"));
    for (long p; in >> p;) out.insert(static_cast<pid_t>(p));
    return out;
  }
  bool populated() const { return read_file(path_ + "/cgroup.events").find("populated 1") != std::string::npos; }
  // Writes "1" to cgroup.kill; the error number if that fails, 0 if not.
  int kill() const {
    int fd = ::open((path_ + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int e = ::write(fd, "1", 1) == 1 ? 0 : errno;
    ::close(fd);
    return e;
  }
  // Waits until cgroup.events says "populated 0" (poll(2) reports each change of the file as
  // POLLPRI); false if the deadline passes first.
  bool wait_unpopulated(Deadline d) const {
    int fd = ::open((path_ + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool empty = false;
    for (;;) {
      char buf[256];
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);  // reading arms the next notification
      if (n < 0) break;
      buf[n] = 0;
      if (std::strstr(buf, "populated 0")) {
        empty = true;
        break;
      }
      pollfd p{fd, POLLPRI, 0};
      int r = ::poll(&p, 1, static_cast<int>(d.remaining_ms()));
      if (r == 0) break;
      if (r < 0 && errno != EINTR) break;
    }
    ::close(fd);
    return empty;
  }

 private:
  static inline int counter_ = 0;
  std::string path_;
  std::string error_;
};

// Writing "1" to cgroup.kill kills every process of the cgroup with SIGKILL (two actors that
// moved in, and the child one of them started there); an actor outside the cgroup runs on.
TEST_F(PosixOrphans, CgroupKillEndsEveryProcessOfTheCgroup) {
  claim("posix.cgroup-kill");
  std::string why;
  auto own = ScopedCgroup::own_cgroup(why);
  if (own.empty()) {
    skip(why);
    return;
  }
  ScopedCgroup group(own);
  if (!group.made()) {
    skip("no writable cgroup v2 directory (" + group.error() + ")");
    return;
  }
  if (!group.has_kill()) {
    skip("this kernel's cgroup v2 has no cgroup.kill (Linux 5.14)");
    return;
  }

  auto first = start({"join-cgroup", group.path(), "ready", "spawn", "[", "ready", "wait-forever", "]", "wait-forever"});
  auto second = start({"join-cgroup", group.path(), "ready", "wait-forever"});
  auto outside = start({"ready", "wait-forever"});
  // A cgroup that can be made but not joined (delegation without write access to the common
  // ancestor's cgroup.procs) is a configuration that cannot run this, not a deviation.
  if (!await_event(first, "joined", kStartBudget)) {
    if (auto refused = records(first, "error"); !refused.empty()) {
      skip(fmt::format("a process cannot be moved into a new cgroup here: {}",
                       std::strerror(static_cast<int>(refused.front().number("errno").value_or(0)))));
      return;
    }
  }
  ASSERT_TRUE(ready(first));
  ASSERT_TRUE(ready(second));
  ASSERT_TRUE(ready(outside));
  auto spawned = expect_event(first, "spawned");
  ASSERT_TRUE(spawned);
  const auto child_pid = static_cast<pid_t>(spawned->number("child_pid").value_or(0));
  ASSERT_TRUE(expect_event(first, "ready", kStartBudget, child_pid));
  auto child = descendant(first, child_pid, open_pidfd(child_pid));
  ASSERT_GE(child.pidfd, 0);
  EXPECT_EQ(group.procs(), (std::set<pid_t>{first.pid, second.pid, child_pid})) << "the cgroup's processes";

  ASSERT_EQ(group.kill(), 0) << "write 1 to cgroup.kill";
  auto first_end = ending(first);
  auto second_end = ending(second);
  ASSERT_TRUE(first_end && second_end);
  EXPECT_TRUE(first_end->killed && first_end->status == SIGKILL) << first_end->describe();
  EXPECT_TRUE(second_end->killed && second_end->status == SIGKILL) << second_end->describe();
  // The child is this suite's once its parent has ended (the suite is the subreaper).
  auto child_end = ending(child);
  ASSERT_TRUE(child_end);
  EXPECT_TRUE(child_end->killed && child_end->status == SIGKILL) << child_end->describe();
  EXPECT_TRUE(group.wait_unpopulated(Deadline::in(kExitBudget))) << "cgroup.events never said populated 0";
  // The same time, the same kill: the actor outside the cgroup was not touched.
  EXPECT_TRUE(still_running(outside.pidfd)) << "an actor outside the cgroup ended";
  ASSERT_TRUE(signal(outside, SIGTERM));
  auto outside_end = ending(outside);
  ASSERT_TRUE(outside_end);
  EXPECT_TRUE(outside_end->killed && outside_end->status == SIGTERM)
      << "the actor outside the cgroup did not live to be ended by SIGTERM: " << outside_end->describe();
}

}  // namespace
}  // namespace termsuite::posix
