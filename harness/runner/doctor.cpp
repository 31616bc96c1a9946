// `termsuite doctor`: the preflight alone (preflight.hpp). One line per check: what it found,
// which tests it affects, what conform does about it, how to change the machine. The Win32 side
// is the suite binary's answer (`termsuite-live.exe --termsuite-preflight`), under the Wine and in
// the prefix conform would use (Linux) or on this Windows (the bundle's termsuite.exe); the Linux
// runner adds its own checks first.
//
// Exit codes: 0 every test can run here (whatever conform neutralises for its run); 1 some tests
// would be skipped (a line says which check, and how to change it); 2 an environment error.
#include <chrono>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "preflight_run.hpp"
#include "run_lock.hpp"
#include "run_settings.hpp"
#include "supervise.hpp"
#ifndef _WIN32
#include "wine_env.hpp"
#endif

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

std::string describe_platform(const Platform& p) {
  if (p.wine.empty()) return "Windows " + p.version;
  return "Wine " + p.wine + (p.host.empty() ? std::string() : " on " + p.host);
}

}  // namespace

int doctor(const DoctorOptions& o) {
  const auto started = Clock::now();
  std::optional<RunLock> lock;
  lock.emplace(o.build_dir);  // the Wine environment (Linux) is the build tree's: not during a conform
  const auto suite = o.build_dir / "bin" / "termsuite-live.exe";
  if (!fs::exists(suite)) throw EnvError(fmt::format("{} is missing: build first (./termsuite does)", suite.string()));
  std::vector<preflight::Finding> findings;
  Command c{suite.string(), {"--termsuite-preflight"}, {}, {}, o.build_dir / "bin"};
#ifndef _WIN32
  const auto wine_under_test = choose_wine(o.wine);
  findings = preflight::judge_host(host_facts(wine_under_test));
  WineEnv wine(o.build_dir / "wine", wine_under_test);
  DownOnExit down{wine};
  wine.up(Lifetime::run);
  c = Command{wine.wine_program(), {suite.string(), "--termsuite-preflight"}, {}, {}, o.build_dir / "bin"};
  for (auto& [k, v] : wine.variables()) c.env[k] = v;
#else
  RunSettings::recover();  // what a killed run left changed, put back first (said on stdout)
  if (auto f = wine_address_space_finding()) findings.push_back(std::move(*f));
#endif
  auto answered = run(c, Deadline::in(std::chrono::milliseconds(60'000)));
  throw_if_interrupted();
  auto answer = read_suite_answer(answered.output, "suite");
  if (!answered.ok()) throw EnvError(fmt::format("the suite's preflight ended with exit {}", answered.exit_code));
  for (auto& f : RunSettings::as_conform_would(answer.report.findings)) findings.push_back(std::move(f));

  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  fmt::print("termsuite doctor: {} ({}), {} checks, {:.1f} s\n\n", answer.platform.id, describe_platform(answer.platform),
             findings.size(), seconds);
  std::vector<std::string> skipping;
  int neutralised = 0, notes = 0;
  for (const auto& f : findings) {
    fmt::print("{}\n", preflight::format_line(f));
    if (f.verdict == preflight::Verdict::skip) skipping.push_back(f.check);
    neutralised += f.verdict == preflight::Verdict::neutralised;
    notes += f.verdict == preflight::Verdict::note;
  }
  if (!skipping.empty()) {
    fmt::print("\nresult: some tests would be skipped here ({}); each line says how to change it\n",
               fmt::format("{}", fmt::join(skipping, ", ")));
    return 1;
  }
  fmt::print("\nresult: every test can run here ({} neutralised for the run, {} note(s))\n", neutralised, notes);
  return 0;
}

}  // namespace termsuite::runner
