// The simulator's part of a run: its results (results/sim.json), and the mutation score.
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "supervise.hpp"
#include "termsuite/results.hpp"
#include "termsuite/sim/model.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

SimRun run_sim_suite(const fs::path& native_build, const std::string& mutant, const fs::path& stream,
                     const std::string& filter) {
  const auto suite = native_build / "bin" / "termsuite-sim";
  if (!fs::exists(suite)) throw EnvError(fmt::format("{} is missing: build first (./termsuite does)", suite.string()));
  std::error_code ec;
  fs::remove(stream, ec);
  Command c{suite.string(), {"--termsuite-results=" + stream.string(), "--gtest_brief=1"}, {}, {}, {}};
  if (!filter.empty()) c.args.push_back("--gtest_filter=" + filter);
  if (mutant.empty()) c.unset.push_back("TERMSUITE_SIM_MUTANT");
  else c.env["TERMSUITE_SIM_MUTANT"] = mutant;
  SimRun r;
  r.finished = run(c, Deadline::in(std::chrono::seconds(60)), Output::capture);
  auto contents = parse_stream(read_text_file(stream), stream.string());
  if (contents.platform) r.results.platform = *contents.platform;
  r.results.tests = std::move(contents.tests);
  r.problems = std::move(contents.problems);
  return r;
}

int mutants(const MutantsOptions& o) {
  const auto dir = o.native_build / "sim" / "mutants";
  fs::create_directories(dir);
  const auto& all = sim::mutants();
  // The unmutated model must pass, or no kill means anything; each of its tests must tell (an
  // inconclusive one would hide what a mutant does to it).
  auto base = run_sim_suite(o.native_build, "", dir / "none.jsonl");
  throw_if_interrupted();
  for (const auto& t : base.results.tests)
    if (!gate_accepts(t.outcome) || t.outcome == Outcome::inconclusive)
      throw EnvError(fmt::format("the simulator {} {} without any mutant: fix that first",
                                 t.outcome == Outcome::inconclusive ? "cannot tell in" : "fails", t.name));
  if (base.results.tests.empty()) throw EnvError("the simulator suite reported no test");

  std::vector<SimRun> runs(all.size());
  {
    // Each run is a separate process of a few milliseconds; two at a time.
    std::vector<std::thread> threads;
    std::size_t next = 0;
    std::mutex m;
    for (int w = 0; w < 2; ++w)
      threads.emplace_back([&] {
        for (;;) {
          std::size_t i;
          {
            std::lock_guard lock(m);
            if (next >= all.size()) return;
            i = next++;
          }
          runs[i] = run_sim_suite(o.native_build, std::string(all[i].name), dir / fmt::format("{}.jsonl", all[i].name));
        }
      });
    for (auto& t : threads) t.join();
  }
  throw_if_interrupted();

  std::size_t killed = 0;
  std::size_t width = 6;
  for (const auto& m : all) width = std::max(width, m.name.size());
  if (o.verbose) fmt::print("  {:<{}}  {:<32} {}\n", "mutant", width, "claim it breaks", "killed by");
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::vector<std::string> by;
    bool own_claim = false;
    for (const auto& t : runs[i].results.tests)
      if (!gate_accepts(t.outcome)) {
        by.push_back(t.name);
        own_claim |= t.claim == all[i].claim;
      }
    // A crash of the suite process also kills the mutant, but say so.
    if (by.empty() && !runs[i].finished.ok()) by.push_back(fmt::format("suite exit {}", runs[i].finished.exit_code));
    killed += !by.empty();
    if (o.verbose) {
      std::string list;
      for (std::size_t k = 0; k < by.size() && k < 3; ++k) list += (k ? ", " : "") + by[k];
      if (by.size() > 3) list += fmt::format(" (+{} more)", by.size() - 3);
      fmt::print("  {:<{}}  {:<32} {}{}\n", all[i].name, width, all[i].claim, by.empty() ? "SURVIVED" : list,
                 !by.empty() && !own_claim ? "  (not by a test of its own claim)" : "");
    }
  }
  fmt::print("mutants killed: {}/{}\n", killed, all.size());
  return killed == all.size() ? 0 : 1;
}

}  // namespace termsuite::runner
