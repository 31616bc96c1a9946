// Every remaining thread ends with the process, waiting ones included. "Terminating a Process":
// "Any remaining
// threads in the process are marked for termination." and "If a process is terminated by
// TerminateProcess, all threads of the process are terminated immediately".
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Threads : public ClaimTest {};

TEST_F(Threads, TerminatedWithTheProcess) {
  claim("threads.terminated");
  // Every way a thread can be when its process is terminated: two workers and the main thread
  // blocked in a wait on a kernel object, a worker blocked in a read (its I/O is cancelled), and a
  // worker that had already ended by returning from its procedure with its own code, which it
  // keeps: it was not among the remaining threads.
  auto pipe = sys().create_pipe("read", System::PipeUse::harness_writes);
  auto early = sys().create_event("return-early");
  auto a = start({"thread", "[", "wait-forever", "]", "thread", "[", "wait-forever", "]", "thread", "[", "read-pipe",
                  pipe.name, "]", "thread", "[", "wait-event", early.name, "return", "0x21", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto started = sys().await_n(a, "thread-started", 4, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 4u);
  ASSERT_TRUE(expect_event(a, "reading")) << "the reader never blocked in its read";
  ASSERT_TRUE(expect_event(a, "waiting")) << "the worker that returns early never started waiting";
  std::vector<Handle> threads{a.thread};
  for (const auto& e : started) {
    auto opened = sys().open_thread(static_cast<std::uint32_t>(e.number("thread").value_or(0)));
    ASSERT_TRUE(opened.handle) << "OpenThread failed: error " << opened.error;
    threads.push_back(opened.handle);
  }
  for (auto t : threads) ASSERT_EQ(hex(sys().thread_exit_code(t)), hex(kStillActive)) << "a thread was not running";
  const Handle returned = threads.back();  // the last started: the one that returns early
  threads.pop_back();
  ASSERT_TRUE(sys().set_event(early.handle));
  ASSERT_TRUE(ends(returned, "the worker that returns from its procedure"));
  ASSERT_EQ(hex(sys().thread_exit_code(returned)), hex(0x21)) << "a returning thread's own exit code";

  ASSERT_TRUE(sys().terminate(a.process, 0x77));
  ASSERT_TRUE(ends(a.process, "the terminated process"));
  for (std::size_t i = 0; i < threads.size(); ++i) {
    EXPECT_TRUE(ends(threads[i], "a thread of the terminated process"));
    EXPECT_EQ(hex(sys().thread_exit_code(threads[i])), hex(0x77)) << "thread #" << i << " (0: main, 3: the reader)";
  }
  EXPECT_EQ(hex(sys().thread_exit_code(returned)), hex(0x21))
      << "the process's end rewrote the code of a thread that had already ended";
}

}  // namespace
}  // namespace termsuite
