#pragma once
// Scenarios: one small language for what the harness does, and one runner that plays it against
// any System (the live backend on Windows or Wine, the simulator's backend natively). The
// explorer (harness/explore/) writes scenarios, plays each on both, and compares their traces.
//
// A scenario file (docs/explore.md, "The scenario language") is one step per line, words separated by blanks, '#' to
// the end of the line a comment; its first line is `# termsuite-scenario 1`. Every step has one
// canonical result, so two runs of one scenario, on two platforms, give traces that compare line
// by line:
//
//   start NAME [gui] [new-group] [new-console] [in JOB] VERB...   an actor (docs/actors.md's
//                                  verbs; gui: the GUI actor's); a word @E in the verbs is event
//                                  E's name
//   close-window ACTOR K           PostMessage(WM_CLOSE) to the K-th window the actor's own
//                                  process created (window-created, listener included)
//   job NAME [kill-on-close] [breakaway-ok] [silent-breakaway-ok] [port]
//                                  CreateJobObject, its limits, a completion port of its own
//   assign JOB ACTOR               AssignProcessToJobObject: 0 or the Win32 error (an actor in a
//                                  job already makes JOB that job's child: nested jobs)
//   job-messages JOB               what JOB's port got, once ACTIVE_PROCESS_ZERO has come: each
//                                  process's messages by role, sorted, then where ZERO came
//   event NAME                     CreateEvent (manual reset, unsignaled)
//   name NAME                      a name for an object an actor creates (@NAME in the verbs):
//                                  unique to the run, shown as NAME in the records
//   pipe NAME reads|writes         a named pipe whose server end the harness holds (@NAME in the
//                                  verbs is its name); read-pipe NAME, write-pipe NAME: ReadFile
//                                  (data, broken, or timeout at the settle deadline) and WriteFile
//                                  of one byte (ok or broken) on the harness's end
//   open-named NAME event|section|mutex OBJ   OpenEvent / OpenFileMapping / OpenMutex by name:
//                                  ok or the Win32 error
//   release NAME                   ReleaseMutex on an opened mutex
//   waiters W REF N                N threads of the harness start waiting on REF (the settle
//                                  deadline); join W: how many were released
//   shutdown LEVEL                 SetProcessShutdownParameters(LEVEL, 0) for the harness's own
//                                  process, then GetProcessShutdownParameters: "0, LEVEL FLAGS"
//   parent-of ROLE                 the parent id the system records for the process (Toolhelp):
//                                  the role that has that id, or `other`
//   set EVENT                      SetEvent
//   await ACTOR EV N               until the actor's channel holds N records named EV
//   wait REF                       WaitForSingleObject until signaled (the settle deadline)
//   poll REF                       WaitForSingleObject(REF, 0)
//   exit-code REF                  GetExitCodeProcess / GetExitCodeThread
//   terminate REF CODE             TerminateProcess: 0 or the Win32 error
//   terminate-thread REF CODE      TerminateThread: 0 or the Win32 error
//   terminate-job JOB CODE         TerminateJobObject
//   close REF                      CloseHandle (a process, thread, job or opened handle)
//   open NAME pid-of ACTOR | tid-of ACTOR | child-of ACTOR K | thread-of ACTOR K [limited]
//                                  OpenProcess / OpenThread by id (thread-of: the K-th thread the
//                                  actor's process started; limited: without PROCESS_TERMINATE)
//   wait-all REF N                 N threads of the harness wait on REF at once (the settle deadline);
//                                  if it fails, each later step on NAME answers `not opened`
//   ctrl TYPE GROUP                GenerateConsoleCtrlEvent from the harness's own console;
//                                  GROUP is 0 or pid-of ACTOR
//   taskkill ACTOR [tree] [force]  `taskkill /pid PID [/t] [/f]`: its exit status
//   settle ROLE                    until the process with this role (ACTOR, or ACTOR>K for the
//                                  K-th process it spawned, ACTOR>K>J ...) has ended, if it
//                                  still exists: the model says it has (its end is under way);
//                                  ROLE.tK: the K-th thread it started; ROLE.ctrl: the threads
//                                  that ran its console control handlers
//
// REF is ACTOR (its process handle), ACTOR.process, ACTOR.thread or an opened handle's NAME.
// The trace ends with every actor's records, per process and thread, after the runner has ended
// whatever still runs (so a trace is complete whatever the scenario left behind).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/system.hpp"

namespace termsuite::scenario {

inline constexpr std::string_view kHeader = "# termsuite-scenario 1";

// A bad scenario: what() is "FILE:LINE: message" (line 0: the file as a whole).
class Error : public std::runtime_error {
 public:
  Error(const std::string& file, int line, const std::string& message);
  int line() const { return line_; }

 private:
  int line_;
};

enum class Op {
  start, job, event, set, await, wait, poll, exit_code, terminate, terminate_thread, terminate_job, close, open, ctrl,
  taskkill, settle, wait_all, assign, job_messages, waiters, join, name, open_named, release, pipe, read_pipe,
  write_pipe, parent, shutdown, close_window
};
std::string_view op_name(Op op);

// A reference to a handle the harness holds: "a" / "a.process" / "a.thread" / an opened name.
struct Ref {
  std::string name;
  enum class Part { process, thread, handle } part = Part::process;
  std::string text() const;  // canonical: "a", "a.thread", "h"
  friend bool operator==(const Ref&, const Ref&) = default;
};

struct Step {
  Op op{};
  int line = 0;
  std::string name;                 // start, job, event, open: what it defines; await: the actor;
                                    // set: the event; terminate-job: the job
  Ref ref;                          // wait, poll, exit-code, terminate, terminate-thread, close
  std::vector<std::string> verbs;   // start
  std::string job;                  // start ... in JOB
  bool new_group = false, new_console = false;  // start
  bool gui = false;                             // start: the GUI actor (actor-gui's verbs)
  bool kill_on_close = false, breakaway_ok = false;  // job
  bool silent_breakaway_ok = false, port = false;    // job
  bool tree = false, force = false;                  // taskkill
  std::string event;                // await: the record's name; open-named: event, section or
                                    // mutex; pipe: reads or writes
  std::uint32_t number = 0;         // await: count; terminate*: code; ctrl: type; open child-of,
                                    // thread-of: K; wait-all: N
  enum class IdOf { pid, tid, child, thread } id_of = IdOf::pid;  // open
  bool limited = false;             // open: OpenProcess without PROCESS_TERMINATE
  std::string target;               // open, taskkill, assign: the actor; ctrl: the group's actor
                                    // ("" = group 0); open-named: the object's name
  std::string text() const;         // canonical text of the step
  friend bool operator==(const Step&, const Step&) = default;
};

struct Scenario {
  std::vector<Step> steps;
  std::string text() const;  // canonical file: the header, then one step per line
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// Parses and checks a scenario: names defined once, before use, not used after `close`; the
// verbs parse as the console actor parses them. Throws Error.
Scenario parse(std::string_view text, const std::string& file = "scenario");

// ------------------------------------------------------------------------------------------
// Running it

struct Trace {
  // One line per step ("5 wait a: signaled"), then the records ("records a: [start ready]"),
  // then anything the run noticed about itself ("note: ..."), which is never compared.
  std::vector<std::string> lines;
  std::vector<std::string> notes;
  double seconds = 0;  // wall time of the run
};

struct RunOptions {
  // How long `wait` and `await` wait before they say timeout (virtual time on the simulator).
  std::chrono::milliseconds settle{10'000};
  // How long the end waits for the records of what it ended.
  std::chrono::milliseconds drain{5'000};
  // A console of the harness's own before the first actor starts, so that the actors share it
  // and a `ctrl` step reaches them (run() sets it for a scenario with a `ctrl` step).
  bool own_console = false;
  // The trace another platform (the model) gave: when set, the run stops at the first step whose
  // line differs from it (only the first difference is ever compared), ends what runs, and
  // reports the records, saying so in a note. A platform that differs early then costs no more
  // waiting for what the model expected next.
  std::vector<std::string> expected;
};

// Whether the scenario sends console control events (and so needs the harness's own console).
bool needs_console(const Scenario& s);

// Plays the scenario, step by step, on `system` (a fresh one: the scenario's names start empty).
class Player {
 public:
  Player(System& system, RunOptions options = {});
  ~Player();
  // Runs one step and returns its trace line. Throws Error if the step cannot run (a name that
  // does not exist, an actor that cannot start).
  std::string step(const Step& s);
  // Ends what still runs and returns the records lines. The Player cannot step afterwards.
  std::vector<std::string> finish();
  std::vector<std::string> notes() const { return notes_; }

  // The model-side questions the explorer asks while it writes a scenario (on the simulator only:
  // they have no side effect there): how many records of each name the actor's channel holds,
  // whether a handle is signaled now, whether an object with the actor's or a child's id exists.
  std::map<std::string, std::size_t> record_counts(const std::string& actor);
  std::optional<bool> signaled(const Ref& r);
  bool defined(const std::string& name) const;
  std::optional<std::uint32_t> id_of(const Step& open_step);
  std::vector<std::string> ended_roles(const std::string& actor);
  std::vector<std::string> roles_with(const std::string& actor, const std::string& ev);  // that wrote EV
  // Whether the job's port has had ACTIVE_PROCESS_ZERO by now, once, as its last message (so
  // `job-messages` would not wait, and the job did not fill again after it emptied).
  bool job_idle(const std::string& job);
  // Whether the K-th window the actor's own process created still exists.
  bool window_exists(const std::string& actor, std::uint32_t k);
  // Whether a read on the pipe's harness end would return now (data or a broken pipe).
  std::optional<bool> pipe_ready(const std::string& pipe);

 private:
  struct Impl;
  Impl* impl_;
  std::vector<std::string> notes_;
};

Trace run(const Scenario& s, System& system, RunOptions options = {});

// The canonical text of one record, the part of it that two platforms must agree on: its name
// and the fields that carry meaning (how, code, kind, result, what, error, name, type, reason),
// never ids, sequence numbers or times.
std::string canonical_record(const Event& e);

}  // namespace termsuite::scenario
