// termsuite-runner: the native front end. ./termsuite bootstraps (packages, configure, build)
// and hands over to it. Built for Windows too, as the bundle's termsuite.exe, with `conform`
// only: the suite runs directly (no Wine), from the folder the bundle was unpacked into.
//
//   conform    run the live suite, compare with the platform's expectations, write results
//   doctor     the preflight alone: one line per check of this machine (doctor.cpp)
//   test       every test of both builds
//   report     the conformance matrix of every results file: results/report.html, results/MATRIX.md
//   mutants    the simulator's suite against every mutant: "mutants killed: K/N"
//   compare OLD NEW          what changed between two results files (or folders of them)
//   expectations update      a platform's expectations file brought in line with its last full run
//   wine-up / wine-down / wine-exec    the Wine environment (wine-exec is the CMake emulator)
//   wine-guard (hidden; conform and test start it)    stops what a run killed outright left
//   settings-guard (hidden, Windows; conform starts it)    restores a per-run setting a killed run left
//
// Exit codes: 0 good, 1 failures (regression or unexpected pass), 2 usage or environment error.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <fmt/format.h>

#include "commands.hpp"
#include "report_command.hpp"
#include "run_settings.hpp"
#include "compare.hpp"
#include "expectations_update.hpp"
#include "supervise.hpp"
#include "termsuite/claims.hpp"
#include "termsuite/expectations.hpp"
#include "termsuite/platform.hpp"
#ifdef _WIN32
#include "termsuite/win32.hpp"
#else
#include "wine_env.hpp"
#endif

namespace fs = std::filesystem;
using namespace termsuite;
using namespace termsuite::runner;

int main(int argc, char** argv) {
  CLI::App app{"termsuite: conformance of Windows process termination, run and reported"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all");

  ConformOptions co;
#ifdef _WIN32
  // The bundle: termsuite.exe, bin/ (the suite, the actors), docs/claims.json, results/.
  const fs::path source = fs::path(win32::module_dir());
  co.build_dir = source;
#else
  const fs::path source = TERMSUITE_SOURCE_DIR;
  co.build_dir = source / "build" / "mingw";
#endif
  co.source_dir = source;
  co.native_build = source / "build" / "native";
  co.results_dir = source / "results";
  co.expectations_dir = source / "results" / "expectations";
  auto* conform_cmd = app.add_subcommand("conform", "run the live suite and gate it against the platform's expectations");
#ifdef _WIN32
  conform_cmd->add_option("--build", co.build_dir, "the folder of bin/termsuite-live.exe")->capture_default_str();
#else
  conform_cmd->add_option("--build", co.build_dir, "the mingw build folder")->capture_default_str();
#endif
  conform_cmd->add_option("--results", co.results_dir,
                          "where a full run writes <platform>.json, sim.json and the matrix (a partial run: its run folder)")
      ->capture_default_str();
  conform_cmd->add_option("--expectations", co.expectations_dir, "where <platform>.json expectations are read")
      ->capture_default_str();
  conform_cmd->add_option("-j,--jobs", co.jobs, "suite processes in parallel")->check(CLI::Range(1, 64))->capture_default_str();
  conform_cmd->add_option("--timeout", co.timeout_seconds, "deadline for the whole suite, in seconds")
      ->check(CLI::Range(1, 86400))->capture_default_str();
  conform_cmd->add_option("--filter", co.filter,
                          "a GoogleTest filter (e.g. 'ExitCode.*'): a partial run, whose results go to its run folder");
  const CLI::Validator platform_id_check(
      [](std::string& id) { return platform_id_problem(id); }, "PLATFORM-ID");
  conform_cmd->add_option("--platform-id", co.platform_id, "the platform's id instead of the detected one")
      ->check(platform_id_check);
  conform_cmd->add_option("--expectations-from", co.expectations_from,
                          "start a new platform's expectations as a copy of this platform's")
      ->check(platform_id_check);
  // The preflight alone, on Linux and in the Windows bundle alike.
  DoctorOptions dop;
  auto* doctor_cmd = app.add_subcommand("doctor", "check this machine for what would change the suite's verdicts "
                                                  "(exit 1 if some tests would be skipped)");
  dop.build_dir = co.build_dir;
#ifdef _WIN32
  doctor_cmd->add_option("--build", dop.build_dir, "the folder of bin/termsuite-live.exe")->capture_default_str();
  // Started by conform (not for users): restores a per-run setting if conform ends without doing so.
  std::filesystem::path guard_journal;
  unsigned long long guard_owner = 0;
  auto* settings_guard_cmd = app.add_subcommand("settings-guard", "")->group("");
  settings_guard_cmd->add_option("--journal", guard_journal)->required();
  settings_guard_cmd->add_option("--owner", guard_owner)->required();
#else
  doctor_cmd->add_option("--build", dop.build_dir, "the mingw build folder")->capture_default_str();
  doctor_cmd->add_option("--wine", dop.wine, "the Wine to check: a wine launcher or the top of a Wine build tree "
                                             "(default: $WINE, else wine on PATH)");
#endif
  // The everyday tools, on Linux and in the Windows bundle alike.
  CompareOptions cmp;
  auto* compare_cmd = app.add_subcommand("compare", "what changed between two results files, or two folders of them "
                                                    "(exit 1 if anything regressed)");
  compare_cmd->add_option("old", cmp.old_path, "the earlier results file or folder")->required();
  compare_cmd->add_option("new", cmp.new_path, "the later results file or folder")->required();
  compare_cmd->add_flag("--markdown", cmp.markdown, "Markdown, for a pull-request comment");

  UpdateOptions uo;
  uo.results_dir = co.results_dir;
  uo.expectations_dir = co.expectations_dir;
  auto* expectations_cmd = app.add_subcommand("expectations", "a platform's expectations file");
  expectations_cmd->require_subcommand(1);
  auto* update_cmd = expectations_cmd->add_subcommand(
      "update", "rewrite the platform's expectations from its last full run: remove what passes, add each new "
                "failure as UNTRIAGED");
  update_cmd->add_option("--platform", uo.platform, "the platform id (default: the one results file not sim.json)")
      ->check(platform_id_check);
  update_cmd->add_option("--results", uo.results_dir, "where <platform>.json results are read")->capture_default_str();
  update_cmd->add_option("--expectations", uo.expectations_dir, "where the expectations file is rewritten")
      ->capture_default_str();

  double conform_explore = 0;
  conform_cmd->add_option("--explore", conform_explore,
                          "then explore for SECONDS (termsuite explore): a new finding fails the run as a regression does")
      ->check(CLI::PositiveNumber);
#ifndef _WIN32
  conform_cmd->add_flag("--keep-wine", co.keep_wine, "leave the wineserver running afterwards");
  conform_cmd->add_option("--wine", co.wine, "the Wine to test: a wine launcher or the top of a Wine build tree "
                                             "(default: $WINE, else wine on PATH)");

  TestOptions to;
  to.source_dir = source;
  to.native_build = source / "build" / "native";
  to.mingw_build = source / "build" / "mingw";
  auto* test_cmd = app.add_subcommand("test", "run every test: unit tests, the suite on each backend, the gate");
  test_cmd->add_option("-j,--jobs", to.jobs, "tests in parallel")->check(CLI::Range(1, 64))->capture_default_str();

  MutantsOptions mo;
  mo.native_build = source / "build" / "native";
  auto* mutants_cmd = app.add_subcommand("mutants", "run the simulator's suite against every mutant (one wrong rule each)");
  mutants_cmd->add_flag("--quiet", [&](std::int64_t) { mo.verbose = false; }, "only the score line");

  // A ctest test of the mingw build (not for users): the Windows bundle against the Linux runner.
  BundleTestOptions bo;
  auto* bundle_cmd = app.add_subcommand("bundle-test", "")->group("");
  bundle_cmd->add_option("--build", bo.mingw_build)->required();
  bundle_cmd->add_option("--version", bo.version)->required();

  fs::path state;
  std::vector<std::string> program;
  auto* up_cmd = app.add_subcommand("wine-up", "create the prefix if needed, start the wineserver (and Xvfb)");
  auto* down_cmd = app.add_subcommand("wine-down", "stop the wineserver, Xvfb and anything left of the prefix");
  auto* exec_cmd = app.add_subcommand("wine-exec", "run a Windows program in the environment (CMake's emulator)");
  // Started by conform and test (not for users): stops what a run killed outright left running.
  auto* guard_cmd = app.add_subcommand("wine-guard", "")->group("");
  int guard_fd = -1, guard_owner_pid = 0;
  std::string guard_owner_start;
  guard_cmd->add_option("--fd", guard_fd)->required();
  guard_cmd->add_option("--owner-pid", guard_owner_pid)->required();
  guard_cmd->add_option("--owner-start", guard_owner_start)->required();
  for (auto* c : {up_cmd, down_cmd, exec_cmd, guard_cmd}) c->add_option("--state", state, "the Wine state folder (a folder per Wine in it)")->required();
  exec_cmd->add_option("program", program, "the program and its arguments (after --)")->required();

#endif
  // The conformance matrix of every results file (conform writes it too, at its end).
  ReportOptions ro{source / "docs" / "claims.json", co.results_dir, co.expectations_dir, {}, source};
  auto* report_cmd = app.add_subcommand("report", "write the conformance matrix of every results/*.json: "
                                                  "results/report.html and results/MATRIX.md");
  report_cmd->add_option("--results", ro.results_dir, "the folder of the results files")->capture_default_str();
  report_cmd->add_option("--expectations", ro.expectations_dir, "where the platforms' expectations are read")
      ->capture_default_str();
  report_cmd->add_option("--catalog", ro.catalog, "the claims catalog")->capture_default_str();
  report_cmd->add_option("--out", ro.out_dir, "where report.html and MATRIX.md go (default: the results folder)");
  ExploreOptions eo;
  std::uint64_t explore_seed = 0;
  auto* explore_cmd = app.add_subcommand("explore", "scenarios nobody wrote: predicted by the simulator, played on the "
                                                    "platform, disagreements confirmed, shrunk and triaged (docs/explore.md)");
  explore_cmd->add_option("--budget", eo.budget_seconds, "seconds to explore")->capture_default_str()->check(CLI::PositiveNumber);
  auto* seed_opt = explore_cmd->add_option("--seed", explore_seed, "the generator's seed (default: from the clock, printed)");
  explore_cmd->add_option("--scenarios", eo.scenarios, "stop after this many scenarios")->check(CLI::PositiveNumber);
  explore_cmd->add_option("--jobs", eo.jobs, "players at once")->capture_default_str()->check(CLI::Range(1, 16));
  explore_cmd->add_flag("--sim-only", eo.sim_only, "the model alone: generation and prediction, no platform");
  explore_cmd->add_option("--replay", eo.replay, "play one scenario file (a finding's) and compare it with the model");
  explore_cmd->add_option("--mutant", eo.mutant, "predict with this mutant's model (one rule wrong)");
  explore_cmd->add_flag("--skip-known", eo.skip_known,
                        "leave alone the paths that only meet the platform's known deviations again (its expectations)");
  explore_cmd->add_option("--mutant-score", eo.mutant_score_seconds,
                          "play SECONDS of scenarios, then print how many mutants' models they tell from the platform")
      ->check(CLI::PositiveNumber);
  explore_cmd->add_option("--out", eo.out, "where the results go (default: results/explore)");
  explore_cmd->add_flag("--quiet", eo.quiet, "no progress lines");
  explore_cmd->add_option("--show", eo.show, "with --sim-only: print this many scenarios and the model's traces")
      ->check(CLI::NonNegativeNumber);
#ifndef _WIN32
  explore_cmd->add_option("--wine", eo.wine, "as conform's --wine");
  explore_cmd->add_flag("--keep-wine", eo.keep_wine, "leave the wineserver running afterwards");
#endif
  try {
    app.parse(argc, argv);
    if (*seed_opt) eo.seed = explore_seed;
#ifdef _WIN32
    co.run_dir = co.results_dir / "run";  // results/run/: the JUnit file, the shards' streams and logs
#else
    co.run_dir = co.build_dir / "results";
#endif
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "termsuite: {} (see --help)\n", e.what());
    return 2;
  }

  try {
#ifndef _WIN32
    // The Wine of wine-exec, wine-up and wine-down: WINE and WINESERVER, else wine on PATH.
    if (*exec_cmd) WineEnv(state, choose_wine()).exec(program);  // does not return
    if (*guard_cmd) return WineEnv::guard(state, guard_fd, guard_owner_pid, guard_owner_start);
    if (*up_cmd) {
      WineEnv(state, choose_wine()).up(Lifetime::kept);  // for the ctest run that asked, until wine-down
      return 0;
    }
    if (*down_cmd) {
      for (const auto& line : WineEnv(state, choose_wine()).down()) fmt::print(stderr, "termsuite: {}\n", line);
      return 0;
    }
#endif
#ifdef _WIN32
    if (*settings_guard_cmd) return RunSettings::guard(guard_journal, guard_owner);
#endif
    if (*report_cmd) return report(ro);
    if (*compare_cmd) return compare_command(cmp);
    if (*update_cmd) return expectations_update_command(uo);
    install_interrupt_handling();
    if (*conform_cmd) {
      const int rc = conform(co);
      if (conform_explore <= 0 || rc == 2) return rc;
      ExploreOptions x;
      x.source_dir = co.source_dir;
      x.build_dir = co.build_dir;
      x.results_dir = co.results_dir;
      x.expectations_dir = co.expectations_dir;
      x.run_dir = co.run_dir / "explore";
      x.budget_seconds = conform_explore;
      x.jobs = co.jobs;
      x.keep_wine = co.keep_wine;
#ifndef _WIN32
      x.wine = co.wine;
#endif
      // A partial conform writes nothing into results/: neither does its exploration.
      if (!co.filter.empty()) x.out = co.run_dir / "explore";
      fmt::print("\n");
      const int xrc = explore(x);
      return std::max(rc, xrc);
    }
    if (*explore_cmd) {
      eo.source_dir = co.source_dir;
      eo.build_dir = co.build_dir;
      eo.results_dir = co.results_dir;
      eo.expectations_dir = co.expectations_dir;
      eo.run_dir = co.run_dir / "explore";
      return explore(eo);
    }
    if (*doctor_cmd) return doctor(dop);
#ifndef _WIN32
    if (*test_cmd) return run_tests(to);
    if (*mutants_cmd) return mutants(mo);
    if (*bundle_cmd) {
      bo.conform = co;
      bo.conform.build_dir = bo.mingw_build;
      return bundle_test(bo);
    }
#endif
  } catch (const Interrupted&) {
#ifdef _WIN32
    fmt::print(stderr, "termsuite: interrupted; the suite processes stopped\n");
#else
    fmt::print(stderr, "termsuite: interrupted; Wine and Xvfb stopped\n");
#endif
    return 130;
  } catch (const EnvError& e) {
    fmt::print(stderr, "termsuite: {}\n", e.what());
    return 2;
  } catch (const ExpectationsError& e) {
    fmt::print(stderr, "termsuite: expectations: {}\n", e.what());
    return 2;
  } catch (const CatalogError& e) {
    fmt::print(stderr, "termsuite: claims catalog: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "termsuite: {}\n", e.what());
    return 2;
  }
  return 2;
}
