// termsuite-posix-actor: see actor.hpp. This file has the record writer, the verb loop and the
// verbs every scenario uses; the others live next to it, one file per area.
#include "actor.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "termsuite/posix/protocol.hpp"

namespace termsuite::posix_actor {

namespace {

int g_report_fd = -1;
std::atomic<unsigned long> g_seq{0};
static_assert(decltype(g_seq)::is_always_lock_free, "record() runs in signal handlers: its counter must take no lock");
// The decimal names of signals the table does not name (real-time ones), made before any handler
// can run: signal_name() returns one without formatting anything.
char g_numbered[NSIG][4];
std::string g_self;

// A fixed buffer that only appends: what a signal handler may do.
struct Line {
  char buf[1024];
  std::size_t n = 0;
  void put(char c) {
    if (n < sizeof buf - 2) buf[n++] = c;
  }
  void put(const char* s) {
    while (*s) put(*s++);
  }
  void put_escaped(const char* s) {
    put('"');
    for (; *s; ++s) {
      unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        put('\\');
        put(static_cast<char>(c));
      } else if (c < 0x20) {
        const char* hex = "0123456789abcdef";
        put("\\u00");
        put(hex[c >> 4]);
        put(hex[c & 15]);
      } else {
        put(static_cast<char>(c));
      }
    }
    put('"');
  }
  void put(long long v) {
    char digits[24];
    int k = 0;
    unsigned long long u = v < 0 ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    do {
      digits[k++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    if (v < 0) put('-');
    while (k) put(digits[--k]);
  }
  void key(const char* k) {
    put(',');
    put_escaped(k);
    put(':');
  }
};

std::map<std::string, VerbFn>& verbs_table() {
  static std::map<std::string, VerbFn> table;
  return table;
}

}  // namespace

void record(const char* ev, std::initializer_list<Field> fields) {
  if (g_report_fd < 0) return;
  const int saved = errno;
  Line l;
  l.put("{\"v\":1");
  l.key("pid");
  l.put(static_cast<long long>(::getpid()));
  l.key("tid");
  l.put(static_cast<long long>(::syscall(SYS_gettid)));
  l.key("seq");
  l.put(static_cast<long long>(g_seq.fetch_add(1)));
  l.key("ev");
  l.put_escaped(ev);
  for (const auto& f : fields) {
    l.key(f.key);
    if (f.text) l.put_escaped(f.text);
    else l.put(f.number);
  }
  l.put("}\n");
  const char* p = l.buf;
  std::size_t left = l.n;
  while (left > 0) {  // one write for a line this short (< PIPE_BUF: atomic on a pipe)
    ssize_t w = ::write(g_report_fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  errno = saved;
}

void fail(const char* what, int error) {
  record("error", {str("what", what), num("errno", error)});
  ::_exit(120);
}

std::string Verbs::next(const char* what) {
  if (done()) fail(what);
  return words_[next_++];
}

long long Verbs::next_number(const char* what) {
  auto w = next(what);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(w.c_str(), &end, 0);
  if (errno || !end || *end || w.empty()) fail(what);
  return v;
}

int Verbs::next_signal(const char* what) {
  auto w = next(what);
  if (int s = posix::find_signal_number(w.c_str())) return s;
  char* end = nullptr;
  long v = std::strtol(w.c_str(), &end, 10);
  if (!end || *end || v <= 0 || v >= NSIG) fail(what);
  return static_cast<int>(v);
}

std::vector<std::string> Verbs::bracketed(const char* what) {
  if (next(what) != "[") fail(what);
  std::vector<std::string> out;
  int depth = 1;
  for (;;) {
    auto w = next(what);
    if (w == "[") ++depth;
    if (w == "]" && --depth == 0) return out;
    out.push_back(std::move(w));
  }
}

RegisterVerb::RegisterVerb(const char* name, VerbFn fn) { verbs_table()[name] = fn; }

const char* signal_name(int sig) {
  if (const char* n = posix::find_signal_name(sig)) return n;
  return sig > 0 && sig < NSIG ? g_numbered[sig] : "?";
}

const std::string& self_path() { return g_self; }

void wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0)
    if (errno != EINTR) fail("poll", errno);
}

int spawn(const std::vector<std::string>& verbs) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(g_self.c_str()));
  for (const auto& v : verbs) argv.push_back(const_cast<char*>(v.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) fail("fork", errno);
  if (pid == 0) {
    ::execv(g_self.c_str(), argv.data());
    fail("execv", errno);
  }
  record("spawned", {num("child_pid", pid)});
  return pid;
}

namespace {

// The signals a handler installed by `handle` reports, as a flag the loop verbs can look at.
volatile sig_atomic_t g_caught[NSIG];

void report_signal(int sig) {
  g_caught[sig] = 1;
  record("signal", {str("sig", signal_name(sig))});
}

void install(int sig, void (*fn)(int), int flags) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(sig, &sa, nullptr) != 0) {
    record("sigaction-failed", {str("sig", signal_name(sig)), num("errno", errno)});
    return;
  }
  record("installed", {str("sig", signal_name(sig))});
}

// ready: {ppid, pgid, sid}
void verb_ready(Verbs&) {
  record("ready", {num("ppid", ::getppid()), num("pgid", ::getpgrp()), num("sid", ::getsid(0))});
}
// wait-forever: pauses for good (handled signals are reported and it pauses again).
void verb_wait_forever(Verbs&) {
  for (;;) ::pause();
}
// exit N: exit(3) (atexit handlers run); _exit N: _exit(2) (none run).
void verb_exit(Verbs& v) { std::exit(static_cast<int>(v.next_number("exit N"))); }
void verb__exit(Verbs& v) { ::_exit(static_cast<int>(v.next_number("_exit N"))); }
// handle SIG: a handler that reports {"ev":"signal","sig":"TERM"}, without SA_RESTART.
void verb_handle(Verbs& v) { install(v.next_signal("handle SIG"), report_signal, 0); }
// handle-restart SIG: the same handler, with SA_RESTART.
void verb_handle_restart(Verbs& v) { install(v.next_signal("handle-restart SIG"), report_signal, SA_RESTART); }
// ignore SIG: SIG_IGN.
void verb_ignore(Verbs& v) { install(v.next_signal("ignore SIG"), SIG_IGN, 0); }
// raise SIG: sends the signal to itself.
void verb_raise(Verbs& v) {
  int sig = v.next_signal("raise SIG");
  record("raising", {str("sig", signal_name(sig))});
  ::raise(sig);
}
// spawn [ verbs ]: a child actor (same group and session).
void verb_spawn(Verbs& v) { spawn(v.bracketed("spawn [ verbs ]")); }
// mark NAME: a record {"ev":"mark","name":NAME}.
void verb_mark(Verbs& v) {
  auto name = v.next("mark NAME");
  record("mark", {str("name", name.c_str())});
}
// setsid: a new session (and group) with no terminal; setpgid: a group of its own.
void verb_setsid(Verbs&) {
  if (::setsid() < 0) fail("setsid", errno);
}
void verb_setpgid(Verbs&) {
  if (::setpgid(0, 0) < 0) fail("setpgid", errno);
}
// pdeathsig SIG: PR_SET_PDEATHSIG.
void verb_pdeathsig(Verbs& v) {
  int sig = v.next_signal("pdeathsig SIG");
  if (::prctl(PR_SET_PDEATHSIG, sig) != 0) fail("prctl(PR_SET_PDEATHSIG)", errno);
}
// wait-parent: waits until the parent has ended (a pidfd of it becomes readable), then reports
// {"ev":"parent-ended","ppid":<the parent now>}.
void verb_wait_parent(Verbs&) {
  pid_t parent = ::getppid();
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, parent, 0));
  if (fd < 0) fail("pidfd_open(parent)", errno);
  record("waiting", {num("parent", parent)});
  wait_readable(fd);
  ::close(fd);
  record("parent-ended", {num("was", parent), num("ppid", ::getppid())});
}

RegisterVerb r_ready("ready", verb_ready);
RegisterVerb r_wait_forever("wait-forever", verb_wait_forever);
RegisterVerb r_exit("exit", verb_exit);
RegisterVerb r__exit("_exit", verb__exit);
RegisterVerb r_handle("handle", verb_handle);
RegisterVerb r_handle_restart("handle-restart", verb_handle_restart);
RegisterVerb r_ignore("ignore", verb_ignore);
RegisterVerb r_raise("raise", verb_raise);
RegisterVerb r_spawn("spawn", verb_spawn);
RegisterVerb r_mark("mark", verb_mark);
RegisterVerb r_setsid("setsid", verb_setsid);
RegisterVerb r_setpgid("setpgid", verb_setpgid);
RegisterVerb r_pdeathsig("pdeathsig", verb_pdeathsig);
RegisterVerb r_wait_parent("wait-parent", verb_wait_parent);

}  // namespace

bool caught(int sig) { return sig > 0 && sig < NSIG && g_caught[sig]; }

}  // namespace termsuite::posix_actor

int main(int argc, char** argv) {
  using namespace termsuite::posix_actor;
  // Whatever happens to the suite, an actor ends by itself (alarm(2) survives exec, so a
  // spawned child sets its own here too).
  ::alarm(termsuite::posix::kActorLifetimeSeconds);
  for (int s = 1; s < NSIG; ++s) std::snprintf(g_numbered[s], sizeof g_numbered[s], "%d", s);
  if (const char* fd = std::getenv(termsuite::posix::kReportFdVariable)) g_report_fd = std::atoi(fd);
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  g_self = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string(argv[0]);
  if (argc < 2) {
    std::fprintf(stderr, "termsuite-posix-actor: verbs expected (docs/actors.md)\n");
    return 2;
  }
  Verbs verbs(std::vector<std::string>(argv + 1, argv + argc));
  while (!verbs.done()) {
    auto name = verbs.next("verb");
    if (name == "return") return static_cast<int>(verbs.next_number("return N"));
    auto it = verbs_table().find(name);
    if (it == verbs_table().end()) fail(("unknown verb " + name).c_str());
    it->second(verbs);
  }
  return 0;
}
