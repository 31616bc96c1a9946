// What DLLs are told as a process ends. "Terminating a Process": "If a process is terminated by ExitProcess, the
// system calls the entry-point function of each attached DLL with a value indicating that the
// process is detaching from the DLL. DLLs are not notified when a process is terminated by
// TerminateProcess." Wine's loader.c (test_ExitProcess) pins lpReserved on Windows: non-NULL at
// process exit, NULL at FreeLibrary.
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Dll : public ClaimTest {
 protected:
  // The probe's DllMain calls for `reason`, from the actor's process.
  std::vector<Event> dllmain(const Actor& a, std::string_view reason) {
    std::vector<Event> out;
    for (auto& e : records(a, "dllmain", a.pid))
      if (e.text("reason") == reason) out.push_back(std::move(e));
    return out;
  }
  void expect_one_detach_with_reserved(const Actor& a, std::string_view reserved) {
    auto detach = dllmain(a, "process-detach");
    ASSERT_EQ(detach.size(), 1u) << "DLL_PROCESS_DETACH calls";
    EXPECT_EQ(detach[0].text("reserved").value_or("?"), reserved) << "lpReserved of DLL_PROCESS_DETACH";
  }
};

TEST_F(Dll, ExitProcessDetachHasReservedSet) {
  claim("dll.exitprocess-detach");
  // A worker is blocked when the main thread calls ExitProcess: it gets no DLL_THREAD_DETACH.
  auto a = start({"load-probe", "[", "]", "thread", "[", "wait-forever", "]", "ready", "exit-process", "3"});
  auto worker = expect_event(a, "thread-started");
  ASSERT_TRUE(worker);
  ASSERT_TRUE(ends(a.process, "the actor"));
  ASSERT_TRUE(drained(a));
  expect_one_detach_with_reserved(a, "non-null");
  for (const auto& e : dllmain(a, "thread-detach"))
    EXPECT_NE(e.tid, worker->number("thread").value_or(0)) << "the killed worker got DLL_THREAD_DETACH";
  observe("thread-detach-calls", std::to_string(dllmain(a, "thread-detach").size()));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(3));
}

TEST_F(Dll, ReturnFromMainDetachHasReservedSet) {
  claim("dll.exitprocess-detach");
  auto a = start({"load-probe", "[", "]", "return", "0"});
  ASSERT_TRUE(ends(a.process, "the actor"));
  ASSERT_TRUE(drained(a));
  expect_one_detach_with_reserved(a, "non-null");
}

TEST_F(Dll, FreeLibraryDetachHasReservedNull) {
  claim("dll.exitprocess-detach");
  auto a = start({"load-probe", "[", "]", "free-probe", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  expect_one_detach_with_reserved(a, "null");
}

TEST_F(Dll, TerminateProcessNotifiesNoDll) {
  claim("dll.terminate-no-detach");
  // The worker reports only after its DLL_THREAD_ATTACH, so every DllMain call before the
  // termination is in by then.
  auto a = start({"load-probe", "[", "]", "thread", "[", "ready", "wait-forever", "]", "wait-forever"});
  auto worker = expect_event(a, "thread-started");
  ASSERT_TRUE(worker);
  ASSERT_TRUE(ready(a));
  const auto before = records(a, "dllmain", a.pid).size();
  ASSERT_TRUE(sys().terminate(a.process, 9));
  ASSERT_TRUE(ends(a.process, "the terminated actor"));
  ASSERT_TRUE(drained(a));
  auto after = records(a, "dllmain", a.pid);
  for (std::size_t i = before; i < after.size(); ++i) {
    // A thread the actor did not start (a loader thread-pool worker, on Windows 10 and later) may
    // have had its DLL_THREAD_ATTACH record on its way when `ready` came: that is no notification.
    const bool actor_thread = after[i].tid == a.tid || after[i].tid == worker->number("thread").value_or(0);
    if (!actor_thread && after[i].text("reason") == "thread-attach") continue;
    ADD_FAILURE() << "DllMain was called after TerminateProcess: " << after[i].raw;
  }
}

TEST_F(Dll, TerminateSelfNotifiesNoDll) {
  claim("dll.terminate-no-detach");
  auto a = start({"load-probe", "[", "]", "ready", "terminate-self", "4"});
  ASSERT_TRUE(ends(a.process, "the actor"));
  ASSERT_TRUE(drained(a));
  EXPECT_TRUE(dllmain(a, "process-detach").empty()) << "TerminateProcess on itself ran DLL_PROCESS_DETACH";
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(4));
}

}  // namespace
}  // namespace termsuite
