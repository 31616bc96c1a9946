// Pending I/O at termination (Raymond Chen, "Why do some process stay in Task Manager after
// they've been killed?") and the shutdown parameters ("Terminating a Process": "Use the
// SetProcessShutdownParameters function to specify certain aspects of the process termination
// at system shutdown").
#include <fmt/format.h>

#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Io : public ClaimTest {};
class Shutdown : public ClaimTest {};

// What this shows: a process whose threads are blocked in reads (one synchronous, one overlapped)
// still ends when it is terminated, and so do those threads; the pipe's other end then sees it
// broken. What it cannot show from outside: that the reads were cancelled rather than abandoned
// with the handle. A thread's end follows from its process's end (the process object is signaled
// only after its last thread has gone), and the broken pipe follows from the handle being closed.
// A driver that holds a dying thread hostage is shown by the simulator only.
TEST_F(Io, PendingReadsAreReleasedByTermination) {
  claim("io.pending-cancelled");
  auto sync_pipe = sys().create_pipe("sync", System::PipeUse::harness_writes);
  auto async_pipe = sys().create_pipe("async", System::PipeUse::harness_writes);
  auto a = start({"thread", "[", "read-pipe", sync_pipe.name, "]", "thread", "[", "read-pipe-overlapped",
                  async_pipe.name, "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto reading = sys().await_n(a, "reading", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(reading.size(), 2u) << "both readers must be blocked in their reads";
  std::vector<Handle> readers;
  for (const auto& e : reading) {
    auto t = sys().open_thread(e.tid);
    ASSERT_TRUE(t.handle);
    readers.push_back(t.handle);
  }
  ASSERT_TRUE(sys().terminate(a.process, 2));
  ASSERT_TRUE(ends(a.process, "the process with pending reads"));
  for (auto t : readers) EXPECT_TRUE(ends(t, "a thread that was blocked in a read"));
  // The peer sees the pipe broken.
  for (auto h : {sync_pipe.handle, async_pipe.handle}) {
    auto w = sys().write_pipe(h);
    EXPECT_EQ(static_cast<int>(w.io), static_cast<int>(System::PipeIo::broken))
        << "WriteFile to the dead reader's pipe: error " << w.error << " (expected ERROR_NO_DATA or ERROR_BROKEN_PIPE)";
  }
}

TEST_F(Shutdown, ParametersRoundTrip) {
  claim("shutdown.parameters");
  auto initial = sys().shutdown_parameters();
  ASSERT_TRUE(initial);
  observe("default", fmt::format("level {:#x} flags {:#x}", initial->level, initial->flags));
  EXPECT_EQ(hex(initial->level), hex(0x280)) << "all processes start at shutdown level 0x280";
  for (auto [level, flags] : {std::pair{0x100u, 0u}, std::pair{0x3FFu, 1u /* SHUTDOWN_NORETRY */}, std::pair{0x4FFu, 0u}}) {
    EXPECT_EQ(sys().set_shutdown_parameters(level, flags), 0u) << "level " << hex(level);
    auto now = sys().shutdown_parameters();
    ASSERT_TRUE(now);
    EXPECT_EQ(hex(now->level), hex(level));
    EXPECT_EQ(hex(now->flags), hex(flags));
  }
  // The parameters are the harness process's own: put them back, so that a test after this one
  // in the same process (a repeated or shuffled run) starts from the default too.
  EXPECT_EQ(sys().set_shutdown_parameters(initial->level, initial->flags), 0u);
}

// The documented levels run from 0x000 to 0x4FF (0x100-0x3FF for applications); the
// documentation names no error for a level outside that range, and ReactOS's CSRSS stores any
// level. What a platform does is recorded per level, not asserted: whether it accepts the level,
// and what it then reads back. What is asserted holds either way: a call that fails leaves the
// parameters as they were. The harness's own level is put back to the default afterwards.
TEST_F(Shutdown, OutOfRangeLevelsAreRecorded) {
  claim("shutdown.parameters");
  for (std::uint32_t level : {0x600u, 0xFFFFu, 0xFFFFFFFFu}) {
    ASSERT_EQ(sys().set_shutdown_parameters(0x280, 0), 0u);
    const std::uint32_t error = sys().set_shutdown_parameters(level, 0);
    auto now = sys().shutdown_parameters();
    ASSERT_TRUE(now);
    observe(fmt::format("level-{:#x}", level),
            error == 0 ? fmt::format("accepted, reads back {:#x}", now->level) : fmt::format("error {}", error));
    if (error != 0) {
      EXPECT_EQ(hex(now->level), hex(0x280)) << "a call that failed changed the level to " << hex(now->level);
    }
  }
  EXPECT_EQ(sys().set_shutdown_parameters(0x280, 0), 0u) << "the default level could not be restored";
}

}  // namespace
}  // namespace termsuite
