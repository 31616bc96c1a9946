// Signals against console control events: a POSIX signal handler interrupts a thread that already
// exists, where Windows starts a new thread to run a console control handler.
#include <signal.h>
#include <sys/syscall.h>

#include "termsuite/posix/posix_test.hpp"

namespace termsuite::posix {
namespace {

class PosixSignals : public PosixClaimTest {};

// The handler runs on the thread the signal interrupts (the actor's only thread): the record it
// writes names that thread, and the blocked read(2) fails with EINTR.
TEST_F(PosixSignals, HandlerInterruptsTheBlockedThreadWithEintr) {
  claim("posix.signal-handler-interrupts");
  auto a = start({"handle", "TERM", "block-read"});
  auto reading = expect_event(a, "reading");
  ASSERT_TRUE(reading);
  ASSERT_TRUE(blocked_in(a, SYS_read)) << "the actor never got to its read";
  ASSERT_TRUE(signal(a, SIGTERM));
  auto sig = expect_event(a, "signal");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->text("sig").value_or(""), "TERM");
  EXPECT_EQ(sig->tid, reading->tid) << "the handler ran on another thread than the one it interrupted";
  auto returned = expect_event(a, "read-returned");
  ASSERT_TRUE(returned);
  EXPECT_EQ(returned->fields.value("result", 0), -1);
  EXPECT_EQ(returned->fields.value("errno", 0), EINTR);
}

}  // namespace
}  // namespace termsuite::posix
