// A process's lifetime as others see it: watching another process end through a pidfd, a child
// made by a thread that then ends, and moving into a cgroup.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "actor.hpp"

namespace termsuite::posix_actor {
namespace {

// watch PID: a pidfd for PID (pidfd_open(2)); reports {"ev":"watching","pid_watched":PID}, waits
// until the pidfd is readable (poll(2)), then reports {"ev":"watched-ended","pid_watched":PID}.
void verb_watch(Verbs& v) {
  const auto pid = static_cast<pid_t>(v.next_number("watch PID"));
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) fail("pidfd_open(watched)", errno);
  record("watching", {num("pid_watched", pid)});
  wait_readable(fd);
  ::close(fd);
  record("watched-ended", {num("pid_watched", pid)});
}

// The thread of thread-spawn: starts the child, then waits for SIGUSR1 (blocked in every thread
// of the actor, so only this thread's sigwait takes it) and returns, ending the thread.
void* spawning_thread(void* arg) {
  auto* verbs = static_cast<std::vector<std::string>*>(arg);
  spawn(*verbs);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  int sig = 0;
  while (::sigwait(&usr1, &sig) != 0) {
  }
  record("thread-ending", {num("thread", static_cast<long long>(::syscall(SYS_gettid)))});
  return nullptr;
}

// thread-spawn [ verbs ]: a new thread starts a child actor running the verbs (it records
// "spawned" {child_pid}), then ends when the actor gets SIGUSR1. The main thread joins it and
// reports {"ev":"thread-joined"}, then goes on with the next verb.
void verb_thread_spawn(Verbs& v) {
  static std::vector<std::string> verbs;
  verbs = v.bracketed("thread-spawn [ verbs ]");
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (int e = ::pthread_sigmask(SIG_BLOCK, &usr1, nullptr)) fail("pthread_sigmask", e);
  pthread_t t;
  if (int e = ::pthread_create(&t, nullptr, spawning_thread, &verbs)) fail("pthread_create", e);
  if (int e = ::pthread_join(t, nullptr)) fail("pthread_join", e);
  record("thread-joined");
}

// join-cgroup DIR: moves this process into the cgroup v2 directory DIR (writes "0", meaning the
// writer, to DIR/cgroup.procs); reports {"ev":"joined","cgroup":DIR}. Its children from then on
// start in that cgroup.
void verb_join_cgroup(Verbs& v) {
  auto dir = v.next("join-cgroup DIR");
  auto procs = dir + "/cgroup.procs";
  int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open(cgroup.procs)", errno);
  if (::write(fd, "0", 1) != 1) fail("write(cgroup.procs)", errno);
  ::close(fd);
  record("joined", {str("cgroup", dir.c_str())});
}

RegisterVerb r_watch("watch", verb_watch);
RegisterVerb r_thread_spawn("thread-spawn", verb_thread_spawn);
RegisterVerb r_join_cgroup("join-cgroup", verb_join_cgroup);

}  // namespace
}  // namespace termsuite::posix_actor
