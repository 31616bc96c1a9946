#pragma once
// The runner's two main jobs: the conformance run (conform) and every test (test).
#include <filesystem>
#include <string>
#include <vector>

#include "supervise.hpp"
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
