// How a process ends: functions registered with atexit(3), which report when they run.
#include <stdlib.h>

#include <string>

#include "actor.hpp"

namespace termsuite::posix_actor {
namespace {

// atexit NAME: registers a function that reports {"ev":"atexit","name":NAME} when it runs (with
// one write(2): no stdio buffer that _exit or a signal could lose). Up to kMaxAtexit of them; each
// reports its own name, so the order they ran in is the records' order.
constexpr int kMaxAtexit = 8;
std::string g_names[kMaxAtexit];
int g_registered = 0;

template <int I>
void report_atexit() {
  record("atexit", {str("name", g_names[I].c_str())});
}

void (*const kAtexitFns[kMaxAtexit])() = {report_atexit<0>, report_atexit<1>, report_atexit<2>, report_atexit<3>,
                                           report_atexit<4>, report_atexit<5>, report_atexit<6>, report_atexit<7>};

void verb_atexit(Verbs& v) {
  auto name = v.next("atexit NAME");
  if (g_registered >= kMaxAtexit) fail("atexit: too many");
  g_names[g_registered] = name;
  if (::atexit(kAtexitFns[g_registered]) != 0) fail("atexit");
  ++g_registered;
  record("registered", {str("name", name.c_str())});
}

RegisterVerb r_atexit("atexit", verb_atexit);

}  // namespace
}  // namespace termsuite::posix_actor
