#pragma once
// A fixture for the signal and exit-status tests: the wait status as waitpid(2) gives it, and a
// wait until an actor's thread is asleep inside its read(2), before a signal is sent to interrupt
// it.
//
// A signal interrupts a blocking call only if it comes while the thread is inside it; one that
// comes just before (between the actor's "reading" record and its read(2)) runs the handler
// first, and the read then blocks as if nothing had happened. The kernel announces nothing when a
// thread goes to sleep, so asleep_in_read looks at /proc/<pid>/task/<tid>/syscall until it shows
// the thread stopped inside read(2) on the reported descriptor, under a deadline. That file says
// "running" while the thread runs, and gives the call's number and arguments only while it is
// not running ("/proc/pid/syscall", proc(5), https://man7.org/linux/man-pages/man5/proc.5.html).
// Once the thread is inside the read, a signal that comes ends or restarts the call: a pipe's
// read looks for a pending signal before it sleeps and whenever it wakes.
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "termsuite/posix/posix_test.hpp"

namespace termsuite::posix {

// True if thread `tid` of process `pid` is stopped inside system call `nr` with first argument
// `arg0`; false while it runs, is outside any call, or has ended.
inline bool asleep_in_call(std::uint32_t pid, std::uint32_t tid, long nr, long arg0) {
  std::ifstream in(fmt::format("/proc/{}/task/{}/syscall", pid, tid));
  std::string line;
  if (!std::getline(in, line)) return false;
  std::istringstream fields(line);
  long number = -1;
  std::string first;
  if (!(fields >> number >> first)) return false;  // "running"
  return number == nr && std::stol(first, nullptr, 0) == arg0;
}

class PosixWaitTest : public PosixClaimTest {
 protected:
  // Waits until the thread that wrote `reading` (a record with the descriptor it reads, "fd") is
  // asleep in read(2) on it: true. False, with a timeout noted, if that does not happen within
  // `budget`; false at once if that thread reports "read-returned" after `reading` (the read
  // ended, so there is no read to be asleep in).
  bool asleep_in_read(const PosixActor& a, const Event& reading, milliseconds budget = kStartBudget) {
    const long fd = static_cast<long>(reading.number("fd").value_or(0));
    const auto d = Deadline::in(budget);
    for (;;) {
      if (asleep_in_call(reading.pid, reading.tid, SYS_read, fd)) return true;
      for (const auto& r : records(a, "read-returned", static_cast<pid_t>(reading.pid)))
        if (r.tid == reading.tid && r.seq > reading.seq) return false;
      if (d.passed()) break;
      ::sched_yield();
    }
    note_timeout(fmt::format("thread {} was not seen asleep in read({}) within {} ms", reading.tid, fd,
                             budget.count()));
    return false;
  }

  // The wait status of the actor (a child of this process) once it has ended, as waitpid(2)
  // gives it (which reaps it). Notes a timeout if it does not end within `budget`.
  std::optional<int> wait_status(const PosixActor& a, milliseconds budget = kExitBudget) {
    if (a.pidfd < 0 || !ends(a.pidfd, fmt::format("actor {}", a.pid), budget)) return std::nullopt;
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(a.pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r != a.pid) {
      ADD_FAILURE() << "waitpid(" << a.pid << ") returned " << r << ": " << std::strerror(errno);
      return std::nullopt;
    }
    return status;
  }
};

}  // namespace termsuite::posix
