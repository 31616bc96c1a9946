#pragma once
// Starting host processes with Boost.Process, each with a deadline: a child that outlives its
// deadline is killed and reported as timed out. Ctrl+C (SIGINT/SIGTERM) kills every child this
// runner supervises, so the caller can clean up and exit. A runner killed outright (SIGKILL)
// cleans nothing up, so the kernel does it: every child of run() gets SIGKILL when the runner
// dies (PR_SET_PDEATHSIG), and so does a child of spawn_detached() that is to die with it.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "termsuite/deadline.hpp"
#include "termsuite/preflight.hpp"

namespace termsuite::runner {

class EnvError : public std::runtime_error {  // exit 2: the environment is not usable
  using std::runtime_error::runtime_error;
};

class Interrupted : public std::runtime_error {  // exit 130: the user pressed Ctrl+C
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

struct Command {
  std::string program;  // a path, or a name looked up on PATH
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // added to (or replacing in) this process's environment
  std::vector<std::string> unset;          // removed from it
  std::filesystem::path cwd;               // empty: inherit
};

struct Finished {
  int exit_code = -1;       // the exit status, or -1 if killed by a signal
  int signal = 0;           // the signal that ended it, if any
  bool timed_out = false;   // killed by us at its deadline
  bool interrupted = false; // killed by us because the user pressed Ctrl+C
  std::string output;       // stdout and stderr, when captured
  bool ok() const { return exit_code == 0 && !timed_out && !interrupted; }
};

enum class Output { inherit, capture, discard };

// What run() does with a log file that exists: empty it first, or add to its end.
enum class LogMode { replace, append };

// Runs to completion or deadline. `log` (if set, emptied first unless `mode` is append)
// receives stdout and stderr. Never throws for how the child ended: callers check Finished, and
// throw_if_interrupted() on the main thread between steps. The child dies with the runner
// (SIGKILL); a process it forks does not (the kernel clears the death signal on fork).
Finished run(const Command& c, Deadline d, Output out = Output::capture,
             const std::optional<std::filesystem::path>& log = std::nullopt, LogMode mode = LogMode::replace);

// Starts without waiting (Xvfb, the guard of a run). Returns the pid. stdout/stderr go to `log`
// (emptied first).
struct Detach {
  // The child gets SIGTERM when this runner ends, however it ends. The kernel sends it when the
  // *thread* that started the child ends, so only the main thread may ask for it (it ends with
  // the process); EnvError otherwise. If false, the child lives on (the ctest fixtures' Xvfb,
  // until wine-down).
  bool dies_with_runner = false;
  // A session of its own (setsid): a signal to the runner's process group or a hangup of its
  // terminal does not reach it.
  bool own_session = false;
  // A descriptor of this process the child keeps across exec, under the same number (all others
  // the runner opens are close-on-exec).
  int keep_fd = -1;
};
int spawn_detached(const Command& c, const std::filesystem::path& log, Detach how);

// A whole file as text (empty if it cannot be read).
std::string read_text_file(const std::filesystem::path& p);

// Looks a program up on PATH; empty if absent.
std::string find_program(const std::string& name);

// Signal handling for the runner's long commands: call once, first thing, before any thread.
void install_interrupt_handling();
bool interrupted();
void throw_if_interrupted();  // throws Interrupted after Ctrl+C

#ifdef _WIN32
// Under Wine, termsuite.exe's address-space finding (preflight.hpp, address_space.hpp): whether
// the Wine that runs it has its preloader, and if not, that the suite processes start under
// `setarch -R`. nullopt on Windows.
std::optional<preflight::Finding> wine_address_space_finding();
#endif

}  // namespace termsuite::runner
