// Process groups against console process groups: killpg(2) sends a signal to every process of one
// process group and to no other (POSIX killpg(), and kill() with a negative pid).
#include <signal.h>
#include <unistd.h>

#include "termsuite/posix/posix_test.hpp"

namespace termsuite::posix {
namespace {

class PosixGroups : public PosixClaimTest {
 protected:
  // Whether process `pid` (which writes to `a`'s channel) has SIGTERM pending. Each actor here
  // holds SIGTERM blocked, so a SIGTERM sent to it stays pending, and answers SIGUSR1 with a
  // "pending" record (verb pending-probe): whether a SIGTERM was sent to it is then a definite
  // answer, not the absence of a record. Asks one process at a time.
  std::optional<bool> term_pending(const PosixActor& a, pid_t pid) {
    const auto before = records(a, "pending").size();
    if (::kill(pid, SIGUSR1) != 0) {
      ADD_FAILURE() << "kill(" << pid << ", SIGUSR1) failed";
      return std::nullopt;
    }
    auto answers = a.channel->await_n("pending", before + 1, Deadline::in(kStartBudget));
    if (answers.size() <= before) {
      note_timeout("no answer to SIGUSR1 (is SIGTERM pending?) within the start budget");
      return std::nullopt;
    }
    const auto& answer = answers[before];
    EXPECT_EQ(answer.pid, static_cast<std::uint32_t>(pid)) << "an answer came from a process that was not asked";
    EXPECT_EQ(answer.text("sig").value_or(""), "TERM");
    return answer.fields.value("pending", -1) == 1;
  }
};

// Two processes in one group (an actor that made a group of its own, and a child it started,
// which inherits it) and a third in a group of its own. killpg on the first group reaches both of
// its processes and not the third; killpg on the third's group then reaches it, so the same
// question would have seen it there.
TEST_F(PosixGroups, KillpgReachesEveryProcessOfTheGroupAndNoOther) {
  claim("posix.killpg-group");
  const std::vector<std::string> holder{"pending-probe", "USR1", "TERM", "ready"};
  ActorOptions lead;
  lead.new_group = true;
  lead.verbs = holder;
  lead.verbs.insert(lead.verbs.end(), {"spawn", "["});
  lead.verbs.insert(lead.verbs.end(), holder.begin(), holder.end());
  lead.verbs.insert(lead.verbs.end(), {"wait-forever", "]", "wait-forever"});
  auto g = start(lead);
  ActorOptions own;
  own.new_group = true;
  own.verbs = holder;
  own.verbs.push_back("wait-forever");
  auto other = start(own);

  auto spawned = expect_event(g, "spawned");
  ASSERT_TRUE(spawned);
  const auto member = static_cast<pid_t>(spawned->number("child_pid").value_or(0));
  auto lead_ready = expect_event(g, "ready", kStartBudget, g.pid);
  auto member_ready = expect_event(g, "ready", kStartBudget, member);
  auto other_ready = expect_event(other, "ready");
  ASSERT_TRUE(lead_ready && member_ready && other_ready);
  const auto group = static_cast<pid_t>(lead_ready->number("pgid").value_or(0));
  ASSERT_EQ(group, g.pid) << "the first actor is not its group's leader";
  ASSERT_EQ(member_ready->number("pgid").value_or(0), static_cast<std::uint64_t>(group));
  const auto other_group = static_cast<pid_t>(other_ready->number("pgid").value_or(0));
  ASSERT_EQ(other_group, other.pid);
  ASSERT_NE(other_group, group);
  ASSERT_NE(::getpgrp(), group) << "the suite is in the group it signals";

  ASSERT_EQ(::killpg(group, SIGTERM), 0);
  EXPECT_EQ(term_pending(g, g.pid), std::optional<bool>(true)) << "the group's leader did not get SIGTERM";
  EXPECT_EQ(term_pending(g, member), std::optional<bool>(true)) << "the group's other process did not get SIGTERM";
  EXPECT_EQ(term_pending(other, other.pid), std::optional<bool>(false)) << "a process of another group got SIGTERM";

  ASSERT_EQ(::killpg(other_group, SIGTERM), 0);
  EXPECT_EQ(term_pending(other, other.pid), std::optional<bool>(true)) << "killpg on its own group did not reach it";
}

}  // namespace
}  // namespace termsuite::posix
