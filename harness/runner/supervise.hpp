#pragma once
// Starting host processes with Boost.Process, each with a deadline: a child that outlives its
// deadline is killed and reported as timed out. Ctrl+C (SIGINT/SIGTERM) kills every child this
// runner supervises, so the caller can clean up and exit.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "termsuite/deadline.hpp"

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

// Runs to completion or deadline. `log` (if set) receives stdout and stderr instead.
// Never throws for how the child ended: callers check Finished, and throw_if_interrupted()
// on the main thread between steps.
Finished run(const Command& c, Deadline d, Output out = Output::capture,
             const std::optional<std::filesystem::path>& log = std::nullopt);

// Starts without waiting: for processes that must outlive this runner (wineserver, Xvfb).
// Returns the pid. stdout/stderr go to `log`.
int spawn_detached(const Command& c, const std::filesystem::path& log);

// A whole file as text (empty if it cannot be read).
std::string read_text_file(const std::filesystem::path& p);

// Looks a program up on PATH; empty if absent.
std::string find_program(const std::string& name);

// Signal handling for the runner's long commands: call once, first thing, before any thread.
void install_interrupt_handling();
bool interrupted();
void throw_if_interrupted();  // throws Interrupted after Ctrl+C

}  // namespace termsuite::runner
