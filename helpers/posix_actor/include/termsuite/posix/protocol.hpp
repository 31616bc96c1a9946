#pragma once
// What the POSIX actor and the suite agree on: the report channel's variable, the actor's
// lifetime, and signal names as the verbs and records spell them ("TERM" for SIGTERM; a constant
// table, so the actor's signal handlers may use it).
#include <signal.h>

#include <cstring>

namespace termsuite::posix {

// The descriptor of the report channel, inherited by the actor and each of its descendants.
inline constexpr const char* kReportFdVariable = "TERMSUITE_REPORT_FD";
// How long any actor process lives at most (its own alarm(2)): longer than any test.
inline constexpr unsigned kActorLifetimeSeconds = 60;

struct SignalName {
  int number;
  const char* name;
};

inline constexpr SignalName kSignalNames[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},     {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},   {SIGTRAP, "TRAP"},
    {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},     {SIGFPE, "FPE"},   {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},
    {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},   {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},   {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"}, {SIGTTIN, "TTIN"},
    {SIGTTOU, "TTOU"}, {SIGURG, "URG"},     {SIGXCPU, "XCPU"}, {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"},
    {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"}, {SIGIO, "IO"},     {SIGSYS, "SYS"},
};

// The name without "SIG", or nullptr.
inline const char* find_signal_name(int sig) {
  for (const auto& s : kSignalNames)
    if (s.number == sig) return s.name;
  return nullptr;
}

// The number for "TERM" or "SIGTERM", or 0.
inline int find_signal_number(const char* name) {
  if (std::strncmp(name, "SIG", 3) == 0) name += 3;
  for (const auto& s : kSignalNames)
    if (std::strcmp(s.name, name) == 0) return s.number;
  return 0;
}

}  // namespace termsuite::posix
