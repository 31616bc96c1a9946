// The loader's serialization rules. "Terminating a Process": "During process startup and DLL initialization
// routines, new threads can be created, but they do not begin execution until DLL
// initialization is finished for the process." "Only one thread at a time can be in a DLL
// initialization or detach routine." "The ExitProcess function does not return until there are
// no threads are in their DLL initialization or detach routines."
#include <algorithm>

#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Loader : public ClaimTest {
 protected:
  // The probe created a thread inside DllMain(`during`) and gave it a bounded chance to show a
  // sign of life: none may come while DllMain runs; it must come once DllMain has returned.
  void expect_deferred(const Actor& a, std::string_view during) {
    auto sign = expect_event(a, "probe-sign");
    ASSERT_TRUE(sign) << "the probe did not report on the thread it created";
    EXPECT_EQ(sign->text("during").value_or("?"), during);
    EXPECT_EQ(sign->flag("seen"), false) << "the new thread ran while DllMain was still running";
    auto running = expect_event(a, "probe-thread-running");
    ASSERT_TRUE(running) << "the thread created in DllMain never ran";
    std::optional<std::uint64_t> returned;
    for (const auto& e : records(a, "dllmain-return", a.pid))
      if (e.text("reason") == during) returned = e.seq;
    ASSERT_TRUE(returned) << "no dllmain-return record for " << during;
    EXPECT_GT(running->seq, *returned) << "the new thread ran before DllMain returned";
  }
};

TEST_F(Loader, ThreadCreatedInProcessAttachWaitsForDllMain) {
  claim("loader.threads-deferred");
  auto a = start({"load-probe", "[", "attach-thread", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  expect_deferred(a, "process-attach");
}

TEST_F(Loader, ThreadCreatedInFreeLibraryDetachWaitsForDllMain) {
  claim("loader.threads-deferred");
  auto a = start({"load-probe", "[", "detach-thread", "]", "free-probe", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  expect_deferred(a, "process-detach");
}

TEST_F(Loader, OneThreadAtATimeInDllMain) {
  claim("loader.one-thread-in-dllmain");
  // Four threads start at once; each one's DLL_THREAD_ATTACH holds DllMain for 50 ms. The witness
  // that they could have met there: every thread had been started before the first thread's
  // DLL_THREAD_ATTACH returned. Where the main thread was held up longer than that (a busy core),
  // the threads came one after another anyway and the test cannot tell: inconclusive.
  auto a = start({"load-probe", "[", "slow-thread-attach", "50", "]", "thread", "[", "]", "thread", "[", "]", "thread",
                  "[", "]", "thread", "[", "]", "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto attaches = sys().await_n(a, "dllmain-return", 5, Deadline::in(kExitBudget));  // process + 4 threads
  ASSERT_GE(attaches.size(), 5u);
  // Entries and returns, in the order the process wrote them, must alternate.
  auto calls = sys().events(a);
  std::erase_if(calls, [&](const Event& e) { return e.pid != a.pid || !(e.is("dllmain") || e.is("dllmain-return")); });
  std::sort(calls.begin(), calls.end(), [](const Event& x, const Event& y) { return x.seq < y.seq; });
  int inside = 0, most = 0;
  for (const auto& e : calls) {
    inside += e.is("dllmain") ? 1 : -1;
    most = std::max(most, inside);
  }
  EXPECT_EQ(most, 1) << "two threads were inside DllMain at once";
  for (const auto& e : calls) {
    if (e.is("dllmain-return") && e.number("inside")) {
      EXPECT_EQ(e.number("inside").value_or(0), 1u) << e.raw;
    }
  }
  std::optional<std::uint64_t> last_started, first_attach_returned;
  for (const auto& e : records(a, "thread-started", a.pid)) last_started = std::max(last_started.value_or(0), e.seq);
  for (const auto& e : calls)
    if (e.is("dllmain-return") && e.text("reason") == "thread-attach" &&
        (!first_attach_returned || e.seq < *first_attach_returned))
      first_attach_returned = e.seq;
  ASSERT_TRUE(last_started && first_attach_returned) << "no thread-started or no DLL_THREAD_ATTACH return recorded";
  if (*last_started > *first_attach_returned)
    inconclusive("the first thread had left its DLL_THREAD_ATTACH before the last one was started: the threads never "
                 "had the chance to meet in DllMain");
}

TEST_F(Loader, ExitProcessWaitsForAThreadInDllMain) {
  claim("loader.exitprocess-waits");
  auto hold = sys().create_event("hold-dllmain");
  auto go = sys().create_event("go-exit");
  // A worker loads the probe, whose DllMain blocks until `hold` is set; the main thread calls
  // ExitProcess once told to.
  auto a = start({"thread", "[", "load-probe", "[", "block-attach", hold.name, "]", "]", "wait-event", go.name,
                  "exit-process", "5"});
  ASSERT_TRUE(expect_event(a, "dllmain-blocked"));
  ASSERT_TRUE(sys().set_event(go.handle));
  ASSERT_TRUE(expect_event(a, "about-to-exit"));
  EXPECT_TRUE(still_running(a.process, kAbsentBudget)) << "ExitProcess returned while a thread was in DllMain";
  ASSERT_TRUE(sys().set_event(hold.handle));
  ASSERT_TRUE(ends(a.process, "the process once DllMain returned"));
  EXPECT_EQ(hex(sys().exit_code(a.process)), hex(5));
  auto unblocked = expect_event(a, "dllmain-unblocked");
  ASSERT_TRUE(unblocked);
  EXPECT_EQ(unblocked->text("result").value_or("?"), "signaled");
}

}  // namespace
}  // namespace termsuite
