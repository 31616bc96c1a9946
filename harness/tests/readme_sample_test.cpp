// README.md shows what `./termsuite conform` prints and counts the suite in its prose; a newcomer
// compares the first run with it. This test reads those numbers back and checks each against the
// committed results (results/*.json), the catalog (docs/claims.json), the expectations
// (results/expectations/) and the simulator's mutants, so the README fails here as soon as it drifts from them. Only numbers
// and words that the committed files decide are checked: timings, shard counts and host names
// belong to the machine the sample was taken on.
#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "termsuite/claims.hpp"
#include "termsuite/expectations.hpp"
#include "termsuite/matrix.hpp"
#include "termsuite/outcome.hpp"
#include "termsuite/results.hpp"
#include "termsuite/sim/model.hpp"

namespace fs = std::filesystem;

namespace termsuite {
namespace {

const fs::path kSource = TERMSUITE_SOURCE_DIR;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The fenced block that follows the README's heading `heading`.
std::vector<std::string> sample_after(const std::string& readme, const std::string& heading) {
  auto at = readme.find("\n" + heading + "\n");
  if (at == std::string::npos) return {};
  auto open = readme.find("\n```", at);
  if (open == std::string::npos) return {};
  open = readme.find('\n', open + 1);
  auto close = readme.find("\n```", open);
  if (close == std::string::npos) return {};
  return lines_of(readme.substr(open + 1, close - open - 1));
}

RunResults results_of(const std::string& platform_id) {
  const auto file = kSource / "results" / (platform_id + ".json");
  if (!fs::exists(file)) throw std::runtime_error("no committed results for " + platform_id + ": " + file.string());
  return parse_stable_json(read_text(file), file.string());
}

const TestResult* find_test(const RunResults& r, const std::string& name) {
  for (const auto& t : r.tests)
    if (t.name == name) return &t;
  return nullptr;
}

// A claim's row as the summary prints it: the worst outcome of its tests, and "N outcome" for each.
struct ClaimRow {
  std::string status, tally;
};
std::optional<ClaimRow> row_of(const RunResults& r, const std::string& claim) {
  std::map<Outcome, int> n;
  std::optional<Outcome> worst;
  for (const auto& t : r.tests)
    if (t.claim == claim) {
      ++n[t.outcome];
      if (!worst || severity(t.outcome) > severity(*worst)) worst = t.outcome;
    }
  if (!worst) return std::nullopt;
  ClaimRow row{std::string(status_word(worst)), {}};
  for (auto& [o, k] : n) row.tally += fmt::format("{}{} {}", row.tally.empty() ? "" : ", ", k, to_string(o));
  return row;
}

// The totals line: the claims a platform is asked, how many have tests here, by status.
struct Totals {
  int asked = 0, covered = 0, pass = 0, xfail = 0, inconclusive = 0, failing = 0;
};
Totals totals_of(const RunResults& r, const ClaimsCatalog& catalog) {
  Totals t;
  for (const auto& c : catalog.claims()) {
    if (!claim_applies(c, r.platform)) continue;
    ++t.asked;
    auto row = row_of(r, c.id);
    if (!row) continue;
    ++t.covered;
    if (row->status == "pass") ++t.pass;
    else if (row->status == "xfail") ++t.xfail;
    else if (row->status == "INCONCLUSIVE") ++t.inconclusive;
    else if (row->status != "SKIP") ++t.failing;
  }
  return t;
}

class ReadmeSample : public testing::Test {
 protected:
  void SetUp() override {
    readme_ = read_text(kSource / "README.md");
    ASSERT_FALSE(readme_.empty()) << "README.md not found in " << kSource;
    sample_ = sample_after(readme_, "### What `conform` prints");
    ASSERT_GT(sample_.size(), 10u) << "README.md has no sample under \"### What `conform` prints\"";
    catalog_ = ClaimsCatalog::load(kSource / "docs" / "claims.json");
  }

  std::string readme_;
  std::vector<std::string> sample_;
  ClaimsCatalog catalog_;
};

// Each platform's section: its first line names the platform and its number of tests; its claim
// rows, its non-passing tests and its totals line are those of the committed results.
TEST_F(ReadmeSample, EachPlatformsLinesAreItsCommittedResults) {
  const std::regex header(R"(^termsuite conform: (\S+) \(.*\), (\d+) tests in \d+ shard\(s\), [\d.]+ s$)");
  const std::regex claim_row(R"(^  (\S+)\s+(documented|windows-observed|clones-agree|unverified)\s+(\S+)\s+(\d.*)$)");
  const std::regex test_row(R"(^\s{20,}(pass|xfail|SKIP|INCONCLUSIVE|XPASS|TIMEOUT|FAIL) (\S+): (.*)$)");
  const std::regex totals(
      R"(^  (\d+) claims of the catalog asked of (Windows|a POSIX system): (\d+) checked here \((\d+) pass, (\d+) known deviation, (\d+) inconclusive, (\d+) failing\), (\d+) not covered yet$)");
  const std::regex unsure_head(R"(^  inconclusive here \((\d+) test\(s\))");
  const std::regex unsure_item(R"(^    (\S+) \[(\S+)\]: (.*)$)");
  std::optional<RunResults> r;
  int platforms = 0, rows = 0, tests = 0, totals_seen = 0;
  for (const auto& line : sample_) {
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      ASSERT_NO_THROW(r = results_of(m[1])) << line;
      ++platforms;
      EXPECT_EQ(std::stoul(m[2]), r->tests.size()) << "the README's test count for " << m[1] << ": " << line;
    } else if (!r) {
      continue;
    } else if (std::regex_match(line, m, claim_row)) {
      ++rows;
      const auto* c = catalog_.find(m[1].str());
      ASSERT_TRUE(c) << "the README shows a claim the catalog lacks: " << line;
      EXPECT_EQ(m[2].str(), to_string(c->grade)) << "the claim's grade in docs/claims.json: " << line;
      auto row = row_of(*r, m[1]);
      ASSERT_TRUE(row) << "no committed result of " << m[1] << " on " << r->platform.id;
      EXPECT_EQ(m[3].str(), row->status) << line;
      EXPECT_EQ(m[4].str(), row->tally) << line;
    } else if (std::regex_match(line, m, test_row)) {
      ++tests;
      const auto* t = find_test(*r, m[2]);
      ASSERT_TRUE(t) << "no committed result of " << m[2] << " on " << r->platform.id;
      EXPECT_EQ(m[1].str(), status_word(t->outcome)) << line;
      std::string shown = m[3];
      if (auto dots = shown.find("..."); dots != std::string::npos) {  // abridged: what comes before must hold
        shown = shown.substr(0, dots);
        while (!shown.empty() && shown.back() == ' ') shown.pop_back();
      }
      EXPECT_TRUE(t->detail.starts_with(shown)) << "the README's detail is not the committed one's\n  README: " << shown
                                                 << "\n  results: " << t->detail;
    } else if (std::regex_match(line, m, totals)) {
      ++totals_seen;
      const auto want = totals_of(*r, catalog_);
      EXPECT_EQ(m[2].str(), is_posix_platform(r->platform) ? "a POSIX system" : "Windows") << line;
      EXPECT_EQ(std::stoi(m[1]), want.asked) << "claims asked: " << line;
      EXPECT_EQ(std::stoi(m[3]), want.covered) << "claims checked: " << line;
      EXPECT_EQ(std::stoi(m[4]), want.pass) << "claims passing: " << line;
      EXPECT_EQ(std::stoi(m[5]), want.xfail) << "claims with a known deviation: " << line;
      EXPECT_EQ(std::stoi(m[6]), want.inconclusive) << "claims inconclusive: " << line;
      EXPECT_EQ(std::stoi(m[7]), want.failing) << "claims failing: " << line;
      EXPECT_EQ(std::stoi(m[8]), want.asked - want.covered) << "claims not covered: " << line;
    } else if (std::regex_search(line, m, unsure_head)) {
      EXPECT_EQ(std::stol(m[1]), std::count_if(r->tests.begin(), r->tests.end(),
                                               [](const TestResult& t) { return t.outcome == Outcome::inconclusive; }))
          << line;
    } else if (std::regex_match(line, m, unsure_item) && !line.starts_with("    differs:")) {
      const auto* t = find_test(*r, m[1]);
      ASSERT_TRUE(t) << line;
      EXPECT_EQ(t->outcome, Outcome::inconclusive) << line;
      EXPECT_EQ(t->claim, m[2].str()) << line;
    }
  }
  EXPECT_EQ(platforms, 2) << "the sample shows the Wine run and the POSIX run";
  EXPECT_EQ(totals_seen, 2) << "each platform's totals line";
  EXPECT_GT(rows, 2) << "the sample shows some claim rows";
  EXPECT_GT(tests, 0) << "the sample shows a non-passing test under its claim";
}

// The simulator's lines: its test count, the tests it shares with the live run, how many agree,
// what kind each difference is, and every difference, each as the committed results have it.
TEST_F(ReadmeSample, SimulatorLinesAreTheCommittedComparison) {
  std::string live_id;
  for (const auto& line : sample_) {
    std::smatch m;
    if (std::regex_match(line, m, std::regex(R"(^termsuite conform: (wine-\S+|windows-\S+) .*)"))) {
      live_id = m[1];
      break;
    }
  }
  ASSERT_FALSE(live_id.empty()) << "the sample names no live Windows platform";
  const auto live = results_of(live_id);
  const auto sim = results_of("sim");
  std::map<std::string, const TestResult*> sim_by_name;
  for (const auto& t : sim.tests) sim_by_name[t.name] = &t;
  int shared = 0, known = 0, unsure = 0;
  std::map<std::string, std::string> differ;  // test -> "live X, sim Y"
  for (const auto& t : live.tests) {
    auto it = sim_by_name.find(t.name);
    if (it == sim_by_name.end()) continue;
    ++shared;
    if (t.outcome == it->second->outcome) continue;
    differ[t.name] = fmt::format("live {}, sim {}", to_string(t.outcome), to_string(it->second->outcome));
    known += t.outcome == Outcome::xfail;
    unsure += t.outcome == Outcome::inconclusive;
  }
  const int sim_failing = static_cast<int>(std::count_if(sim.tests.begin(), sim.tests.end(), [](const TestResult& t) {
    return !gate_accepts(t.outcome) || t.outcome == Outcome::inconclusive;
  }));

  bool saw_sim = false, saw_agree = false, saw_kinds = false;
  std::set<std::string> listed;
  for (const auto& line : sample_) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(^  simulator: (\d+) tests \((\d+) simulator-only\), (\d+) failing)"))) {
      saw_sim = true;
      EXPECT_EQ(std::stoul(m[1]), sim.tests.size()) << line;
      EXPECT_EQ(std::stoul(m[2]), sim.tests.size() - static_cast<std::size_t>(shared)) << line;
      EXPECT_EQ(std::stoi(m[3]), sim_failing) << line;
    } else if (std::regex_search(line, m, std::regex(R"(^  live and simulator agree on (\d+) of the (\d+) tests they share$)"))) {
      saw_agree = true;
      EXPECT_EQ(std::stoi(m[1]), shared - static_cast<int>(differ.size())) << line;
      EXPECT_EQ(std::stoi(m[2]), shared) << line;
    } else if (std::regex_search(line, m, std::regex(R"(each difference is the live platform's: (\d+) known deviation\(s\))"))) {
      saw_kinds = true;
      EXPECT_EQ(std::stoi(m[1]), known) << line;
      std::smatch u;
      const int shown_unsure = std::regex_search(line, u, std::regex(R"((\d+) inconclusive live)")) ? std::stoi(u[1]) : 0;
      EXPECT_EQ(shown_unsure, unsure) << line;
    } else if (std::regex_match(line, m, std::regex(R"(^    differs: (\S+): (live \S+, sim \S+)(?: \(.*\))?$)"))) {
      listed.insert(m[1]);
      auto it = differ.find(m[1]);
      ASSERT_NE(it, differ.end()) << "the README lists a difference the committed results do not have: " << line;
      EXPECT_EQ(m[2].str(), it->second) << line;
      const bool says_known = line.ends_with("(a known deviation of the live platform)");
      EXPECT_EQ(says_known, it->second.starts_with("live xfail")) << line;
    }
  }
  EXPECT_TRUE(saw_sim) << "the sample's simulator line";
  EXPECT_TRUE(saw_agree) << "the sample's \"live and simulator agree on\" line";
  EXPECT_EQ(saw_kinds, !differ.empty()) << "the sample's line saying what the differences are";
  for (const auto& [name, what] : differ)
    EXPECT_TRUE(listed.contains(name)) << "the README's sample does not list the difference " << name << ": " << what;
}

// The last line: each platform's number of known deviations, and the file they are listed in.
TEST_F(ReadmeSample, ResultLineCountsTheKnownDeviations) {
  const std::regex result(
      R"(^result: (\S+) matches its expectations \((\d+) known deviation\(s\) in ([^)]+)\), and so does (\S+) \((\d+) known deviation\(s\) in ([^)]+)\)$)");
  bool seen = false;
  for (const auto& line : sample_) {
    std::smatch m;
    if (!std::regex_match(line, m, result)) continue;
    seen = true;
    for (int i : {1, 4}) {
      const auto r = results_of(m[i]);
      const auto e = Expectations::load_for(kSource / "results" / "expectations", r.platform);
      EXPECT_EQ(std::stoul(m[i + 1]), e.deviations().size()) << m[i] << ": " << line;
      const auto xfails = std::count_if(r.tests.begin(), r.tests.end(), [](const TestResult& t) { return t.outcome == Outcome::xfail; });
      EXPECT_EQ(std::stol(m[i + 1]), xfails) << "each listed deviation shows in the committed results: " << line;
      const std::string where = e.from_file() ? fs::relative(e.origin(), kSource).string() : "no file";
      EXPECT_EQ(m[i + 2].str(), where) << line;
    }
  }
  EXPECT_TRUE(seen) << "the sample's last line, \"result: ...\"";
}

// The prose: the suite's size where the README states it.
TEST_F(ReadmeSample, TheProseCountsTheSuite) {
  std::string live_id;
  for (const auto& e : fs::directory_iterator(kSource / "results")) {
    const auto name = e.path().filename().string();
    if (name.starts_with("wine-") && name.ends_with(".json")) live_id = e.path().stem().string();
  }
  ASSERT_FALSE(live_id.empty());
  const auto live = results_of(live_id);
  const auto sim = results_of("sim");
  std::string posix_id;
  for (const auto& e : fs::directory_iterator(kSource / "results"))
    if (e.path().filename().string().starts_with("linux-")) posix_id = e.path().stem().string();
  ASSERT_FALSE(posix_id.empty());
  const auto posix = results_of(posix_id);
  std::size_t posix_claims = 0;
  for (const auto& c : catalog_.claims()) posix_claims += is_posix_claim(c);

  std::smatch m;
  const std::string text = std::regex_replace(readme_, std::regex(R"(\s+)"), " ");  // prose wraps anywhere
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(\((\d+) live tests in \d+ suite processes, (\d+) on the simulator, (\d+) POSIX tests, (\d+) claims;)")))
      << "README.md's first paragraph of \"The two commands\" no longer counts the suite as this test reads it";
  EXPECT_EQ(std::stoul(m[1]), live.tests.size()) << m[0];
  EXPECT_EQ(std::stoul(m[2]), sim.tests.size()) << m[0];
  EXPECT_EQ(std::stoul(m[3]), posix.tests.size()) << m[0];
  EXPECT_EQ(std::stoul(m[4]), catalog_.claims().size()) << m[0];
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(of N runs: (\d+) tests in [\d.]+ s, and (\d+) mutants in [\d.]+ s)")))
      << "\"Speed\": the simulator's suite and its mutants";
  EXPECT_EQ(std::stoul(m[1]), sim.tests.size()) << m[0];
  EXPECT_EQ(std::stoul(m[2]), sim::mutants().size()) << m[0];
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(The POSIX suite \(`suite/posix/`, (\d+) tests\))"))) << "\"The POSIX column\"";
  EXPECT_EQ(std::stoul(m[1]), posix.tests.size()) << m[0];
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"((\d+) claims of the catalog's `posix` area)"))) << "\"The POSIX column\"";
  EXPECT_EQ(std::stoul(m[1]), posix_claims) << m[0];
}

}  // namespace
}  // namespace termsuite
