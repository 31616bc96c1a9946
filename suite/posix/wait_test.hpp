#pragma once
// A fixture for the signal and exit-status tests: the wait status as waitpid(2) gives it, and a
// wait until an actor's thread is asleep inside its read(2), before a signal is sent to interrupt
// it (a signal that comes between the actor's "reading" record and its read(2) runs the handler
// first, and the read then blocks as if nothing had happened: PosixClaimTest::blocked_in).
#include <errno.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <string>

#include "termsuite/posix/posix_test.hpp"

namespace termsuite::posix {

class PosixWaitTest : public PosixClaimTest {
 protected:
  // Waits until the thread that wrote `reading` (a record with the descriptor it reads, "fd") is
  // asleep in read(2) on it; notes a timeout if that does not happen within `budget`.
  bool asleep_in_read(const PosixActor&, const Event& reading, milliseconds budget = kStartBudget) {
    return blocked_in(static_cast<pid_t>(reading.pid), static_cast<pid_t>(reading.tid), SYS_read,
                      static_cast<long>(reading.number("fd").value_or(0)), budget);
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
