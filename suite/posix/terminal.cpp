// Closing a terminal, against the console's close event: when the last descriptor for the master
// side of a pseudo-terminal is closed, the controlling process of the session whose controlling
// terminal it was gets SIGHUP; when a controlling process ends, its foreground process group gets
// SIGHUP.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "termsuite/posix/posix_test.hpp"

namespace termsuite::posix {
namespace {

// The master side of a new pseudo-terminal, held by this suite alone (O_CLOEXEC: no actor
// inherits it, so closing it here is its last close).
class PseudoTerminal {
 public:
  PseudoTerminal() {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0) {
      error_ = std::string("posix_openpt: ") + std::strerror(errno);
      return;
    }
    char name[128];
    if (::grantpt(master_) != 0 || ::unlockpt(master_) != 0 || ::ptsname_r(master_, name, sizeof name) != 0) {
      error_ = std::string("grantpt/unlockpt/ptsname: ") + std::strerror(errno);
      close_master();
      return;
    }
    slave_ = name;
  }
  ~PseudoTerminal() { close_master(); }
  PseudoTerminal(const PseudoTerminal&) = delete;
  PseudoTerminal& operator=(const PseudoTerminal&) = delete;

  bool open() const { return master_ >= 0; }
  const std::string& error() const { return error_; }
  const std::string& slave() const { return slave_; }
  int close_master() {
    if (master_ < 0) return 0;
    int r = ::close(master_);
    master_ = -1;
    return r;
  }

 private:
  int master_ = -1;
  std::string slave_;
  std::string error_;
};

class PosixTerminal : public PosixClaimTest {
 protected:
  // A session leader (new_session) whose controlling terminal is the pseudo-terminal's slave.
  PosixActor start_controlling(const PseudoTerminal& pty, std::vector<std::string> then) {
    ActorOptions o;
    o.new_session = true;
    o.verbs = {"open-ctty", pty.slave()};
    o.verbs.insert(o.verbs.end(), then.begin(), then.end());
    return start(std::move(o));
  }

  // A controlling process with a child in its terminal's foreground process group that reports
  // SIGHUP: the child's pid, or 0 with the test failed.
  struct Session {
    PosixActor leader;
    pid_t member = 0;
  };
  Session start_session_with_member(const PseudoTerminal& pty) {
    Session s;
    s.leader = start_controlling(pty, {"ready", "spawn", "[", "handle", "HUP", "ready", "wait-forever", "]", "wait-forever"});
    auto ctty = expect_event(s.leader, "ctty");
    auto spawned = expect_event(s.leader, "spawned");
    if (!ctty || !spawned || !ready(s.leader)) return s;
    const auto member = static_cast<pid_t>(spawned->number("child_pid").value_or(0));
    auto member_ready = expect_event(s.leader, "ready", kStartBudget, member);
    if (!member_ready) return s;
    EXPECT_EQ(member_ready->number("pgid").value_or(0), ctty->number("tpgid").value_or(-1))
        << "the child is not in the terminal's foreground process group";
    s.member = member;
    return s;
  }
};

// The controlling process (which handles SIGHUP) gets SIGHUP when the master side is closed.
TEST_F(PosixTerminal, ClosingTheMasterHangsUpTheControllingProcess) {
  claim("posix.terminal-hangup");
  PseudoTerminal pty;
  if (!pty.open()) {
    skip("no pseudo-terminal: " + pty.error());
    return;
  }
  auto leader = start_controlling(pty, {"handle", "HUP", "ready", "wait-forever"});
  auto ctty = expect_event(leader, "ctty");
  ASSERT_TRUE(ctty);
  EXPECT_EQ(ctty->number("sid").value_or(0), leader.pid) << "the terminal is not the actor's session's";
  ASSERT_TRUE(ready(leader));
  EXPECT_TRUE(records(leader, "signal").empty()) << "SIGHUP before the master was closed";

  ASSERT_EQ(pty.close_master(), 0) << std::strerror(errno);
  auto hup = expect_event(leader, "signal");
  ASSERT_TRUE(hup) << "the controlling process got no signal when the master was closed";
  EXPECT_EQ(hup->text("sig").value_or(""), "HUP");
  EXPECT_EQ(hup->pid, static_cast<std::uint32_t>(leader.pid));
}

// With SIGHUP's default action the controlling process dies of the hangup; as it ends, a process
// of its terminal's foreground process group (its child, in its group) gets SIGHUP in turn. After
// the hangup the terminal is no longer the leader's, so this SIGHUP comes from the foreground group
// Linux keeps for the session (tty_old_pgrp, drivers/tty/tty_jobctrl.c): Linux's reading of the
// _exit() rule. The next test checks the rule itself, with no hangup.
TEST_F(PosixTerminal, ControllingProcessEndingHangsUpItsForegroundGroup) {
  claim("posix.terminal-hangup");
  PseudoTerminal pty;
  if (!pty.open()) {
    skip("no pseudo-terminal: " + pty.error());
    return;
  }
  auto [leader, member_pid] = start_session_with_member(pty);
  ASSERT_NE(member_pid, 0);

  ASSERT_EQ(pty.close_master(), 0) << std::strerror(errno);
  auto end = ending(leader);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killed && end->status == SIGHUP) << "the controlling process: " << end->describe();
  auto hup = expect_event(leader, "signal", kExitBudget, member_pid);
  ASSERT_TRUE(hup) << "the foreground process group got no signal when the controlling process ended";
  EXPECT_EQ(hup->text("sig").value_or(""), "HUP");
}

// The same rule without a hangup: the controlling process is killed (SIGKILL) while the terminal
// is open, and its foreground process group gets SIGHUP as it ends.
TEST_F(PosixTerminal, ControllingProcessKilledHangsUpItsForegroundGroup) {
  claim("posix.terminal-hangup");
  PseudoTerminal pty;
  if (!pty.open()) {
    skip("no pseudo-terminal: " + pty.error());
    return;
  }
  auto [leader, member_pid] = start_session_with_member(pty);
  ASSERT_NE(member_pid, 0);

  ASSERT_TRUE(signal(leader, SIGKILL));
  auto end = ending(leader);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killed && end->status == SIGKILL) << end->describe();
  auto hup = expect_event(leader, "signal", kExitBudget, member_pid);
  ASSERT_TRUE(hup) << "the foreground process group got no signal when the controlling process ended";
  EXPECT_EQ(hup->text("sig").value_or(""), "HUP");
}

}  // namespace
}  // namespace termsuite::posix
