// Signals against console control events and TerminateProcess: a POSIX signal handler interrupts a
// thread that already exists, where Windows starts a new thread to run a console control handler;
// SIGKILL cannot be caught, and the parent learns the signal, where TerminateProcess lets the
// killer choose the exit code; with no handler, SIGTERM and SIGINT end the process, as the default
// console control handler does.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <string>

#include "wait_test.hpp"

namespace termsuite::posix {
namespace {

class PosixSignals : public PosixWaitTest {
 protected:
  void default_action_ends_the_process(int sig);
};

// The handler runs on the thread the signal interrupts (the actor's only thread): the record it
// writes names that thread, and the blocked read(2) fails with EINTR.
TEST_F(PosixSignals, HandlerInterruptsTheBlockedThreadWithEintr) {
  claim("posix.signal-handler-interrupts");
  auto a = start({"handle", "TERM", "block-read"});
  auto reading = expect_event(a, "reading");
  ASSERT_TRUE(reading);
  if (!asleep_in_read(a, *reading)) return;
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

// With SA_RESTART the same interrupted read does not return: the handler runs and the thread goes
// back to sleep in its read. A second signal, handled without SA_RESTART, then ends the read with
// EINTR: the same observation that would have seen the first one end it.
TEST_F(PosixSignals, SaRestartRestartsTheInterruptedRead) {
  claim("posix.signal-handler-interrupts");
  auto a = start({"handle-restart", "TERM", "handle", "USR1", "block-read"});
  auto reading = expect_event(a, "reading");
  ASSERT_TRUE(reading);
  if (!asleep_in_read(a, *reading)) return;
  ASSERT_TRUE(signal(a, SIGTERM));
  auto term = expect_event(a, "signal");
  ASSERT_TRUE(term);
  EXPECT_EQ(term->text("sig").value_or(""), "TERM");
  // Back in the read: asleep in it again, with no "read-returned" in between.
  EXPECT_TRUE(asleep_in_read(a, *reading)) << "the read interrupted by a SA_RESTART handler returned";
  EXPECT_TRUE(records(a, "read-returned").empty()) << "the read interrupted by a SA_RESTART handler returned";

  ASSERT_TRUE(signal(a, SIGUSR1));
  auto returned = expect_event(a, "read-returned");
  ASSERT_TRUE(returned);
  EXPECT_EQ(returned->fields.value("result", 0), -1);
  EXPECT_EQ(returned->fields.value("errno", 0), EINTR);
  ASSERT_TRUE(drained(a));
  auto handled = records(a, "signal");
  ASSERT_EQ(handled.size(), 2u);
  EXPECT_EQ(handled[1].text("sig").value_or(""), "USR1");
  EXPECT_LT(handled[1].seq, returned->seq) << "the read returned before the second signal";
  EXPECT_EQ(records(a, "read-returned").size(), 1u);
}

// No thread is created to run the handler: the process has one thread before, and one while the
// handler runs (counted by the handler itself in /proc/self/task), and the handler runs on it.
TEST_F(PosixSignals, HandlerRunsOnTheOnlyThreadNoneIsCreated) {
  claim("posix.signal-handler-interrupts");
  auto a = start({"handle-count", "TERM", "block-read", "thread-read", "USR2", "wait-forever"});
  auto installed = expect_event(a, "installed");
  ASSERT_TRUE(installed);
  EXPECT_EQ(installed->fields.value("threads", 0), 1);
  auto reading = expect_event(a, "reading");
  ASSERT_TRUE(reading);
  EXPECT_EQ(reading->tid, static_cast<std::uint32_t>(a.pid)) << "the actor's main thread reads";
  if (!asleep_in_read(a, *reading)) return;
  ASSERT_TRUE(signal(a, SIGTERM));
  auto sig = expect_event(a, "signal");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->fields.value("threads", 0), 1) << "the process had another thread while the handler ran";
  EXPECT_EQ(sig->tid, reading->tid) << "the handler ran on another thread than the only one";
  auto returned = expect_event(a, "read-returned");
  ASSERT_TRUE(returned);
  EXPECT_EQ(returned->fields.value("errno", 0), EINTR);
  // Positive control: the same count sees a second thread when there is one.
  auto threads = expect_event(a, "threads");
  ASSERT_TRUE(threads);
  EXPECT_EQ(threads->fields.value("count", 0), 2) << "the thread count does not see a second thread";
}

// With two threads, a process-directed signal goes to the one that does not block it (POSIX 2.4.1):
// the handler runs on that existing thread, the thread count stays two, and that thread's read
// fails with EINTR. The main thread, which blocks the signal, is left alone.
TEST_F(PosixSignals, WithThreadsTheHandlerRunsOnTheThreadThatDoesNotBlockTheSignal) {
  claim("posix.signal-handler-interrupts");
  auto a = start({"handle-count", "TERM", "thread-read", "TERM", "wait-forever"});
  auto threads = expect_event(a, "threads");
  ASSERT_TRUE(threads);
  EXPECT_EQ(threads->fields.value("count", 0), 2);
  auto reading = expect_event(a, "reading");
  ASSERT_TRUE(reading);
  ASSERT_NE(reading->tid, static_cast<std::uint32_t>(a.pid)) << "the reader is not the main thread";
  if (!asleep_in_read(a, *reading)) return;
  ASSERT_TRUE(signal(a, SIGTERM));
  auto sig = expect_event(a, "signal");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->tid, reading->tid) << "the handler ran on another thread than the one that takes the signal";
  EXPECT_EQ(sig->fields.value("threads", 0), 2) << "the thread count changed while the handler ran";
  auto returned = expect_event(a, "read-returned");
  ASSERT_TRUE(returned);
  EXPECT_EQ(returned->tid, reading->tid);
  EXPECT_EQ(returned->fields.value("errno", 0), EINTR);
}

// SIGKILL cannot be caught, ignored or blocked: sigaction fails with EINVAL for a handler and for
// SIG_IGN, and a mask that is asked to hold it does not. The same actor's SIGTERM handler does
// report (the handlers work); SIGKILL then ends the actor with no record, and its wait status names
// the signal (WIFSIGNALED, WTERMSIG == SIGKILL), not an exit code the sender chose.
TEST_F(PosixSignals, SigkillCannotBeCaughtAndTheStatusNamesIt) {
  claim("posix.sigkill-uncatchable");
  auto a = start({"handle", "KILL", "ignore", "KILL", "block", "KILL", "handle", "TERM", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto refused = records(a, "sigaction-failed");
  ASSERT_EQ(refused.size(), 2u) << "sigaction accepted a handler or SIG_IGN for SIGKILL";
  for (const auto& r : refused) {
    EXPECT_EQ(r.text("sig").value_or(""), "KILL");
    EXPECT_EQ(r.fields.value("errno", 0), EINVAL);
  }
  auto blocked = records(a, "blocked");
  ASSERT_EQ(blocked.size(), 1u);
  EXPECT_EQ(blocked[0].fields.value("in_mask", -1), 0) << "SIGKILL was added to the signal mask";

  ASSERT_TRUE(signal(a, SIGTERM));
  auto term = expect_event(a, "signal");
  ASSERT_TRUE(term);
  EXPECT_EQ(term->text("sig").value_or(""), "TERM");

  ASSERT_TRUE(signal(a, SIGKILL));
  auto status = wait_status(a);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status)) << "status " << *status;
  EXPECT_FALSE(WIFEXITED(*status)) << "status " << *status;
  if (WIFSIGNALED(*status)) {
    EXPECT_EQ(WTERMSIG(*status), SIGKILL);
  }
  ASSERT_TRUE(drained(a));
  EXPECT_EQ(records(a, "signal").size(), 1u) << "something handled SIGKILL";
}

// With no handler (the fixture starts each actor with every disposition at SIG_DFL, which the
// actor confirms), `sig` ends the process and its wait status names it.
void PosixSignals::default_action_ends_the_process(int sig) {
  auto a = start({"disposition", signal_name(sig), "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto disposition = records(a, "disposition");
  ASSERT_EQ(disposition.size(), 1u);
  ASSERT_EQ(disposition[0].text("action").value_or(""), "default");
  ASSERT_TRUE(signal(a, sig));
  auto status = wait_status(a);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status)) << "status " << *status;
  if (WIFSIGNALED(*status)) {
    EXPECT_EQ(WTERMSIG(*status), sig);
  }
}

TEST_F(PosixSignals, SigtermWithNoHandlerEndsTheProcess) {
  claim("posix.default-action-terminates");
  default_action_ends_the_process(SIGTERM);
}

// The same for SIGINT, the signal a terminal's interrupt key sends.
TEST_F(PosixSignals, SigintWithNoHandlerEndsTheProcess) {
  claim("posix.default-action-terminates");
  default_action_ends_the_process(SIGINT);
}

}  // namespace
}  // namespace termsuite::posix
