#pragma once
// The explorer: scenarios nobody wrote, each predicted by the model and played on the platform,
// their traces compared; a disagreement is confirmed, shrunk and triaged (docs/explore.md).
//
// It knows the model only through the System interface (an Oracle makes a simulator's System,
// with or without one of its mutants) and the platform only through a LiveRunner (scenarios in,
// traces out), so the same code explores Wine from Linux and Windows from termsuite.exe.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "termsuite/expectations.hpp"
#include "termsuite/scenario.hpp"
#include "termsuite/system.hpp"

namespace termsuite::explore {

using Json = nlohmann::ordered_json;

// The model, as the explorer sees it.
struct MutantRef {
  std::string name;
  std::string claim;
  std::string wrong_rule;
};
struct Oracle {
  // A fresh simulator System: the model as documented (mutant ""), or with one rule wrong.
  std::function<std::unique_ptr<System>(const std::string& mutant)> make;
  std::vector<MutantRef> mutants;
  // The mutants whose rules a System made by `make` consulted so far (may be empty: then every
  // mutant counts as consulted). A mutant whose rule a run never consulted plays it as the
  // documented model does, so it need not be asked.
  std::function<std::vector<std::string>(System&)> consulted;
};

// The platform: plays scenarios and returns their traces, in order. A scenario that could not be
// played at all (its player died, or its deadline passed) has a trace with one line "error: ...".
class LiveRunner {
 public:
  virtual ~LiveRunner() = default;
  // `expected` (empty, or one per scenario): the model's traces, so that each run stops at its first
  // difference (scenario::RunOptions::expected).
  virtual std::vector<scenario::Trace> play(const std::vector<scenario::Scenario>& scenarios,
                                            const std::vector<scenario::Trace>& expected = {}) = 0;
  virtual int parallel() const = 0;  // how many it plays at once
};

// A small, seeded generator: the same seed gives the same bytes.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) { s_ = next() ^ 0x2545F4914F6CDD1Dull; }  // seeds apart, streams apart
  std::uint64_t next();
  std::uint32_t below(std::uint32_t n) { return n ? static_cast<std::uint32_t>(next() % n) : 0; }
  bool chance(std::uint32_t percent) { return below(100) < percent; }

 private:
  std::uint64_t s_;
};

struct GenOptions {
  int max_actors = 3;
  int max_actions = 9;  // harness actions after the starts (awaits and the final digest not counted)
  bool ctrl = true;     // console control events (the harness needs a console of its own)
  bool probe = true;    // the probe DLL
  bool jobs = true;
  bool taskkill = true;  // taskkill /f (and /t), and without /f at a process that owns no window
  bool objects = true;   // named objects, mutexes and pipes
  bool gui = true;       // the GUI actor's hidden windows, private messages, WH_CBT hook (a desktop)
  // Claims the platform is known not to keep (its expectations): the paths that only meet those
  // deviations again are not taken, so the time goes to what is not known yet (--skip-known).
  std::set<std::string> skip_claims;
};

// The seed of the run's i-th scenario.
inline std::uint64_t scenario_seed(std::uint64_t run_seed, std::uint64_t i) { return run_seed * 1'000'003ull + i; }

// One scenario from the seed: valid, finite and deterministic by construction (docs/explore.md).
scenario::Scenario generate(std::uint64_t seed, const Oracle& oracle, const GenOptions& options = {});

// Makes a scenario's intent runnable and deterministic on the model: drops steps that cannot run
// or whose answer could race, turns each `wait` the model says would not be signaled into `poll`,
// and after every step awaits the records the model says that step made. Idempotent.
scenario::Scenario normalize(const scenario::Scenario& intent, const Oracle& oracle, const std::string& mutant = "",
                             const std::set<std::string>* skip_claims = nullptr);

// The model's trace of a scenario (the prediction).
scenario::Trace predict(const scenario::Scenario& s, const Oracle& oracle, const std::string& mutant = "",
                        std::vector<std::string>* consulted = nullptr);
// The mutants that `s` could tell apart from the documented model: those whose rules its
// prediction consulted (every mutant when the oracle cannot say).
std::vector<std::string> consulted_mutants(const scenario::Scenario& s, const Oracle& oracle);

// Where two traces first differ, and a signature of the difference that survives shrinking.
struct Difference {
  std::size_t line = 0;     // index into the traces' lines
  std::string model, live;  // the two lines ("" where one trace is shorter)
  std::string signature;    // "exit-code: 0xc000013a -> 0x0", "records: +X -Y"
  std::string last_agreement;
};
std::optional<Difference> compare(const scenario::Trace& model, const scenario::Trace& live);

// The difference's signature with the scenario's own numbers named by where they come from: an
// exit code that a harness step or an actor's verb gave becomes "<terminate-thread's code>" or
// "<exit-thread's code>", so that one rule broken with different codes is one finding.
std::string bucket(const scenario::Scenario& s, const Difference& d);

// The steps that count toward a finding's size: everything but the awaits the model adds.
int size(const scenario::Scenario& s);

// Delta debugging over steps and verbs: the smallest scenario (each candidate normalized) for
// which `interesting` still holds. `interesting` is called on normalized candidates only, in
// groups of up to `width` (played at once); at most `max_tests` candidates are tried.
scenario::Scenario shrink(const scenario::Scenario& s, const Oracle& oracle,
                          const std::function<std::vector<bool>(const std::vector<scenario::Scenario>&)>& interesting,
                          int width, int max_tests);
scenario::Scenario shrink(const scenario::Scenario& s, const Oracle& oracle,
                          const std::function<bool(const scenario::Scenario&)>& interesting, int max_tests = 200);

// The claims a difference is about: the mutants whose model reproduces the platform's answer
// (their wrong rule is what the platform does), else those whose model answers differently at
// that line (the rules the line depends on).
struct Triage {
  std::vector<std::string> reproduced_by;  // mutant names
  std::vector<std::string> involves;       // mutant names
  std::vector<std::string> claims;         // their claims, deduplicated
};
Triage triage(const scenario::Scenario& s, const Difference& d, const scenario::Trace& live, const Oracle& oracle);

// The claims whose rules a scenario exercises: the mutants whose trace differs from the model's.
std::vector<std::string> killed_mutants(const scenario::Scenario& s, const scenario::Trace& model, const Oracle& oracle);

// What the platform's expectations already know (results/expectations/<platform>.json): its
// deviations' claims and its triaged explorer findings, each by signature.
struct Known {
  std::vector<std::string> deviation_claims;
  struct Finding {
    std::string signature, claim, reason;
  };
  std::vector<Finding> findings;
  static Known from_expectations(const Json& expectations);
  static Known from_expectations(const Expectations& expectations);
  // The reason a finding is known, or nullopt if it is new.
  std::optional<std::string> explains(const Difference& d, const Triage& t) const;
};

struct Finding {
  scenario::Scenario original, minimal;
  Difference difference;
  scenario::Trace model, live;  // of the minimal scenario
  Triage triage;
  std::optional<std::string> known;  // why it is known; nullopt: new
  int confirmations = 0;             // live re-runs that showed the same difference
  int reruns = 0;
  double live_seconds = 0;           // spent on it (confirming and shrinking)
};

struct Options {
  std::uint64_t seed = 1;
  double budget_seconds = 60;
  std::optional<int> max_scenarios;  // stop after this many (the gate's fixed runs)
  GenOptions gen;
  int confirm_runs = 2;
  int shrink_tests = 120;            // candidates tried per finding
  int max_findings = 20;             // confirmed and shrunk; later disagreements only counted
  bool keep_corpus = false;          // keep every scenario played, with its trace
  // Make two scenarios for each one played, and play first those that tell apart a mutant no
  // scenario played so far tells apart: the platform's time goes to the rules not yet asked.
  bool guided = true;
  std::function<void(const std::string&)> progress;  // a line now and then; may be empty
};

struct Summary {
  std::uint64_t seed = 0;
  int scenarios = 0, disagreements = 0, flaky = 0, invalid = 0;
  double seconds = 0, live_seconds = 0, model_seconds = 0;
  double play_seconds = 0;  // the platform playing the generated batches (not confirming, not shrinking)
  std::vector<double> scenario_seconds;  // each generated scenario's own time on the platform
  std::vector<std::pair<double, std::string>> slowest;  // the slowest few: seconds, scenario
  std::map<std::string, int> steps_by_op, verbs;  // what was generated
  std::vector<std::string> mutants_covered;       // mutants at least one scenario tells apart
  std::vector<std::string> claims_covered;
  std::vector<Finding> findings;
  std::vector<std::string> flaky_signatures;
  // keep_corpus: each scenario, the platform's trace, and the line where the model first differs
  // from it (the trace's size when it does not).
  struct Played {
    scenario::Scenario scenario;
    scenario::Trace live;
    std::size_t agrees_until = 0;
    std::vector<std::string> consulted;  // the mutants whose rules its prediction consulted; empty: unknown
  };
  std::vector<Played> corpus;
  int new_findings() const;
};

// Explores until the budget is spent. live == nullptr: the model alone (generation and
// prediction only, for throughput and the generator's own checks).
Summary run(const Options& o, const Oracle& oracle, LiveRunner* live, const Known& known);

Json to_json(const Summary& s, const std::string& platform);
Json to_json(const Finding& f);
std::string render_text(const Finding& f);

}  // namespace termsuite::explore
