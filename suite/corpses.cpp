// What remains of a process once it has ended: seeds 000 and 001. "All that remains is the
// 'process object', which lingers until all handles to the process and all the threads in the
// process have been closed." "You need to close the thread handle, or the thread cannot go away."
#include <algorithm>
#include <set>

#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

constexpr std::uint32_t kErrorInvalidParameter = 87;

class Corpse : public ClaimTest {};

TEST_F(Corpse, ThreadHandleAloneKeepsTheProcess) {
  claim("corpse.thread-handle-keeps-process");
  auto a = start({"exit-process", "7"});
  ASSERT_TRUE(ends(a.process, "the actor"));
  sys().close(a.process);  // only PROCESS_INFORMATION.hThread is left
  auto p = sys().open_process(a.pid);
  ASSERT_TRUE(p.handle) << "OpenProcess on the exited process failed (error " << p.error
                        << ") though its thread handle is open";
  EXPECT_EQ(hex(sys().exit_code(p.handle)), hex(7));
}

TEST_F(Corpse, TerminatedThreadStaysQueryable) {
  claim("corpse.terminated-thread-queryable");
  auto a = start({"ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(sys().terminate(a.process, 5));
  ASSERT_TRUE(ends(a.process, "the actor"));
  sys().close(a.process);
  // Seed 001: "you can still do things like check if the thread has exited (yes, already!), ask
  // for the exit code, ask for the thread ID, ask how much CPU the thread consumed".
  EXPECT_EQ(to_string(sys().wait(a.thread, Deadline::now())), "signaled");
  EXPECT_EQ(hex(sys().thread_exit_code(a.thread)), hex(5));
  auto times = sys().thread_times(a.thread);
  ASSERT_TRUE(times) << "GetThreadTimes failed on the dead thread's handle";
  EXPECT_EQ(times->tid, a.tid) << "GetThreadId";
  EXPECT_GE(times->exit, times->creation) << "the thread's exit time is before its creation time";
}

TEST_F(Corpse, IdsStayReservedWhileAHandleIsOpen) {
  claim("corpse.ids-unique");
  // The corpse: exited, both PROCESS_INFORMATION handles kept open.
  auto corpse = start({"exit-process", "0"});
  ASSERT_TRUE(ends(corpse.process, "the corpse-to-be"));
  ASSERT_TRUE(ends(corpse.thread, "its thread"));
  // Churn: 40 short-lived processes (and their threads) from one launcher, enough that an id
  // allocator reusing freed ids would likely hand out the corpse's.
  constexpr int kChurn = 40;
  std::vector<std::string> verbs;
  for (int i = 0; i < kChurn; ++i) verbs.insert(verbs.end(), {"spawn", "[", "return", "0", "]"});
  verbs.push_back("ready");
  auto launcher = start(verbs);
  ASSERT_TRUE(expect_event(launcher, "ready", kExitBudget * 3)) << "the launcher did not finish spawning";
  ASSERT_TRUE(ends(launcher.process, "the launcher", kExitBudget * 3));
  ASSERT_TRUE(drained(launcher, kExitBudget * 3));
  std::set<std::uint32_t> ids;
  std::size_t children = 0;
  for (const auto& e : records(launcher, "start")) {
    children += e.pid != launcher.pid;
    ids.insert(e.pid);
    ids.insert(static_cast<std::uint32_t>(e.number("main_tid").value_or(0)));
  }
  // Every spawn is accounted for: a child that was created reported its start (no record is
  // lost), or the launcher reported the CreateProcess failure. (Wine 8.0's CreateProcess fails
  // now and then with ERROR_INTERNAL_ERROR, 1359, during such a burst: setup, not the claim.)
  const auto all = sys().events(launcher);
  const auto failures = static_cast<std::size_t>(std::count_if(
      all.begin(), all.end(), [](const Event& e) { return e.is("error") && e.text("what") == "CreateProcess"; }));
  ASSERT_EQ(children + failures, static_cast<std::size_t>(kChurn)) << "a spawned child's start record is missing";
  ASSERT_GE(children, static_cast<std::size_t>(kChurn / 2)) << "too few children started for a churn";
  EXPECT_FALSE(ids.contains(corpse.pid)) << "a new process or thread got the corpse's process id";
  EXPECT_FALSE(ids.contains(corpse.tid)) << "a new process or thread got the corpse's thread id";
  // Fewer distinct ids than the 2 * 40 processes and threads means ids were reused meanwhile.
  observe("distinct-ids-in-churn", std::to_string(ids.size()));
  // The corpse is still what its id names.
  auto again = sys().open_process(corpse.pid);
  ASSERT_TRUE(again.handle) << "error " << again.error;
  EXPECT_EQ(hex(sys().exit_code(again.handle)), hex(0));
}

TEST_F(Corpse, ReleasedOnceEveryHandleIsClosed) {
  claim("corpse.released");
  auto a = start({"exit-process", "3"});
  ASSERT_TRUE(ends(a.process, "the actor"));
  ASSERT_TRUE(drained(a));
  sys().close(a.process);
  sys().close(a.thread);
  // Nothing signals an object's destruction, so poll, for a bounded grace period: other
  // system references can delay it on Windows (ReactOS's apitests/kernel32/TerminateProcess.c
  // allows 10 s; Wine's test_Toolhelp 2 s). We allow 2 s.
  std::uint32_t error = 0;
  const bool released = eventually(milliseconds(2'000), [&] {
    auto p = sys().open_process(a.pid);
    if (p.handle) {
      sys().close(p.handle);
      return false;
    }
    error = p.error;
    return true;
  });
  EXPECT_TRUE(released) << "OpenProcess still succeeds 2 s after the last handle was closed";
  if (released) {
    EXPECT_EQ(error, kErrorInvalidParameter);
  }
}

}  // namespace
}  // namespace termsuite
