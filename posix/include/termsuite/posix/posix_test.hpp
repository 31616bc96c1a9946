#pragma once
// The fixture of the POSIX suite (suite/posix/): the same questions the Windows suite asks, asked of
// the system this suite was built for, natively, with the POSIX actor (posix/actor/).
//
// Judging is the Windows suite's (judged_test.hpp): a test names one claim, its failures are held
// back and judged against the platform's expectations, timeouts are results.
//
// An actor is termsuite-posix-actor, started (fork and exec, through Boost.Process) with verbs
// (docs/actors.md, "The POSIX actor"). It writes one record per event to its report channel, a
// pipe this fixture reads: one line of JSON written with one write(2) before its next step, so
// the record survives a SIGKILL that follows. Every descendant of the actor inherits the channel.
// Each actor is tied to the suite (PR_SET_PDEATHSIG: SIGKILL when the suite dies) and ends itself
// after kActorLifetimeSeconds (protocol.hpp) whatever happens (alarm(2), which survives exec), so a suite killed
// outright leaves nothing running for good.
//
// The suite process is a child subreaper (PR_SET_CHILD_SUBREAPER): orphans of its actors become
// its children, so at the end of each test every process the test started is found (a scan of
// /proc for the suite's children), killed and reaped.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/deadline.hpp"
#include "termsuite/judged_test.hpp"
#include "termsuite/report.hpp"

namespace termsuite::posix {

// How a process ended, as waitid(2) tells it.
struct Ending {
  bool exited = false;  // CLD_EXITED: `status` is the exit status (8 bits)
  bool killed = false;  // CLD_KILLED or CLD_DUMPED: `status` is the signal
  int status = 0;
  std::string describe() const;  // "exit status 3", "killed by SIGKILL"
};

// A report channel: the read end of a pipe, read as records arrive.
class Channel {
 public:
  Channel(int read_fd) : fd_(read_fd) {}
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  // The first record named `ev` (from process `pid` if non-zero), waiting until the deadline.
  std::optional<Event> await(std::string_view ev, Deadline d, pid_t pid = 0);
  // The first `count` records named `ev`, or fewer if the deadline passes first.
  std::vector<Event> await_n(std::string_view ev, std::size_t count, Deadline d);
  // Reads until every writer is gone (end of file): true if that happened by the deadline.
  bool drain(Deadline d);
  const std::vector<Event>& events() const { return events_; }

 private:
  bool read_some(Deadline d);  // false: deadline or end of file
  int fd_;
  bool eof_ = false;
  RecordSplitter splitter_;
  std::vector<Event> events_;
};

struct PosixActor {
  pid_t pid = 0;
  int pidfd = -1;                    // owned by the fixture; closed at the end of the test
  std::shared_ptr<Channel> channel;  // shared by every descendant of the actor
};

struct ActorOptions {
  std::vector<std::string> verbs;
  bool new_group = false;    // setpgid(0, 0) before exec: a process group of its own
  bool new_session = false;  // setsid() before exec: a session (and group) of its own, no terminal
  bool tied = true;          // PR_SET_PDEATHSIG(SIGKILL): dies with the suite's thread
  std::vector<int> pass_fds; // descriptors the actor inherits, at the same numbers
};

class PosixClaimTest : public JudgedTest {
 protected:
  void SetUp() override;
  std::vector<std::string> reap_actors() override;

  PosixActor start(std::vector<std::string> verbs);
  PosixActor start(ActorOptions options);

  // Waits for the record `ev` (from `pid` if non-zero); notes a timeout if it does not come.
  std::optional<Event> expect_event(const PosixActor& a, std::string_view ev, milliseconds budget = kStartBudget,
                                    pid_t pid = 0);
  bool ready(const PosixActor& a) { return expect_event(a, "ready").has_value(); }
  // Waits without judging: for a record that may rightly never come.
  std::optional<Event> await_event(const PosixActor& a, std::string_view ev, milliseconds budget, pid_t pid = 0);
  // The records named `ev` (from `pid` if non-zero) received so far.
  std::vector<Event> records(const PosixActor& a, std::string_view ev, pid_t pid = 0);
  // Waits until every writer of the actor's channel is gone, so a record that is not there was
  // never written. Notes a timeout if that does not happen.
  bool drained(const PosixActor& a, milliseconds budget = kExitBudget);

  // A pidfd for `pid` (pidfd_open), closed at the end of the test; -1 with a failure reported.
  int open_pidfd(pid_t pid);
  // Waits for the process to end (its pidfd readable); notes a timeout if it does not.
  bool ends(int pidfd, std::string_view what, milliseconds budget = kExitBudget);
  // True if the process is still running after watching it for `watch` (0: just look).
  bool still_running(int pidfd, milliseconds watch = milliseconds(0));
  // How the actor (a child of this process) ended, once it has: waitid(P_PIDFD) with WEXITED,
  // which reaps it unless `keep` (WNOWAIT). Notes a timeout if it does not end within `budget`.
  std::optional<Ending> ending(const PosixActor& a, milliseconds budget = kExitBudget, bool keep = false);
  // Waits until thread `tid` of process `pid` is blocked in system call `nr` (SYS_read, ...), with
  // `arg0` as its first argument when given, as /proc/<pid>/task/<tid>/syscall shows it ("running"
  // while it runs; the call's number and arguments while it is blocked: proc(5),
  // https://man7.org/linux/man-pages/man5/proc.5.html). A record written just before a blocking
  // call does not say the call has begun, and a signal sent in between is handled before it; this
  // does. Nothing signals that state, so it is probed: every millisecond, pausing on a pidfd of the
  // process, until `budget` passes (a timeout is noted then); a process that ends first is a failure.
  // Where the file cannot be read (ptrace access refused: Yama's ptrace_scope 2, a container
  // without it), the test is skipped, saying so. False in all three cases: the caller returns.
  bool blocked_in(pid_t pid, pid_t tid, long nr, std::optional<long> arg0 = std::nullopt,
                  milliseconds budget = kStartBudget);
  // Sends `sig` through the actor's pidfd (pidfd_send_signal); false with a failure reported.
  bool signal(const PosixActor& a, int sig);

 private:
  std::vector<int> pidfds_;
};

// "TERM" for SIGTERM (the verbs' and records' spelling); the number for an unknown signal.
std::string signal_name(int sig);
// SIGTERM for "TERM" (or "SIGTERM", or a number); nullopt if unknown.
std::optional<int> signal_number(std::string_view name);

// The actor's path: next to the suite binary (termsuite-posix-actor).
std::string actor_path();

}  // namespace termsuite::posix
