// Signals: handlers that say where they ran, blocked (held) signals, a reader on a thread of its
// own, and an event loop that a SIGTERM handler stops through a flag.
//
// Everything a handler here does is async-signal-safe (POSIX 2.4.3 Signal Actions): record(),
// open/close/getdents64 system calls, sigpending, sigismember, and stores to volatile
// sig_atomic_t.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "actor.hpp"

namespace termsuite::posix_actor {
namespace {

// The number of threads of this process: the entries of /proc/self/task, read with system calls
// only, so a signal handler may count.
int count_threads() {
  int fd = ::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct Entry {  // struct linux_dirent64, getdents64(2)
    std::uint64_t ino;
    std::int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
  };
  alignas(8) char buf[2048];
  int n = 0;
  for (;;) {
    long got = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got <= 0) break;
    for (long at = 0; at < got;) {
      const auto* e = reinterpret_cast<const Entry*>(buf + at);
      if (e->name[0] != '.') ++n;
      at += e->reclen;
    }
  }
  ::close(fd);
  return n;
}

void install(int sig, void (*fn)(int), int flags, const sigset_t* mask = nullptr) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  if (mask) sa.sa_mask = *mask;
  else sigemptyset(&sa.sa_mask);
  if (::sigaction(sig, &sa, nullptr) != 0) fail("sigaction", errno);
}

void set_mask(int how, int sig) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  if (int e = ::pthread_sigmask(how, &s, nullptr)) fail("pthread_sigmask", e);
}

// handle-count SIG: a handler (without SA_RESTART) that reports where it runs and how many
// threads the process has while it runs: {"ev":"signal","sig":"TERM","threads":N} (the record's
// tid is the thread the handler runs on).
void report_with_threads(int sig) {
  const int saved = errno;  // the count's calls must not change the errno of the call interrupted
  record("signal", {str("sig", signal_name(sig)), num("threads", count_threads())});
  errno = saved;
}
void verb_handle_count(Verbs& v) {
  int sig = v.next_signal("handle-count SIG");
  install(sig, report_with_threads, 0);
  record("installed", {str("sig", signal_name(sig)), num("threads", count_threads())});
}

// thread-read SIG: blocks SIG in this thread (so only the new one can take it) and starts a
// thread that unblocks SIG, reports {"ev":"threads","count":N}, then reads from a pipe nobody
// writes, as block-read does ("reading", then "read-returned" {result, errno}). This thread goes
// on with the next verbs.
void* reader(void* arg) {
  const int sig = static_cast<int>(reinterpret_cast<std::intptr_t>(arg));
  set_mask(SIG_UNBLOCK, sig);
  int fds[2];
  if (::pipe(fds) != 0) fail("pipe", errno);
  record("threads", {num("count", count_threads())});
  record("reading", {num("fd", fds[0])});
  char c;
  ssize_t r = ::read(fds[0], &c, 1);
  int e = r < 0 ? errno : 0;
  record("read-returned", {num("result", r), num("errno", e)});
  return nullptr;
}
void verb_thread_read(Verbs& v) {
  int sig = v.next_signal("thread-read SIG");
  set_mask(SIG_BLOCK, sig);
  pthread_t t;
  if (int e = ::pthread_create(&t, nullptr, reader, reinterpret_cast<void*>(static_cast<std::intptr_t>(sig))))
    fail("pthread_create", e);
  ::pthread_detach(t);
}

// block SIG: adds SIG to this thread's signal mask and reports whether the mask now holds it:
// {"ev":"blocked","sig":"TERM","in_mask":1}.
void verb_block(Verbs& v) {
  int sig = v.next_signal("block SIG");
  sigset_t s, now;
  sigemptyset(&s);
  sigaddset(&s, sig);
  if (int e = ::pthread_sigmask(SIG_BLOCK, &s, nullptr)) {
    record("block-failed", {str("sig", signal_name(sig)), num("errno", e)});
    return;
  }
  ::pthread_sigmask(SIG_BLOCK, nullptr, &now);
  record("blocked", {str("sig", signal_name(sig)), num("in_mask", sigismember(&now, sig))});
}

// disposition SIG: {"ev":"disposition","sig":"TERM","action":"default"|"ignore"|"handler"}.
void verb_disposition(Verbs& v) {
  int sig = v.next_signal("disposition SIG");
  struct sigaction old {};
  if (::sigaction(sig, nullptr, &old) != 0) fail("sigaction", errno);
  const char* action = old.sa_handler == SIG_DFL ? "default" : old.sa_handler == SIG_IGN ? "ignore" : "handler";
  record("disposition", {str("sig", signal_name(sig)), str("action", action)});
}

// pending-probe PROBE SIG: holds SIG (blocks it, so a SIG sent stays pending) and installs a
// handler for PROBE that reports whether SIG is pending: {"ev":"pending","sig":"TERM","pending":0|1}.
volatile sig_atomic_t g_held = 0;
void report_pending(int) {
  sigset_t p;
  sigemptyset(&p);
  ::sigpending(&p);
  record("pending", {str("sig", signal_name(g_held)), num("pending", sigismember(&p, g_held))});
}
void verb_pending_probe(Verbs& v) {
  int probe = v.next_signal("pending-probe PROBE SIG");
  int held = v.next_signal("pending-probe PROBE SIG");
  g_held = held;
  set_mask(SIG_BLOCK, held);
  sigset_t during;  // the probe's handler runs with SIG still held
  sigemptyset(&during);
  sigaddset(&during, held);
  install(probe, report_pending, SA_RESTART, &during);
  record("holding", {str("sig", signal_name(held)), str("probe", signal_name(probe))});
}

// until-signal SIG: waits until a handler installed by `handle` has caught SIG (sigsuspend with
// SIG unblocked, so no signal is lost between the look and the wait).
void verb_until_signal(Verbs& v) {
  int sig = v.next_signal("until-signal SIG");
  sigset_t s, old;
  sigemptyset(&s);
  sigaddset(&s, sig);
  ::pthread_sigmask(SIG_BLOCK, &s, &old);
  sigdelset(&old, sig);
  while (!caught(sig)) ::sigsuspend(&old);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  record("woke", {str("sig", signal_name(sig))});
}

// event-loop: the shape of a program that a SIGTERM stops cleanly. Its SIGTERM handler only sets
// a stop flag (a volatile sig_atomic_t) and reports "stop-requested"; a SIGUSR1 handler only
// reports "signal" (a signal that asks nothing). Neither has SA_RESTART. The loop blocks in read(2)
// on a pipe ("reading"); each time the read returns ("read-returned" {result, errno}) the loop
// looks at the flag: set, it reports "stopping", runs its cleanup (closes the pipe, "cleanup"
// {closed}) and returns, so the actor goes on to its next verb (none: exit status 0); not set,
// it reads again.
volatile sig_atomic_t g_stop = 0;
void request_stop(int sig) {
  g_stop = 1;
  record("stop-requested", {str("sig", signal_name(sig))});
}
void report_only(int sig) { record("signal", {str("sig", signal_name(sig))}); }
void verb_event_loop(Verbs&) {
  install(SIGTERM, request_stop, 0);
  install(SIGUSR1, report_only, 0);
  int fds[2];
  if (::pipe(fds) != 0) fail("pipe", errno);
  for (;;) {
    record("reading", {num("fd", fds[0])});
    char c;
    ssize_t r = ::read(fds[0], &c, 1);
    int e = r < 0 ? errno : 0;
    record("read-returned", {num("result", r), num("errno", e), num("stop", g_stop)});
    if (g_stop) break;
  }
  record("stopping");
  int closed = (::close(fds[0]) == 0) + (::close(fds[1]) == 0);
  record("cleanup", {num("closed", closed)});
}

RegisterVerb r_handle_count("handle-count", verb_handle_count);
RegisterVerb r_thread_read("thread-read", verb_thread_read);
RegisterVerb r_block("block", verb_block);
RegisterVerb r_disposition("disposition", verb_disposition);
RegisterVerb r_pending_probe("pending-probe", verb_pending_probe);
RegisterVerb r_until_signal("until-signal", verb_until_signal);
RegisterVerb r_event_loop("event-loop", verb_event_loop);

}  // namespace
}  // namespace termsuite::posix_actor
