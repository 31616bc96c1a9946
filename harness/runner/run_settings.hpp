#pragma once
// The per-run settings a preflight finding asks for (preflight::Setting: a REG_DWORD of the
// current user's hive, such as Wine's HKCU\Software\Wine\WineDbg\ShowCrashDialog=0, which Wine's
// own test runner winetest sets around its run and restores: programs/winetest/main.c,
// disable_crash_dialog and restore_crash_dialog), applied for one run and put back exactly as they
// were when it ends, however it ends:
//
// - before changing anything, the old state (key there or not, value there or not, its type and
//   bytes) goes to a journal, %LOCALAPPDATA%\termsuite\run-settings.json, naming the run;
// - a guard process (`termsuite.exe settings-guard`, outside the run's job, in a session of its
//   own so that Ctrl+C and a closed terminal do not reach it) waits for the run's process and
//   restores from the journal if the run ended without doing so (killed, crashed);
// - the run restores at its end and deletes the journal; the next run or doctor restores
//   whatever a journal still records when its run is gone (the guard was killed too), and a run
//   whose journal names a live run stops with exit 2 instead of saving that run's values.
//
// On Windows (and under Wine) this is termsuite.exe's. The Linux runner applies none: its private
// prefix is made without a post-mortem debugger, so no finding asks it for a setting.
#include <filesystem>
#include <memory>
#include <vector>

#include "termsuite/preflight.hpp"

namespace termsuite::runner {

class RunSettings {
 public:
  RunSettings();
  RunSettings(const RunSettings&) = delete;
  RunSettings& operator=(const RunSettings&) = delete;
  ~RunSettings();  // restores what apply() changed

  // What an earlier run left changed, restored now (one line each on stdout). EnvError if the run
  // that changed it is still running.
  static void recover();
  // Applies the setting of each finding that has one (a skip, or a note); returns the findings
  // with the skips neutralised (a setting that could not be made leaves its finding as it was,
  // saying why).
  std::vector<preflight::Finding> apply(std::vector<preflight::Finding> findings);
  // What applying would do, for the doctor: the findings as conform would run with them.
  static std::vector<preflight::Finding> as_conform_would(std::vector<preflight::Finding> findings);

  // `termsuite.exe settings-guard`: waits until the run (`owner`, a process handle it inherited)
  // ends, then restores from `journal` if the run did not. Returns the exit code.
  static int guard(const std::filesystem::path& journal, unsigned long long owner);

 private:
  struct State;  // what apply() changed, and its journal
  std::unique_ptr<State> state_;
};

}  // namespace termsuite::runner
