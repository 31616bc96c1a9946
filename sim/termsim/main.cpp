// termsim: run a scenario on the simulator, print its timeline, explain its corpses.
//
//   termsim run FILE [--json] [--mutant NAME] [--objects all|changed|none]
//                   (a scenario of the explorer, `# termsuite-scenario 1`: the model's trace of it)
//   termsim explain FILE [--at STEP] [--json] [--mutant NAME]
//   termsim mutants [--json]
//
// Exit status: 0 done (run: every expectation held), 1 an expectation failed, 2 a bad command
// line or a bad scenario file (FILE:LINE: what was expected).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include <fstream>
#include <iterator>

#include "termsuite/scenario.hpp"
#include "termsuite/sim/sim_system.hpp"
#include "termsuite/termsim/termsim.hpp"

namespace ts = termsuite::termsim;
namespace sim = termsuite::sim;

namespace {

constexpr int kBadInput = 2;

int fail(const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "termsim: {}\n", message);
  return kBadInput;
}

std::optional<sim::Mutant> mutant_named(const std::string& name) {
  auto m = sim::find_mutant(name);
  if (!m) fail(fmt::format("--mutant {}: no such mutant (`termsim mutants` lists them)", name));
  return m;
}

int cmd_mutants(bool json) {
  if (json) {
    ts::Json list = ts::Json::array();
    for (const auto& m : sim::mutants())
      list.push_back(ts::Json{{"name", m.name}, {"claim", m.claim}, {"wrong_rule", m.wrong_rule}});
    fmt::print("{}\n", list.dump(2));
    return 0;
  }
  std::size_t width = 0;
  for (const auto& m : sim::mutants()) width = std::max(width, m.name.size());
  fmt::print("{} mutants, one wrong rule each (termsim run FILE --mutant NAME):\n\n", sim::mutants().size());
  for (const auto& m : sim::mutants())
    fmt::print("  {:<{}}  {}\n  {:<{}}  wrong rule: {}\n", m.name, width, m.claim, "", width, m.wrong_rule);
  return 0;
}

// The text of a scenario the explorer wrote (a finding's file): its first line is the explorer's
// header. Empty when the file is not one (or cannot be read: load_scenario says why).
std::string explorer_scenario_text(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  namespace sc = termsuite::scenario;
  return text.starts_with(sc::kHeader) ? text : std::string();
}

// A scenario of the explorer played on the model: its trace, line for line the model's side of
// what `termsuite explore` compares with the platform's.
int cmd_run_explorer(const std::string& file, const std::string& text, bool json, const std::string& mutant_name, sim::Mutant mutant) {
  namespace sc = termsuite::scenario;
  try {
    auto scenario = sc::parse(text, file);
    sim::SimSystem system(mutant);
    auto trace = sc::run(scenario, system);
    if (json) {
      fmt::print("{}\n", ts::Json{{"command", "run"}, {"file", file}, {"mutant", mutant_name}, {"trace", trace.lines}}.dump(2));
      return 0;
    }
    fmt::print("termsim run {}  (an explorer scenario, {} steps, mutant: {}): the model's trace\n", file, scenario.steps.size(),
               mutant_name);
    for (const auto& line : trace.lines) fmt::print("{}\n", line);
    return 0;
  } catch (const sc::Error& e) {
    return fail(e.what());
  }
}

int cmd_run(const std::string& file, bool json, const std::string& mutant_name, const std::string& objects) {
  auto mutant = mutant_named(mutant_name);
  if (!mutant) return kBadInput;
  if (auto text = explorer_scenario_text(file); !text.empty()) return cmd_run_explorer(file, text, json, mutant_name, *mutant);
  ts::RunOptions options;
  options.objects = objects == "none"      ? ts::RunOptions::Objects::none
                    : objects == "changed" ? ts::RunOptions::Objects::changed
                                           : ts::RunOptions::Objects::all;
  std::string out;
  try {
    ts::Runner runner(ts::load_scenario(file), *mutant);
    ts::RunSummary sum;
    if (json) {
      ts::Json doc;
      sum = ts::run_json(runner, doc);
      fmt::print("{}\n", doc.dump(2));
    } else {
      sum = ts::run_text(runner, out, options);
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    return sum.failed ? 1 : 0;
  } catch (const ts::ScenarioError& e) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    return fail(e.what());
  }
}

int cmd_explain(const std::string& file, std::optional<std::size_t> at, bool json, const std::string& mutant_name) {
  auto mutant = mutant_named(mutant_name);
  if (!mutant) return kBadInput;
  try {
    ts::Runner runner(ts::load_scenario(file), *mutant);
    const std::size_t until = at.value_or(runner.steps());
    if (until > runner.steps())
      return fail(fmt::format("--at {}: {} has {} steps (0 is before the first)", until, file, runner.steps()));
    while (runner.done() < until) runner.step();
    auto e = ts::explain(runner);
    if (json)
      fmt::print("{}\n", ts::to_json(e).dump(2));
    else
      fmt::print("{}", ts::render_text(e));
    return 0;
  } catch (const ts::ScenarioError& e) {
    return fail(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{"termsim: run a termination scenario on the simulator, print its timeline, explain its corpses"};
    app.require_subcommand(1);
    std::string file, mutant = "none", objects = "all";
    bool json = false;
    std::int64_t at = 0;

    auto* run =
        app.add_subcommand("run", "run FILE and print the timeline: each step, what happened, the objects' states");
    run->add_option("FILE", file, "scenario file (docs/termsim.md)")->required();
    run->add_flag("--json", json, "one JSON document instead of text");
    run->add_option("--mutant", mutant, "run with one rule wrong (see `termsim mutants`)");
    run->add_option("--objects", objects, "which objects to show after each step")
        ->check(CLI::IsMember({"all", "changed", "none"}));

    auto* explain =
        app.add_subcommand("explain", "run FILE up to a step, then say what keeps each dead process's object");
    explain->add_option("FILE", file, "scenario file (docs/termsim.md)")->required();
    explain->add_option("--at", at, "explain after this step (default: the last; 0: before the first)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000}));
    explain->add_flag("--json", json, "one JSON document instead of text");
    explain->add_option("--mutant", mutant, "run with one rule wrong (see `termsim mutants`)");

    auto* list = app.add_subcommand("mutants", "list the mutants: name, claim, wrong rule");
    list->add_flag("--json", json, "JSON instead of text");

    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      app.exit(e);
      return kBadInput;
    }
    if (run->parsed()) return cmd_run(file, json, mutant, objects);
    if (explain->parsed())
      return cmd_explain(
          file, explain->count("--at") ? std::optional<std::size_t>(static_cast<std::size_t>(at)) : std::nullopt, json,
          mutant);
    return cmd_mutants(json);
  } catch (const std::exception& e) {
    return fail(fmt::format("internal error: {}", e.what()));
  }
}
