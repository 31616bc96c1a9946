// `termsuite explore`: scenarios nobody wrote, each predicted by the simulator and played on the
// platform; disagreements confirmed, shrunk and triaged (docs/explore.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <atomic>
#include <fstream>
#include <thread>

#include "commands.hpp"
#include "player_pool.hpp"
#include "preflight_run.hpp"
#include "results_file.hpp"
#include "run_settings.hpp"
#include "supervise.hpp"
#include "termsuite/claims.hpp"
#include "termsuite/expectations.hpp"
#include "termsuite/explore.hpp"
#include "termsuite/sim/sim_system.hpp"
#ifndef _WIN32
#include "wine_env.hpp"
#include "wine_under_test.hpp"
#endif

namespace termsuite::runner {

namespace fs = std::filesystem;

namespace {

explore::Oracle make_oracle(const std::string& model_mutant) {
  explore::Oracle o;
  std::optional<sim::Mutant> wrong;
  if (!model_mutant.empty()) {
    wrong = sim::find_mutant(model_mutant);
    if (!wrong) throw EnvError(fmt::format("--mutant: no mutant named '{}' (termsim mutants lists them)", model_mutant));
  }
  // The model the explorer predicts with: as documented, or (--mutant) with one rule wrong; the
  // mutants' models for triage, each from the documented model.
  o.make = [wrong](const std::string& mutant) -> std::unique_ptr<System> {
    if (mutant.empty()) return std::make_unique<sim::SimSystem>(wrong.value_or(sim::Mutant::none));
    auto m = sim::find_mutant(mutant);
    if (!m) throw std::runtime_error("no mutant " + mutant);
    return std::make_unique<sim::SimSystem>(*m);
  };
  for (const auto& m : sim::mutants())
    o.mutants.push_back({std::string(m.name), std::string(m.claim), std::string(m.wrong_rule)});
  o.consulted = [](System& s) {
    std::vector<std::string> out;
    const auto& asked = static_cast<sim::SimSystem&>(s).model().consulted();
    for (const auto& m : sim::mutants())
      if (asked.test(static_cast<std::size_t>(m.id))) out.emplace_back(m.name);
    return out;
  };
  return o;
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  write_file_atomically(p, text);
}

// The explorer's mutation score: every mutant's model predicts the corpus the platform played;
// a mutant is killed when it answers otherwise than the platform where the documented model still
// agrees with it (before the first line where the model and the platform differ, if they do).
// Left out: mutants whose claim the platform is known not to keep (the platform cannot tell their
// rule from its own), and those whose claim only the simulator can show (no actor acts it out on a
// platform). The mutants are shared among the machine's cores.
int mutant_score(const std::vector<explore::Summary::Played>& corpus, const explore::Oracle& oracle,
                 const std::map<std::string, std::string>& left_out, bool verbose, std::string_view what) {
  std::vector<const explore::MutantRef*> scored;
  std::map<std::string, int> out_by_reason;
  for (const auto& m : oracle.mutants) {
    if (auto it = left_out.find(m.claim); it != left_out.end()) ++out_by_reason[it->second];
    else scored.push_back(&m);
  }
  std::vector<char> dead(scored.size(), 0);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < scored.size();) {
      for (const auto& played : corpus) {
        // A mutant whose rule the prediction never consulted plays it as the model does.
        if (!played.consulted.empty() &&
            std::find(played.consulted.begin(), played.consulted.end(), scored[i]->name) == played.consulted.end())
          continue;
        scenario::Trace mt;
        try {
          mt = explore::predict(played.scenario, oracle, scored[i]->name);
        } catch (...) {
          continue;
        }
        if (auto d = explore::compare(mt, played.live); d && d->line < played.agrees_until) {
          dead[i] = 1;
          break;
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, std::thread::hardware_concurrency()); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  const int killed = static_cast<int>(std::count(dead.begin(), dead.end(), 1));
  if (verbose)
    for (std::size_t i = 0; i < scored.size(); ++i)
      if (!dead[i]) fmt::print("  survived: {} ({})\n", scored[i]->name, scored[i]->claim);
  const auto agreed = std::count_if(corpus.begin(), corpus.end(),
                                    [](const auto& p) { return p.agrees_until >= p.live.lines.size(); });
  std::vector<std::string> outs;
  for (const auto& [why, k] : out_by_reason) outs.push_back(fmt::format("{} {}", k, why));
  fmt::print("{}: {}/{} mutants ({} scenarios played, {} agreeing with the model throughout; left out: {})\n", what,
             killed, scored.size(), corpus.size(), agreed, outs.empty() ? std::string("none") : fmt::format("{}", fmt::join(outs, ", ")));
  return killed;
}

// The claims whose mutants the score leaves out, each with why: the platform's known deviations,
// and the claims only the simulator can show (from the catalog, when it is at hand).
std::map<std::string, std::string> left_out_claims(const explore::Known& known, const fs::path& catalog) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (fs::exists(catalog, ec)) {
    try {
      const auto claims = ClaimsCatalog::load(catalog);
      for (const auto& c : claims.claims())
        if (c.sim_only) out[c.id] = "their claim only the simulator can show";
    } catch (const CatalogError&) {
    }
  }
  for (const auto& c : known.deviation_claims) out[c] = "their claim is a known deviation of the platform";
  return out;
}

}  // namespace

int explore(const ExploreOptions& o) {
  const std::uint64_t seed =
      o.seed.value_or(static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1'000'000);
  auto oracle = make_oracle(o.mutant);
  auto say = [&](const std::string& line) {
    if (!o.quiet) fmt::print("  {}\n", line), std::fflush(stdout);
  };

  if (o.sim_only) {
    for (int i = 0; i < o.show; ++i) {
      auto sc = explore::generate(explore::scenario_seed(seed, static_cast<std::uint64_t>(i)), oracle);
      fmt::print("{}", sc.text());
      for (const auto& l : explore::predict(sc, oracle).lines) fmt::print("#   {}\n", l);
      fmt::print("\n");
    }
    explore::Options eo;
    eo.seed = seed;
    eo.budget_seconds = o.mutant_score_seconds > 0 ? o.mutant_score_seconds : o.budget_seconds;
    eo.max_scenarios = o.scenarios;
    eo.keep_corpus = o.mutant_score_seconds > 0;
    eo.guided = o.mutant_score_seconds > 0;  // the grammar's reach, as a live run would choose
    auto s = explore::run(eo, oracle, nullptr, {});
    if (o.mutant_score_seconds > 0) {
      // The grammar's reach: the model's own traces as the platform's, so a mutant survives only
      // where no scenario meets its rule.
      mutant_score(s.corpus, oracle, {}, !o.quiet, "on the model alone, killed");
      return 0;
    }
    fmt::print("termsuite explore: the model alone, seed {}: {} scenarios in {:.1f} s ({:.0f} a minute), {} invalid, "
               "{} of {} mutants told apart\n",
               seed, s.scenarios, s.seconds, s.seconds > 0 ? s.scenarios * 60 / s.seconds : 0.0, s.invalid,
               s.mutants_covered.size(), oracle.mutants.size());
    if (!o.quiet) {
      std::vector<std::string> untold;
      for (const auto& m : oracle.mutants)
        if (!std::binary_search(s.mutants_covered.begin(), s.mutants_covered.end(), m.name)) untold.push_back(m.name);
      fmt::print("  mutants no scenario told apart ({}): {}\n", untold.size(), fmt::join(untold, " "));
    }
    return s.invalid == 0 ? 0 : 1;
  }

#ifndef _WIN32
  const auto wine_under_test = choose_wine(o.wine);
#endif
  RunSettings::recover();
  const auto play_exe = o.build_dir / "bin" / "termsuite-play.exe";
  const auto suite = o.build_dir / "bin" / "termsuite-live.exe";
  for (const auto& p : {play_exe, suite})
    if (!fs::exists(p)) throw EnvError(fmt::format("{} is missing: build first (./termsuite does)", p.string()));
  fs::create_directories(o.run_dir);

  PlayerCommand pc;
  pc.cwd = o.build_dir / "bin";
  pc.log_dir = o.run_dir;
  Command describe{suite.string(), {"--termsuite-describe", "--gtest_filter=-*"}, {}, {}, o.build_dir / "bin"};
#ifndef _WIN32
  WineEnv wine(o.build_dir / "wine", wine_under_test);
  DownOnExit down{wine, o.keep_wine};
  wine.up(o.keep_wine ? Lifetime::kept : Lifetime::run);
  pc.argv = {wine.wine_program(), play_exe.string(), "--serve"};
  for (auto& [k, v] : wine.variables()) pc.env.emplace_back(k, v), describe.env[k] = v;
  describe.program = wine.wine_program();
  describe.args.insert(describe.args.begin(), suite.string());
#else
  pc.argv = {play_exe.string(), "--serve"};
#endif
  describe.env["TERMSUITE_EXPECTATIONS_DIR"] = fs::absolute(o.expectations_dir).string();
  // The platform, and the preflight's settings for the run (no crash dialog, no debugger), as
  // conform applies them.
  auto described = describe_suite(describe, "suite");
  const auto platform = described.platform;
  // GUI actors only where a window can be created (the preflight's desktop check: a prefix
  // without a display, a service session).
  const bool desktop = std::none_of(described.preflight.findings.begin(), described.preflight.findings.end(),
                                    [](const preflight::Finding& f) { return f.check == "desktop" && f.skips == preflight::Skips::gui; });
  RunSettings settings;
  for (auto& f : settings.apply(std::move(described.preflight.findings)))
    if (f.applied) fmt::print("termsuite: preflight: {}: {} for this run (restored when it ends)\n", f.check, f.setting->describe());

  const auto known = explore::Known::from_expectations(Expectations::load_for(o.expectations_dir, platform));
  PlayerPool pool(pc, o.jobs, std::chrono::seconds(90));

  if (!o.replay.empty()) {
    std::string text = read_text_file(o.replay);
    if (text.empty()) throw EnvError(fmt::format("--replay: cannot read {}", o.replay));
    scenario::Scenario s;
    try {
      s = scenario::parse(text, o.replay);
    } catch (const scenario::Error& e) {
      throw EnvError(e.what());
    }
    auto model = explore::predict(s, oracle);
    auto live = pool.play({s})[0];
    auto d = explore::compare(model, live);
    fmt::print("termsuite explore --replay {}: {} ({})\n", o.replay, d ? "the platform differs from the model" : "the platform agrees with the model",
               platform.id);
    explore::Finding f;
    f.original = f.minimal = s;
    f.model = model;
    f.live = live;
    if (d) {
      d->signature = explore::bucket(s, *d);
      f.difference = *d;
      f.triage = explore::triage(s, *d, live, oracle);
      f.known = known.explains(*d, f.triage);
      fmt::print("{}", explore::render_text(f));
    } else {
      for (const auto& l : live.lines) fmt::print("     {}\n", l);
    }
    for (const auto& n : live.notes) fmt::print("  note (platform): {}\n", n);
    return d && !f.known ? 1 : 0;
  }

  explore::Options eo;
  eo.seed = seed;
  eo.budget_seconds = o.mutant_score_seconds > 0 ? o.mutant_score_seconds : o.budget_seconds;
  eo.max_scenarios = o.scenarios;
  eo.keep_corpus = o.mutant_score_seconds > 0;
  if (o.skip_known) eo.gen.skip_claims.insert(known.deviation_claims.begin(), known.deviation_claims.end());
  // GUI actors only where windows can be made.
  eo.gen.gui = desktop;
  if (!desktop) fmt::print("termsuite explore: no window can be created here (preflight: desktop): no GUI actor in the scenarios\n");
  if (o.mutant_score_seconds > 0) eo.max_findings = 0;  // the time goes to playing, not to shrinking
  eo.progress = say;
  fmt::print("termsuite explore: {}, seed {}, budget {:.0f} s, {} players{}{}\n", platform.id, seed, eo.budget_seconds, o.jobs,
             o.mutant.empty() ? "" : ", model mutant " + o.mutant,
             o.skip_known ? fmt::format(", skipping {} known deviations", eo.gen.skip_claims.size()) : "");
  std::fflush(stdout);
  auto sum = explore::run(eo, oracle, &pool, known);

  if (o.mutant_score_seconds > 0) {
    mutant_score(sum.corpus, oracle, left_out_claims(known, o.source_dir / "docs" / "claims.json"), !o.quiet,
                 "explore killed");
    return 0;
  }

  // Results: the summary, and each finding's scenario as a file of its own.
  const auto out = o.out.empty() ? o.results_dir / "explore" : o.out;
  auto j = explore::to_json(sum, platform.id);
  j["budget_seconds"] = o.budget_seconds;
  j["players"] = o.jobs;
  j["player_restarts"] = pool.restarts();
  int k = 0;
  for (auto& f : j["findings"]) {
    auto file = out / platform.id / fmt::format("finding-{}.scn", ++k);
    write_text(file, f["scenario"].get<std::string>());
    f["file"] = fs::relative(file, out).generic_string();
  }
  write_text(out / (platform.id + ".json"), j.dump(2) + "\n");
  fmt::print("\ntermsuite explore: {} scenarios in {:.0f} s ({:.0f} a minute; played at {:.0f} a minute by {} players), "
             "{} disagreed, {} flaky; {} findings ({} new); {} of {} mutants told apart, {} claims\n",
             sum.scenarios, sum.seconds, sum.seconds > 0 ? sum.scenarios * 60 / sum.seconds : 0.0,
             sum.play_seconds > 0 ? sum.scenarios * 60 / sum.play_seconds : 0.0, o.jobs,
             sum.disagreements, sum.flaky, sum.findings.size(), sum.new_findings(), sum.mutants_covered.size(),
             oracle.mutants.size(), sum.claims_covered.size());
  if (j.contains("scenario_seconds"))
    fmt::print("  a scenario on the platform: median {} s, 90th percentile {} s, slowest {} s\n",
               j["scenario_seconds"]["median"].get<double>(), j["scenario_seconds"]["p90"].get<double>(),
               j["scenario_seconds"]["max"].get<double>());
  if (!o.quiet && !sum.slowest.empty()) fmt::print("  the slowest:\n{}", sum.slowest.front().second);
  for (const auto& f : sum.findings) fmt::print("\n{}", explore::render_text(f));
  for (const auto& f : sum.flaky_signatures) fmt::print("  flaky: {}\n", f);
  fmt::print("\n  results: {}\n", (out / (platform.id + ".json")).string());
  return sum.new_findings() > 0 ? 1 : 0;
}

}  // namespace termsuite::runner
