// Which thread gets which DllMain call when threads end ("ExitThread function", Microsoft Learn):
// a thread that ends by ExitThread, or by returning from its procedure, calls each attached DLL
// with DLL_THREAD_DETACH itself, once; no other thread is called for it, and a thread's end is no
// DLL_PROCESS_DETACH while the process lives on. The process's own end (ExitProcess, from the
// main thread) is the control that a DLL_PROCESS_DETACH record would be seen.
#include <map>

#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class ThreadEndDllMain : public ClaimTest {};

TEST_F(ThreadEndDllMain, DetachRunsOnceOnEachEndingThreadOnly) {
  claim("thread-end.exit-thread-detach");
  // Three workers: one calls ExitThread, one returns from its procedure, one stays blocked until
  // the main thread calls ExitProcess.
  auto end_workers = sys().create_event("workers-end");
  auto go = sys().create_event("go-exit");
  auto a = start({"load-probe", "[", "]", "thread", "[", "wait-event", end_workers.name, "exit-thread", "5", "]",
                  "thread", "[", "wait-event", end_workers.name, "return", "7", "]", "thread", "[", "wait-forever", "]",
                  "ready", "wait-event", go.name, "exit-process", "3"});
  auto started = sys().await_n(a, "thread-started", 3, Deadline::in(kStartBudget));
  ASSERT_EQ(started.size(), 3u);
  std::map<std::uint32_t, std::string> who{{a.tid, "the main thread"}};
  const char* names[] = {"the worker that calls ExitThread", "the worker that returns", "the blocked worker"};
  std::vector<std::uint32_t> tids;
  for (std::size_t i = 0; i < started.size(); ++i) {
    tids.push_back(static_cast<std::uint32_t>(started[i].number("thread").value_or(0)));
    who[tids.back()] = names[i];
  }
  std::vector<Handle> ending;
  for (std::size_t i = 0; i < 2; ++i) {
    auto t = sys().open_thread(tids[i]);
    ASSERT_TRUE(t.handle) << "OpenThread failed: error " << t.error;
    ending.push_back(t.handle);
  }
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(sys().set_event(end_workers.handle));
  for (std::size_t i = 0; i < ending.size(); ++i) ASSERT_TRUE(ends(ending[i], names[i]));
  EXPECT_TRUE(still_running(a.process)) << "the process ended with threads that were not its last";
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(ends(a.process, "the actor, once its main thread calls ExitProcess"));
  ASSERT_TRUE(drained(a));

  // The actor's threads' DllMain calls, by reason and thread (other threads of the process, such
  // as the loader's thread-pool workers, are not the test's).
  std::map<std::string, std::map<std::uint32_t, std::vector<Event>>> calls;
  for (auto& e : records(a, "dllmain", a.pid))
    if (who.contains(e.tid)) calls[e.text("reason").value_or("?")][e.tid].push_back(std::move(e));
  auto count = [&](const std::string& reason, std::uint32_t tid) {
    auto r = calls.find(reason);
    if (r == calls.end()) return std::size_t{0};
    auto t = r->second.find(tid);
    return t == r->second.end() ? std::size_t{0} : t->second.size();
  };
  // Each ending worker: one DLL_THREAD_DETACH of its own, lpReserved NULL.
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(count("thread-detach", tids[i]), 1u) << "DLL_THREAD_DETACH calls on " << names[i];
    if (count("thread-detach", tids[i]) > 0) {
      EXPECT_EQ(calls["thread-detach"][tids[i]].front().text("reserved").value_or("?"), "null") << names[i];
    }
  }
  // Nobody else is called on their behalf.
  EXPECT_EQ(count("thread-detach", a.tid), 0u) << "the main thread got DLL_THREAD_DETACH for a worker that ended";
  EXPECT_EQ(count("thread-detach", tids[2]), 0u) << "the blocked worker got DLL_THREAD_DETACH";
  // The control: the one DLL_PROCESS_DETACH is ExitProcess's, on the main thread; none came from
  // the workers' ends.
  EXPECT_EQ(count("process-detach", a.tid), 1u) << "ExitProcess's DLL_PROCESS_DETACH (the control)";
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(count("process-detach", tids[i]), 0u) << names[i] << " called DLL_PROCESS_DETACH as it ended";
}

}  // namespace
}  // namespace termsuite
