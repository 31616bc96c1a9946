#pragma once
// The Wine environment of a build tree: a private WINEPREFIX (created once, reused), one warm
// wineserver for the run, and Xvfb on a free display when no DISPLAY is set. Everything it starts
// it also stops (down), including any Wine process of this prefix left behind.
//
// State lives in one folder per Wine under test (wine_under_test.hpp), <root>/<key>/ (the root is
// the mingw build's wine/): prefix/, state.json, logs, and a lock file so parallel `wine-exec`
// calls (ctest -j) bring the environment up once. Each Wine has its own prefix and wineserver.
//
// Nothing of it outlives its owner for good. state.json names the owner, the process the
// environment lives for, and what was started (Xvfb); every up() first checks that the owner is
// still there, and if it is gone (killed, or a ctest that never reached wine-down) stops what it
// left before starting afresh.
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wine_under_test.hpp"

namespace termsuite::runner {

// How long what up() starts lives.
enum class Lifetime {
  // As long as this runner (conform, test). Its Xvfb dies with it even on SIGKILL (the kernel's
  // parent-death signal), as do the Wine processes it runs; the wineserver then stops on its own
  // 30 s after its last Windows process, and the next up() stops anything still there.
  run,
  // Until wine-down (wine-up and wine-exec, the ctest fixtures; conform --keep-wine): it must
  // outlive this process. Its owner is this process's parent (ctest, a shell); once that is gone
  // the next up() stops what is left.
  kept,
};

class WineEnv {
 public:
  // The environment of `wine` under `state_root` (its folder: state_root / wine.key()).
  WineEnv(const std::filesystem::path& state_root, WineUnderTest wine);

  // Idempotent; throws EnvError with a one-line reason. Leftovers of a gone owner are stopped
  // first, each said on stderr. A DISPLAY that is set but does not answer is replaced by a private
  // Xvfb, said in one line.
  void up(Lifetime lifetime);
  // Stops the server, Xvfb and every leftover process of the prefix. Returns one line per
  // leftover that had to be killed (empty when everything stopped as asked).
  std::vector<std::string> down();
  // Replaces this process with `wine program args...` in the environment (up(Lifetime::kept)
  // first). Used as CMAKE_CROSSCOMPILING_EMULATOR.
  [[noreturn]] void exec(const std::vector<std::string>& program_and_args);

  // `termsuite-runner wine-guard`: waits until the runner that owns the environment ends (the
  // pipe `fd` closes), then stops what it left, if it still owns it. Started by up() for a run,
  // with the run's Wine in WINE and WINESERVER.
  static int guard(const std::filesystem::path& state_root, int fd, int owner_pid, const std::string& owner_start);

  // The environment variables a Wine process of this run needs.
  std::vector<std::pair<std::string, std::string>> variables() const;
  std::string wine_program() const;
  const std::filesystem::path& state_dir() const { return dir_; }
  bool server_running() const;
  // The wineserver of this prefix: the process holding the lock of its server folder.
  struct Server {
    int pid = 0;                       // 0: none (the lock is free)
    std::filesystem::path dir;         // its server folder (`lock`, `socket`)
    std::filesystem::path exe;         // the binary it runs (/proc/<pid>/exe)
  };
  Server find_server() const;

 private:
  // One process, told apart from a later one with the same pid (after a reboot or pid reuse).
  struct ProcessId {
    int pid = 0;
    std::string start;  // the boot id and the process's start time in clock ticks
    bool alive() const;
    static ProcessId of(int pid);
  };

  // What down() does, under the lock already held: one line per process stopped.
  struct Stopped {
    std::vector<std::string> asked;   // stopped when asked: "wineserver (pid N)", "Xvfb (pid N)"
    std::vector<std::string> killed;  // had to be killed: "left running: pid N (comm)", ...
  };
  void up_locked(Lifetime lifetime);
  Stopped stop_locked();
  void create_prefix();
  void configure_prefix();
  // A server of the Wine under test for the prefix, accepting clients: the one running if it is
  // ours, else one started here.
  void ensure_server();
  void start_server();
  // Whether `s` runs the wineserver under test; if not, `why` says what it runs instead.
  bool server_is_ours(const Server& s, std::string& why) const;
  void stop_foreign_server(const Server& s, const std::string& why);
  // Where Wine puts the server folder of this prefix (wine_env.cpp says which Wine does what).
  std::vector<std::filesystem::path> server_dirs() const;
  // A line in a log that several starts share: who writes, and when.
  void log_line(const std::filesystem::path& log, const std::string& text) const;
  void start_xvfb(Lifetime lifetime, const std::string& why);  // why: "DISPLAY is not set", ...
  void start_guard();
  bool xvfb_alive() const;
  std::vector<int> xvfb_processes() const;  // every Xvfb this state folder started
  void load_state();
  void save_state() const;

  WineUnderTest wine_;
  std::filesystem::path dir_;
  std::filesystem::path prefix_;
  bool phase_to_stderr_ = false;  // exec(): the prefix phase's line on stderr, not the program's stdout
  std::string display_;  // the DISPLAY Wine uses (ours or the user's)
  int xvfb_pid_ = 0;
  ProcessId owner_;      // the process the environment lives for; pid 0: none recorded
  int guard_pipe_ = -1;  // the runner's end of its guard's pipe (Lifetime::run)
};

// Stops an environment (down()) when it goes, however the scope that brought it up ends, and says
// on stderr what had to be killed; `keep` leaves it up (conform --keep-wine).
struct DownOnExit {
  WineEnv& env;
  bool keep = false;
  ~DownOnExit() {
    if (keep) return;
    for (const auto& line : env.down()) fmt::print(stderr, "termsuite: {}\n", line);
  }
};

// Processes whose environment names this WINEPREFIX (Linux /proc scan).
std::vector<int> processes_of_prefix(const std::filesystem::path& prefix);
// Processes whose environment holds this exact NAME=value entry (Linux /proc scan), this one
// excepted; with exe_part, only those whose executable's path contains it.
std::vector<int> processes_with_env(const std::string& entry, const std::string& exe_part = "");

}  // namespace termsuite::runner
