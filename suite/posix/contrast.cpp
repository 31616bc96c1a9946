// The founding contrast: where Windows has no general way to ask a process to stop (a private
// window message is one convention among several), a Unix-like program's SIGTERM handler sets a
// "stop" flag, the blocking call its event loop waits in fails with EINTR, and the loop, not the
// handler, acts on the flag and ends cleanly ("Remote Process Termination", an article on
// taskkill and Unix signals; and POSIX read(), [EINTR]:
// https://pubs.opengroup.org/onlinepubs/9699919799/functions/read.html).
#include <signal.h>

#include "wait_test.hpp"

namespace termsuite::posix {
namespace {

class PosixContrast : public PosixWaitTest {};

// The actor's event loop (verb event-loop) blocks in read(2). A signal whose handler sets no flag
// (SIGUSR1) interrupts the read, and the loop, finding no stop flag, reads again: it decides by the
// flag, not by the interruption. SIGTERM's handler sets the flag and does nothing else; the read
// fails with EINTR, the loop sees the flag, reports that it stops, runs its cleanup, and the
// process exits with status 0.
TEST_F(PosixContrast, TermSetsAStopFlagTheEventLoopActsOn) {
  claim("posix.contrast");
  auto a = start({"event-loop"});
  auto reading = expect_event(a, "reading");
  ASSERT_TRUE(reading);
  if (!asleep_in_read(a, *reading)) return;

  // A signal that asks nothing: the loop goes back to its read.
  ASSERT_TRUE(signal(a, SIGUSR1));
  auto woken = expect_event(a, "read-returned");
  ASSERT_TRUE(woken);
  EXPECT_EQ(woken->fields.value("result", 0), -1);
  EXPECT_EQ(woken->fields.value("errno", 0), EINTR);
  EXPECT_EQ(woken->fields.value("stop", -1), 0);
  auto again = a.channel->await_n("reading", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(again.size(), 2u) << "the loop did not go back to its read after a signal that set no flag";
  if (!asleep_in_read(a, again[1])) return;
  EXPECT_TRUE(records(a, "stopping").empty());

  // SIGTERM: the handler sets the flag; the loop acts on it.
  ASSERT_TRUE(signal(a, SIGTERM));
  auto e = ending(a);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->exited) << e->describe();
  EXPECT_EQ(e->status, 0) << e->describe();
  ASSERT_TRUE(drained(a));

  auto requested = records(a, "stop-requested");
  auto returned = records(a, "read-returned");
  auto stopping = records(a, "stopping");
  auto cleanup = records(a, "cleanup");
  ASSERT_EQ(requested.size(), 1u);
  ASSERT_EQ(returned.size(), 2u);
  ASSERT_EQ(stopping.size(), 1u);
  ASSERT_EQ(cleanup.size(), 1u);
  EXPECT_EQ(requested[0].text("sig").value_or(""), "TERM");
  // The read SIGTERM interrupted failed with EINTR, after the handler had set the flag...
  EXPECT_EQ(returned[1].fields.value("result", 0), -1);
  EXPECT_EQ(returned[1].fields.value("errno", 0), EINTR);
  EXPECT_EQ(returned[1].fields.value("stop", 0), 1);
  EXPECT_LT(requested[0].seq, returned[1].seq);
  // ...and the loop, once back from the read (not the handler), stopped and cleaned up.
  EXPECT_LT(returned[1].seq, stopping[0].seq);
  EXPECT_LT(stopping[0].seq, cleanup[0].seq);
  EXPECT_EQ(cleanup[0].fields.value("closed", 0), 2);
  EXPECT_EQ(records(a, "signal").size(), 1u) << "SIGUSR1's handler reports once";
}

}  // namespace
}  // namespace termsuite::posix
