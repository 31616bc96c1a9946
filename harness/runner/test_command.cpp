// `termsuite-runner test`: every test of both builds, with one closing line for CI.
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "run_lock.hpp"
#include "supervise.hpp"
#include "wine_env.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

struct Tally {
  int tests = 0, failures = 0, skipped = 0;
};

// ctest's --output-junit file: the counts are attributes of its <testsuite> element.
Tally read_junit(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  Tally t;
  std::smatch m;
  auto attr = [&](const char* name) {
    std::regex re(fmt::format("<testsuite [^>]*\\b{}=\"([0-9]+)\"", name));
    return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
  };
  t.tests = attr("tests");
  t.failures = attr("failures");
  t.skipped = attr("skipped") + attr("disabled");
  return t;
}

int run_ctest(const fs::path& build, const std::string& label, int jobs, Tally& total) {
  const auto junit = build / "ctest-junit.xml";
  std::error_code ec;
  fs::remove(junit, ec);
  fmt::print("\n== {} ({}) ==\n", label, build.string());
  std::fflush(stdout);
  Command c{"ctest", {"--test-dir", build.string(), "--output-on-failure", "-j", std::to_string(jobs),
                      "--output-junit", junit.string()}, {}, {}, {}};
  auto f = run(c, Deadline::in(std::chrono::minutes(30)), Output::inherit);
  if (f.timed_out) fmt::print("termsuite: ctest in {} passed its 30 min deadline\n", build.string());
  if (fs::exists(junit)) {
    auto t = read_junit(junit);
    total.tests += t.tests;
    total.failures += t.failures;
    total.skipped += t.skipped;
  } else {
    total.failures += 1;  // ctest did not even report
  }
  return f.ok() ? 0 : 1;
}

}  // namespace

int run_tests(const TestOptions& o) {
  RunLock lock(o.mingw_build);  // one run per build tree (ctest's own wine-exec calls take no run lock)
  Tally total;
  int rc = 0;
  rc |= run_ctest(o.native_build, "host tools and unit tests", o.jobs, total);
  {
    WineEnv wine(o.mingw_build / "wine", choose_wine());  // WINE and WINESERVER, as ctest's wine-exec reads them
    DownOnExit down{wine};
    // This run owns the environment: up here, so that what it starts dies with the runner even
    // if it is killed outright. The ctest fixture wine.up then finds it up, and wine.down stops it.
    wine.up(Lifetime::run);
    rc |= run_ctest(o.mingw_build, "live suite under Wine", o.jobs, total);
  }
  throw_if_interrupted();
  // The mutation score (also a ctest test, sim/mutants): shown here so every run reports it.
  fmt::print("\n== mutation score of the simulator's suite ==\n");
  std::fflush(stdout);
  rc |= mutants(MutantsOptions{o.native_build, false});
  int passed = total.tests - total.failures - total.skipped;
  fmt::print("\ntermsuite test: {} passed, {} failed{}\n", passed, total.failures,
             total.skipped ? fmt::format(", {} skipped", total.skipped) : std::string());
  return rc ? 1 : 0;
}

}  // namespace termsuite::runner
