#pragma once
// termsim: scenario files run on the simulator's model, a timeline of what happened, and an
// explanation of what keeps a dead process's object alive (the question of Raymond Chen's "Why are there all these processes lingering near death").
//
//   Scenario   a parsed file: one action per line (grammar: docs/termsim.md)
//   Runner     executes the actions one step at a time against a sim::Model, as the harness
//   explain()  for every terminated (or still terminating) process whose object exists, the
//              chain of what keeps it, from Model::keepers()
//
// Everything here reports bad input by throwing ScenarioError ("FILE:LINE: what was expected");
// nothing else escapes for a file, whatever it contains.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/report.hpp"
#include "termsuite/sim/model.hpp"

namespace termsuite::termsim {

using Json = nlohmann::ordered_json;

// A bad scenario (or a scenario the simulator cannot run): what() is "FILE:LINE: message".
class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(std::string file, int line, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string message_;
};

inline constexpr std::uint64_t kDefaultWaitMs = 10'000;

// ------------------------------------------------------------------------------------------
// The scenario

// A harness handle, by the name the scenario gave it: "NAME.process", "NAME.thread" (an actor's
// PROCESS_INFORMATION handles), "JOB" (a job), "H" (a handle from `open`).
struct Slot {
  std::string key;
  sim::ObjectKind kind = sim::ObjectKind::process;
};

// A process or thread named by its id: `pid 112`, `tid 116`, `pid-of NAME`, `tid-of NAME`.
struct IdRef {
  sim::ObjectKind kind = sim::ObjectKind::process;  // process or thread
  std::string actor;                                // pid-of/tid-of NAME; empty: `id` is literal
  std::uint32_t id = 0;
  std::string text() const;
};

struct Expectation {
  enum class Subject { handle, id, corpses } subject = Subject::handle;
  Slot slot;          // handle
  std::string actor;  // handle: the actor, when the subject is a plain actor name (for `reported`)
  IdRef id;           // id
  enum class Property { exit_code, signaled, unsignaled, state, exists, gone, reported, count } property{};
  std::uint32_t number = 0;  // exit code, corpse count, record count
  bool has_number = false;   // reported EV N
  std::string word;          // state name or event name
};

struct Action {
  enum class Kind { start, wait, terminate, close, job, open, advance, driver_delay, expect } kind{};
  int line = 0;
  std::string text;               // the line as written, without its comment
  std::string name;               // start, job, open: the name it defines
  Slot slot;                      // wait, terminate, close: the handle
  std::optional<Slot> job;        // start ... in JOB
  std::vector<std::string> argv;  // start: the actor's verbs (repeat expanded)
  std::uint64_t number = 0;       // wait/advance/driver-delay: ms; terminate: exit code
  bool kill_on_close = false;     // job
  IdRef open;                     // open
  Expectation expect;             // expect
};

struct Scenario {
  std::string file;
  std::vector<Action> actions;
};

// Parses a scenario; `file` is used in error messages. Throws ScenarioError.
Scenario parse_scenario(std::string_view text, const std::string& file);
// Reads and parses FILE. Throws ScenarioError (line 0 if the file cannot be read).
Scenario load_scenario(const std::string& path);

// ------------------------------------------------------------------------------------------
// Running it

struct ThreadState {
  std::uint32_t tid = 0;
  bool main = false;
  std::string state;            // running, terminating, terminated
  std::string blocked;          // "", "object", "forever", "io"
  bool io_pending = false;      // a driver holds a request of this thread
  std::uint32_t exit_code = 0;  // GetExitCodeThread
  bool signaled = false;
};

struct ProcessState {
  std::uint32_t pid = 0;
  std::uint32_t parent_pid = 0;
  std::string image;
  std::string name;  // the scenario's name for it, if the harness started it
  bool harness = false;
  std::string state;
  std::uint32_t exit_code = 0;  // GetExitCodeProcess
  bool signaled = false;
  std::uint64_t job = 0;
  std::vector<std::pair<std::uint64_t, std::string>> handles;  // value, what it refers to
  std::vector<ThreadState> threads;                            // the thread objects that exist
};

struct JobState {
  std::uint64_t id = 0;
  std::string name;
  bool kill_on_close = false;
  bool closed = false;
  std::vector<std::uint32_t> members;  // pids
};

struct Snapshot {
  std::vector<ProcessState> processes;  // harness first, then by object creation
  std::vector<JobState> jobs;
};

struct StepResult {
  int step = 0;  // 1-based
  const Action* action = nullptr;
  std::uint64_t t_start = 0, t_end = 0;
  std::string outcome;                // one line: what the action did
  Json result;                        // the same, for --json
  std::vector<sim::TraceLine> trace;  // the model's trace lines of this step
  std::vector<Event> records;         // records the actors wrote during this step
  std::optional<bool> passed;         // expect: passed or not
  Snapshot objects;                   // after the step
};

class Runner {
 public:
  explicit Runner(const Scenario& scenario, sim::Mutant mutant = sim::Mutant::none);

  std::size_t steps() const { return scenario_.actions.size(); }
  std::size_t done() const { return next_; }
  bool finished() const { return next_ >= scenario_.actions.size(); }
  // Runs the next action. Throws ScenarioError if the simulator cannot run it.
  StepResult step();

  const sim::Model& model() const { return model_; }
  const Scenario& scenario() const { return scenario_; }
  Snapshot snapshot() const;

  // Names the scenario gave: the harness-started processes (by object), harness handles.
  std::optional<std::string> process_name(sim::ObjectId process) const;
  std::optional<std::string> handle_name(std::uint64_t harness_handle) const;
  // "process 104 (actor-console) "launcher"".
  std::string describe(sim::ObjectId id) const;

 private:
  struct ActorInfo {
    std::uint32_t pid = 0, tid = 0;
    int channel = -1;
  };
  std::optional<sim::ObjectId> object(const Slot& s) const;
  std::optional<sim::ObjectId> object(const IdRef& r) const;
  std::uint32_t id_of(const IdRef& r) const;
  void run_action(const Action& a, StepResult& r);
  void run_expect(const Action& a, StepResult& r);

  Scenario scenario_;
  sim::Model model_;
  std::size_t next_ = 0;
  std::size_t trace_seen_ = 0;
  std::vector<std::size_t> channel_seen_;
  std::map<std::string, std::uint64_t> handles_;  // slot key -> harness handle (while open)
  std::map<std::string, ActorInfo> actors_;
  std::map<sim::ObjectId, std::string> process_names_;
  std::vector<int> channels_;
};

// The timeline of a whole run, as text or as one JSON document.
struct RunOptions {
  enum class Objects { all, changed, none } objects = Objects::all;
};
struct RunSummary {
  int expectations = 0;
  int failed = 0;
};
// Runs every step, writing the timeline to `out`. Throws ScenarioError.
RunSummary run_text(Runner& runner, std::string& out, const RunOptions& options = {});
RunSummary run_json(Runner& runner, Json& out);

Json to_json(const Snapshot& s);
Json to_json(const StepResult& r);

// ------------------------------------------------------------------------------------------
// Explaining corpses

// One reason an object exists, and, recursively, why the reason holds.
struct Reason {
  enum class Kind { running, terminating, handle, thread, driver, job_member, holder, other } kind = Kind::other;
  std::string text;                   // the model's Keeper::reason (or termsim's, for a holder's state)
  std::string note;                   // termsim's reading of it, e.g. "leaked PROCESS_INFORMATION.hThread"
  std::uint32_t holder_pid = 0;       // handle: the process whose handle table holds it
  std::uint64_t handle = 0;           // handle: its value
  std::string holder_name;            // handle: the scenario's name of the holder or the handle
  bool leaked_thread_handle = false;  // handle: PROCESS_INFORMATION.hThread never closed
  std::vector<Reason> because;
};

struct Corpse {
  std::uint32_t pid = 0;
  std::uint32_t parent_pid = 0;
  std::string description;  // "process 112 (actor-console), spawned by process 104 "launcher""
  std::string name;
  std::string state;  // terminated or terminating
  std::string how;    // how it was told to end: "returned from main", "TerminateProcess", ...
  std::uint32_t exit_code = 0;
  std::optional<std::uint64_t> since;     // when it ended (or began terminating)
  std::vector<std::uint32_t> thread_ids;  // the thread objects that still exist (ids reserved)
  std::vector<Reason> keepers;
  std::string cause;  // a one-line summary of the root causes (for grouping)
};

struct Explanation {
  std::string file;
  std::size_t step = 0, steps = 0;
  int line = 0;  // the line of step `step` (0 at step 0)
  std::string action;
  std::uint64_t t = 0;
  std::vector<Corpse> corpses;
};

// Explains the state the runner has reached.
Explanation explain(const Runner& runner);
std::string render_text(const Explanation& e);
Json to_json(const Explanation& e);

}  // namespace termsuite::termsim
