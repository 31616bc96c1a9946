// Every remaining thread ends with the process, waiting ones included. Seed 002: "Any remaining
// threads in the process are marked for termination." and "If a process is terminated by
// TerminateProcess, all threads of the process are terminated immediately".
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Threads : public ClaimTest {};

TEST_F(Threads, TerminatedWithTheProcess) {
  claim("threads.terminated");
  // Two workers and the main thread, all blocked in a wait on a kernel object.
  auto a = start({"thread", "[", "wait-forever", "]", "thread", "[", "wait-forever", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto started = sys().await_n(a, "thread-started", 2, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 2u);
  std::vector<Handle> threads{a.thread};
  for (const auto& e : started) {
    auto opened = sys().open_thread(static_cast<std::uint32_t>(e.number("thread").value_or(0)));
    ASSERT_TRUE(opened.handle) << "OpenThread failed: error " << opened.error;
    threads.push_back(opened.handle);
  }
  for (auto t : threads) ASSERT_EQ(hex(sys().thread_exit_code(t)), hex(259)) << "a thread was not running";

  ASSERT_TRUE(sys().terminate(a.process, 0x77));
  ASSERT_TRUE(ends(a.process, "the terminated process"));
  for (auto t : threads) {
    EXPECT_TRUE(ends(t, "a thread of the terminated process"));
    EXPECT_EQ(hex(sys().thread_exit_code(t)), hex(0x77));
  }
}

}  // namespace
}  // namespace termsuite
