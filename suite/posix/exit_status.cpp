// How a POSIX process ends and what its parent learns: exit() runs the atexit functions where
// _exit() and SIGKILL run none (Windows: TerminateProcess runs no DLL handlers); only the low
// eight bits of an exit status reach the parent, and no status value means "still running"
// (Windows: STILL_ACTIVE, 259, is both an exit code and the answer for a running process).
#include <signal.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "wait_test.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace termsuite::posix {
namespace {

class PosixExit : public PosixWaitTest {
 protected:
  std::vector<std::string> atexit_names(const PosixActor& a) {
    std::vector<std::string> names;
    for (const auto& r : records(a, "atexit")) names.push_back(r.text("name").value_or(""));
    return names;
  }
};

// exit() calls the functions registered by atexit(), in the reverse order of their registration
// (POSIX exit()). Each reports with one write(2), so nothing depends on stdio being flushed.
TEST_F(PosixExit, ExitRunsAtexitFunctionsInReverseOrder) {
  claim("posix.exit-runs-atexit");
  auto a = start({"atexit", "first", "atexit", "second", "exit", "0"});
  auto e = ending(a);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->exited && e->status == 0) << e->describe();
  ASSERT_TRUE(drained(a));
  EXPECT_EQ(records(a, "registered").size(), 2u);
  EXPECT_EQ(atexit_names(a), (std::vector<std::string>{"second", "first"}));
}

// _exit() calls none of them (POSIX _exit()). The same registration followed by exit() in a
// second actor shows the function would have reported.
TEST_F(PosixExit, UnderscoreExitRunsNoAtexitFunction) {
  claim("posix.exit-runs-atexit");
  auto quick = start({"atexit", "first", "_exit", "0"});
  auto normal = start({"atexit", "first", "exit", "0"});
  auto eq = ending(quick);
  auto en = ending(normal);
  ASSERT_TRUE(eq && en);
  EXPECT_TRUE(eq->exited && eq->status == 0) << eq->describe();
  EXPECT_TRUE(en->exited && en->status == 0) << en->describe();
  ASSERT_TRUE(drained(quick));
  ASSERT_TRUE(drained(normal));
  EXPECT_EQ(records(quick, "registered").size(), 1u);
  EXPECT_EQ(atexit_names(normal), (std::vector<std::string>{"first"})) << "the control's atexit function did not report";
  EXPECT_TRUE(atexit_names(quick).empty()) << "_exit() ran an atexit function";
}

// SIGKILL ends the process abnormally: no atexit function runs. Two actors do the same thing (an
// atexit function, then wait for SIGTERM and exit()); the one sent SIGTERM runs its function, the
// one sent SIGKILL does not.
TEST_F(PosixExit, SigkillRunsNoAtexitFunction) {
  claim("posix.exit-runs-atexit");
  const std::vector<std::string> verbs{"atexit", "first", "handle", "TERM", "ready", "until-signal", "TERM", "exit", "0"};
  auto killed = start(verbs);
  auto asked = start(verbs);
  ASSERT_TRUE(ready(killed));
  ASSERT_TRUE(ready(asked));
  ASSERT_TRUE(signal(killed, SIGKILL));
  ASSERT_TRUE(signal(asked, SIGTERM));
  auto ek = ending(killed);
  auto ea = ending(asked);
  ASSERT_TRUE(ek && ea);
  EXPECT_TRUE(ek->killed && ek->status == SIGKILL) << ek->describe();
  EXPECT_TRUE(ea->exited && ea->status == 0) << ea->describe();
  ASSERT_TRUE(drained(killed));
  ASSERT_TRUE(drained(asked));
  EXPECT_EQ(atexit_names(asked), (std::vector<std::string>{"first"})) << "the control's atexit function did not report";
  EXPECT_TRUE(atexit_names(killed).empty()) << "an atexit function ran in a process killed by SIGKILL";
}

// Only status & 0xFF reaches the parent: exit(300), _exit(300) and return 300 from main all read
// 44 through WEXITSTATUS (Linux exit(3), wait(2)), and 259 (Windows' STILL_ACTIVE) reads 3. What
// waitid's si_status says is recorded: POSIX wants the full value there, Linux keeps 8 bits.
TEST_F(PosixExit, OnlyTheLowEightBitsOfTheStatusReachTheParent) {
  claim("posix.status-eight-bits");
  struct Case {
    const char* how;
    int value;
  };
  const Case cases[] = {{"exit", 300}, {"_exit", 300}, {"return", 300}, {"exit", 259}};
  for (const auto& c : cases) {
    SCOPED_TRACE(fmt::format("{} {}", c.how, c.value));
    auto a = start({c.how, std::to_string(c.value)});
    auto seen = ending(a, kExitBudget, /*keep=*/true);  // waitid, leaving it to waitpid
    ASSERT_TRUE(seen);
    EXPECT_TRUE(seen->exited) << seen->describe();
    observe(fmt::format("waitid si_status after {}({})", c.how, c.value), std::to_string(seen->status));
    auto status = wait_status(a);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status)) << "status " << *status;
    EXPECT_EQ(WEXITSTATUS(*status), c.value & 0xFF);
  }
}

// No status value stands for "still running": waitpid with WNOHANG returns 0 for a child that is
// running (POSIX wait()), and waitid with WNOHANG leaves si_pid 0. The same calls on a child that
// exited with 259 return it, with WIFEXITED and the status 3; and on the running one once it is
// killed, they return it.
TEST_F(PosixExit, ARunningChildIsToldByWnohangNotByAStatusValue) {
  claim("posix.status-eight-bits");
  auto running = start({"ready", "wait-forever"});
  auto exited = start({"exit", "259"});
  ASSERT_TRUE(ready(running));
  ASSERT_TRUE(ends(exited.pidfd, "the actor that exits with 259"));

  int status = -1;
  EXPECT_EQ(::waitpid(running.pid, &status, WNOHANG), 0) << "waitpid(WNOHANG) reported a running child";
  siginfo_t info{};
  ASSERT_EQ(::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(running.pidfd), &info, WEXITED | WNOHANG), 0);
  EXPECT_EQ(info.si_pid, 0) << "waitid(WNOHANG) reported a running child";

  EXPECT_EQ(::waitpid(exited.pid, &status, WNOHANG), exited.pid);
  EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);

  ASSERT_TRUE(signal(running, SIGKILL));
  ASSERT_TRUE(ends(running.pidfd, "the running actor, killed"));
  info = siginfo_t{};
  ASSERT_EQ(::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(running.pidfd), &info,
                     WEXITED | WNOHANG | WNOWAIT),
            0);
  EXPECT_EQ(info.si_pid, running.pid);
  EXPECT_EQ(::waitpid(running.pid, &status, WNOHANG), running.pid);
  EXPECT_TRUE(WIFSIGNALED(status)) << "status " << status;
}

}  // namespace
}  // namespace termsuite::posix
