#pragma once
// The POSIX actor: a native program that acts out a scenario given as verbs on its command line,
// one step after the other, and reports each event as one record on its report channel (the
// descriptor TERMSUITE_REPORT_FD names; every descendant inherits it):
//   {"v":1,"pid":N,"tid":N,"seq":N,"ev":"name", ...fields}
// Each record is one write(2) of one line, made before the next step, so it survives a SIGKILL
// that follows. record() is async-signal-safe: signal handlers report with it.
//
// Verbs are registered by the files that implement them (RegisterVerb); docs/actors.md lists them.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace termsuite::posix_actor {

// One field of a record: a number, or (when text is not null) a string.
struct Field {
  const char* key;
  long long number = 0;
  const char* text = nullptr;
};
inline Field num(const char* key, long long n) { return Field{key, n, nullptr}; }
inline Field str(const char* key, const char* s) { return Field{key, 0, s ? s : ""}; }

// Writes one record. Async-signal-safe (no allocation, no locks, one write).
void record(const char* ev, std::initializer_list<Field> fields = {});

// Reports {"ev":"error","what":...,"errno":N} and ends the actor with exit status 120.
[[noreturn]] void fail(const char* what, int error = 0);

// The verbs still to run, read one at a time.
class Verbs {
 public:
  explicit Verbs(std::vector<std::string> words) : words_(std::move(words)) {}
  bool done() const { return next_ >= words_.size(); }
  std::string next(const char* what);                // fails the actor if there is none
  long long next_number(const char* what);
  int next_signal(const char* what);                 // "TERM", "SIGTERM" or a number
  std::vector<std::string> bracketed(const char* what);  // "[" verbs... "]", nested brackets kept

 private:
  std::vector<std::string> words_;
  std::size_t next_ = 0;
};

using VerbFn = void (*)(Verbs&);
struct RegisterVerb {
  RegisterVerb(const char* name, VerbFn fn);
};

// Starts a copy of this actor running `verbs` (fork and exec); records "spawned" {child_pid}.
// The child inherits the report channel and this process's group and session.
int spawn(const std::vector<std::string>& verbs);

// "TERM" for SIGTERM; a decimal number for one that has no name here. Async-signal-safe.
const char* signal_name(int sig);
// True once a handler installed by the verb `handle` (or `handle-restart`) has caught `sig`.
bool caught(int sig);
// The actor's own path (for spawn).
const std::string& self_path();

// Waits until `fd` is readable (no deadline: the actor's alarm bounds every wait).
void wait_readable(int fd);

}  // namespace termsuite::posix_actor
