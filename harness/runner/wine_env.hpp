#pragma once
// The Wine environment of a build tree: a private WINEPREFIX (created once, reused), one warm
// wineserver for the run, and Xvfb on a free display when no DISPLAY is set. Everything it starts
// it also stops (down), including any Wine process of this prefix left behind.
//
// State lives in one folder (the mingw build's wine/): prefix/, state.json, logs, and a lock
// file so parallel `wine-exec` calls (ctest -j) bring the environment up once.
#include <filesystem>
#include <string>
#include <vector>

namespace termsuite::runner {

class WineEnv {
 public:
  explicit WineEnv(std::filesystem::path state_dir);

  void up();           // idempotent; throws EnvError with a one-line reason
  // Stops the server, Xvfb and every leftover process of the prefix. Returns one line per
  // leftover that had to be killed (empty when everything stopped as asked).
  std::vector<std::string> down();
  // Replaces this process with `wine program args...` in the environment (up() first if the
  // server is not running). Used as CMAKE_CROSSCOMPILING_EMULATOR.
  [[noreturn]] void exec(const std::vector<std::string>& program_and_args);

  // The environment variables a Wine process of this run needs.
  std::vector<std::pair<std::string, std::string>> variables() const;
  std::string wine_program() const;
  const std::filesystem::path& state_dir() const { return dir_; }
  bool server_running() const;

 private:
  void up_locked();
  void create_prefix();
  void configure_prefix();
  void start_server();
  void start_xvfb();
  void load_state();
  void save_state() const;
  int server_pid() const;  // the pid holding the server lock for this prefix, 0 if none

  std::filesystem::path dir_;
  std::filesystem::path prefix_;
  std::string display_;  // the DISPLAY Wine uses (ours or the user's)
  int xvfb_pid_ = 0;
};

// Processes whose environment names this WINEPREFIX (Linux /proc scan).
std::vector<int> processes_of_prefix(const std::filesystem::path& prefix);

}  // namespace termsuite::runner
