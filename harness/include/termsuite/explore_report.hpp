#pragma once
// The explorer's section of the conformance report: for each results/explore/<platform>.json that
// `termsuite explore` wrote beside the results files, the run (its seed, budget, scenarios,
// disagreements, coverage) and each finding (new or known, its claims, its minimal scenario, where
// the model's trace and the platform's first differ, the commands that replay it). A model built
// from those files, rendered twice: as HTML in report.html and as Markdown in MATRIX.md.
//
// Portable C++20 (no POSIX, no Win32), like the matrix it belongs to.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace termsuite {

// One finding: a disagreement between the model and the platform, confirmed and shrunk.
struct ExploreFinding {
  int number = 0;                            // its place in the run: finding-<number>.scn
  std::string signature;                     // what differs, in a form that survives shrinking
  std::optional<std::string> known_because;  // why it is known (the platform's expectations); nullopt: new
  std::vector<std::string> claims;           // the claims the triage names
  int steps = 0, original_steps = 0;         // the minimal scenario's size, and the generated one's
  std::string confirmations;                 // "2 of 2": live re-runs that showed it again
  std::string scenario;                      // the minimal scenario's text
  std::size_t line = 0;                      // the first trace line that differs (0: the first)
  std::string last_agreement;                // the line above it, the same in both traces ("" at line 0)
  std::string model, live;                   // that line in the model's and the platform's trace
  std::string scenario_file;                 // its scenario file, relative to the repository
  std::string replay_model, replay_platform;  // the commands that replay it on each
};

// One platform's run of the explorer.
struct ExploreRun {
  std::string file;      // "wine-8.0-x86_64.json"
  std::string platform;  // its id
  std::uint64_t seed = 0;
  std::optional<double> budget_seconds;  // as asked (--budget), when the file says
  double seconds = 0;                    // as spent
  int scenarios = 0;
  double scenarios_per_minute = 0;
  int disagreements = 0, flaky = 0;
  std::vector<std::string> flaky_signatures;
  std::vector<std::string> mutants_covered;  // the model's mutants some scenario told apart
  std::vector<std::string> claims_covered;   // their claims
  std::vector<ExploreFinding> findings;
  int new_findings() const;
  int known_findings() const;
};

struct ExploreSection {
  std::vector<ExploreRun> runs;  // by file name; none: the report has no explorer section
  bool empty() const { return runs.empty(); }
};

// One explorer results file's text. `file` names it in errors; `explore_dir` is how the commands
// name the folder it is in (its findings' scenario files are relative to it). Throws
// MatrixError("<file>: not an explorer results file: <what>") for anything it does not expect.
ExploreRun parse_explore_run(std::string_view text, const std::string& file, std::string_view explore_dir);

// Every <results_dir>/explore/*.json, sorted by name; an empty section when there is none (or no
// such folder). Paths in commands are relative to `repository` when the folder is inside it, else
// as the folder is given. MatrixError naming the file for a malformed one, one whose platform is
// not its name, or a finding whose scenario file is missing.
ExploreSection load_explore_section(const std::filesystem::path& results_dir, const std::filesystem::path& repository);

// The section as HTML (from its <h2> on) and as Markdown (from its "##" on); "" when empty.
// `claim_rows`: the claims the page has a row (and an anchor, #claim-<id>) for; the HTML links
// those of a finding. Everything from the files is escaped.
std::string explore_html(const ExploreSection& section, const std::set<std::string>& claim_rows);
std::string explore_markdown(const ExploreSection& section);

}  // namespace termsuite
