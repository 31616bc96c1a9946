#pragma once
// The runner's two main jobs: the conformance run (conform) and every test (test).
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "supervise.hpp"
#include "termsuite/platform.hpp"
#include "termsuite/preflight.hpp"
#include "termsuite/results.hpp"

namespace termsuite::runner {

struct MutantsOptions {
  std::filesystem::path native_build;  // bin/termsuite-sim
  bool verbose = true;                 // a line per mutant before the score
};

struct ConformOptions {
  std::filesystem::path native_build;      // the native build (bin/termsuite-sim)
  std::filesystem::path source_dir;        // the repository (docs/, results/)
  std::filesystem::path build_dir;         // the mingw build (bin/termsuite-live.exe, wine/)
  std::filesystem::path results_dir;       // where a full run writes <platform-id>.json, sim.json and the matrix
  std::filesystem::path expectations_dir;  // where <platform-id>.json is read
  std::filesystem::path run_dir;           // the run's JUnit file, the shards' streams and logs, and a
                                           // partial run's results and matrix
  // Suite processes in parallel. One more than the 2 cores it was measured on: the live tests
  // spend much of their time waiting (on Wine's process starts, on their deadlines), and a third
  // process cut a warm run by a quarter where a fourth gained little.
  int jobs = 3;
  int timeout_seconds = 300;               // for the whole suite run
  std::string filter;                      // --gtest_filter
  bool keep_wine = false;                  // leave the wineserver running afterwards
  bool take_run_lock = true;               // false only inside a run that holds it (bundle-test)
  std::string wine;                        // --wine: a launcher or a Wine build tree (else WINE, else PATH)
  std::string platform_id;                 // --platform-id: instead of the detected id
  std::string expectations_from;           // --expectations-from: a new platform's first expectations
};

// `termsuite doctor` (doctor.cpp): the preflight alone.
struct DoctorOptions {
  std::filesystem::path build_dir;  // the mingw build (Linux) or the unpacked bundle (Windows)
  std::string wine;                 // --wine, as conform's (Linux)
};

struct TestOptions {
  std::filesystem::path source_dir;
  std::filesystem::path native_build;
  std::filesystem::path mingw_build;
  int jobs = 2;
};

struct BundleTestOptions {
  std::filesystem::path mingw_build;  // where the bundle is made (target package)
  std::string version;                // the project's version, in the bundle's name
  ConformOptions conform;             // the Linux runner's run, to compare with
};

// `termsuite explore` (explore_command.cpp): scenarios nobody wrote, predicted by the simulator and
// played on the platform (docs/explore.md).
struct ExploreOptions {
  std::filesystem::path source_dir;        // docs/, results/
  std::filesystem::path build_dir;         // the mingw build (bin/termsuite-play.exe, wine/) or the bundle
  std::filesystem::path results_dir;       // results/explore/<platform>.json is written under it
  std::filesystem::path expectations_dir;  // the platform's known deviations and triaged findings
  std::filesystem::path run_dir;           // logs of the players
  double budget_seconds = 60;
  std::optional<std::uint64_t> seed;       // default: from the clock (printed)
  std::optional<int> scenarios;            // stop after this many
  bool sim_only = false;                   // the model alone: generation and prediction
  int jobs = 3;                            // players at once
  std::string replay;                      // a scenario file: play it, predict it, compare
  std::string mutant;                      // the model with this rule wrong (what a mutant would find)
  double mutant_score_seconds = 0;         // > 0: the explorer's mutation score on a corpus this long
  bool skip_known = false;                 // leave the paths of the platform's known deviations alone
  std::string wine;                        // --wine, as conform's
  bool keep_wine = false;                  // leave the wineserver running (inside ctest's fixture)
  std::filesystem::path out;               // instead of results/explore/ (the gate's runs)
  bool quiet = false;
  int show = 0;                            // --sim-only: print this many scenarios and their predictions
};
int explore(const ExploreOptions& o);

// A suite's answer to --termsuite-describe (with the run's filter): its platform and the tests it
// lists. EnvError when it did not start or its platform line is unreadable; `run.ok()` is false
// when its expectations check failed (the caller loads the expectations first, for their error).
struct Described {
  Finished run;
  Platform platform;
  preflight::Report preflight;  // the suite's preflight line
  std::vector<std::string> names;
  std::set<std::string> may_run_long;  // tests the suite says may wait long for the platform
};
Described describe_suite(const Command& describe, std::string_view what);

// Each returns the process exit code: 0 all good, 1 failures, 2 usage or environment error.
int conform(const ConformOptions& o);
// 0 every test can run on this machine, 1 some would be skipped, 2 an environment error.
int doctor(const DoctorOptions& o);
int run_tests(const TestOptions& o);
// Runs the simulator suite against every mutant; prints "mutants killed: K/N".
int mutants(const MutantsOptions& o);
// The Windows bundle made, unpacked outside the build tree and run under Wine: the same verdict
// and outcomes as the Linux runner's conform.
int bundle_test(const BundleTestOptions& o);

// One run of the simulator's suite (natively, no Wine), optionally with a mutant, optionally of the
// tests a GoogleTest filter selects (a filtered conform's).
struct SimRun {
  Finished finished;
  RunResults results;
  std::vector<std::string> problems;
};
SimRun run_sim_suite(const std::filesystem::path& native_build, const std::string& mutant,
                     const std::filesystem::path& stream, const std::string& filter = {});

}  // namespace termsuite::runner
