// The conformance matrix in a real browser: the report made from the committed results and, beside
// them, a real run of the explorer (harness/tests/data/explore; into the build tree, so no earlier
// conform or explore is needed) is loaded from disk by headless Chromium, and the DOM it renders
// must hold every claim's row, every platform's column, the status the committed results give in
// known cells and each of the explorer's findings, with nothing on the console. Screenshots of the page at a desktop
// and a phone width stay in the build tree (report-screenshot.png, report-screenshot-phone.png).
//
// Chromium runs with a private profile in the build tree, without sandbox (it refuses to start as
// root with one), with a deadline; after each run no process of that profile may be left.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "supervise.hpp"
#include "termsuite/claims.hpp"
#include "termsuite/matrix.hpp"

namespace fs = std::filesystem;

namespace termsuite {
namespace {

const fs::path kSource = TERMSUITE_SOURCE_DIR;
const fs::path kBuild = TERMSUITE_BINARY_DIR;
const fs::path kOut = kBuild / "report";
const fs::path kProfile = kBuild / "report" / "chromium-profile";
const fs::path kExplore = kSource / "harness" / "tests" / "data" / "explore";  // a real run's results

// The pids of processes whose command line names our private profile.
std::vector<int> processes_of_profile() {
  std::vector<int> pids;
  std::error_code ec;
  const std::string needle = kProfile.string();
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(it->path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(needle) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

struct BrowserRun {
  runner::Finished finished;
  std::vector<int> left_behind;  // processes of the profile still there 10 s after it ended
};

// Runs Chromium with `args`; its log (stderr) is captured, its stdout goes to `stdout_file`.
BrowserRun chromium(std::vector<std::string> args, const fs::path& stdout_file) {
  BrowserRun r;
  const auto program = runner::find_program("chromium");
  if (program.empty()) {
    r.finished.output = "chromium is not installed (./termsuite installs Debian's chromium package)";
    return r;
  }
  std::vector<std::string> all{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + kProfile.string(),
                               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--hide-scrollbars", "--force-device-scale-factor=1", "--enable-logging=stderr", "--v=0"};
  for (auto& a : args) all.push_back(std::move(a));
  all.insert(all.begin(), {"-c", "exec \"$0\" \"$@\" > \"$TERMSUITE_STDOUT\"", program});
  runner::Command c{"sh", all, {{"TERMSUITE_STDOUT", stdout_file.string()}}, {}, kOut};
  r.finished = runner::run(c, Deadline::in(std::chrono::seconds(90)));
  // The browser's helpers end with it; give them a deadline, then end what is left and say so.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(r.left_behind = processes_of_profile()).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling with a deadline: clean-up
  for (int pid : r.left_behind) ::kill(pid, SIGKILL);
  return r;
}

class ReportInBrowser : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::error_code ec;
    fs::remove_all(kOut, ec);
    // The committed results files and expectations, with the explorer's results beside them.
    const auto results = kOut / "results";
    fs::create_directories(results);
    for (const auto& e : fs::directory_iterator(kSource / "results"))
      if (e.path().extension() == ".json") fs::copy_file(e.path(), results / e.path().filename());
    fs::copy(kSource / "results" / "expectations", results / "expectations", fs::copy_options::recursive);
    fs::copy(kExplore, results / "explore", fs::copy_options::recursive);
    files_ = write_matrix(kSource / "docs" / "claims.json", results, results / "expectations", kOut, kSource);
    const auto url = "file://" + fs::absolute(files_.html).string();
    dom_run_ = chromium({"--dump-dom", url}, kOut / "dom.html");
    fs::remove(kBuild / "report-screenshot.png", ec);
    fs::remove(kBuild / "report-screenshot-phone.png", ec);
    shot_run_ = chromium({"--window-size=1280,5200", "--screenshot=" + (kBuild / "report-screenshot.png").string(), url},
                         kOut / "screenshot.out");
    phone_run_ = chromium({"--window-size=390,844", "--screenshot=" + (kBuild / "report-screenshot-phone.png").string(), url},
                          kOut / "screenshot-phone.out");
    dom_ = runner::read_text_file(kOut / "dom.html");
  }

  static inline MatrixFiles files_;
  static inline BrowserRun dom_run_, shot_run_, phone_run_;
  static inline std::string dom_;
};

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  auto a = text.find(open);
  if (a == std::string::npos) return {};
  auto b = text.find(close, a);
  return b == std::string::npos ? std::string() : text.substr(a, b - a + close.size());
}

std::string cell(const std::string& dom, const std::string& claim, const std::string& platform) {
  return between(dom, "data-claim=\"" + claim + "\" data-platform=\"" + platform + "\"", "</td>");
}

TEST_F(ReportInBrowser, ChromiumRendersThePageAndEndsCleanly) {
  for (const auto* r : {&dom_run_, &shot_run_, &phone_run_}) {
    EXPECT_TRUE(r->finished.ok()) << "exit " << r->finished.exit_code << (r->finished.timed_out ? " (deadline)" : "") << ": "
                                  << r->finished.output.substr(0, 2000);
    EXPECT_TRUE(r->left_behind.empty()) << r->left_behind.size() << " chromium process(es) of the profile left running";
  }
  EXPECT_NE(dom_.find("<table id=\"matrix\">"), std::string::npos) << dom_.substr(0, 2000);
}

TEST_F(ReportInBrowser, EveryClaimHasARowAndEveryPlatformAColumn) {
  auto catalog = ClaimsCatalog::load(kSource / "docs" / "claims.json");
  std::set<std::string> rows;
  std::regex row_re("<tr data-claim=\"([^\"]+)\">");
  for (std::sregex_iterator it(dom_.begin(), dom_.end(), row_re), end; it != end; ++it) rows.insert((*it)[1].str());
  for (const auto& c : catalog.claims()) EXPECT_TRUE(rows.contains(c.id)) << "no row for " << c.id;
  EXPECT_EQ(rows.size(), catalog.claims().size());

  auto columns = load_matrix_columns(kSource / "results", kSource / "results" / "expectations");
  ASSERT_FALSE(columns.empty());
  std::vector<std::string> headers;
  std::regex col_re("<th scope=\"col\" class=\"platform\" data-platform=\"([^\"]+)\"");
  for (std::sregex_iterator it(dom_.begin(), dom_.end(), col_re), end; it != end; ++it) headers.push_back((*it)[1].str());
  ASSERT_EQ(headers.size(), columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) EXPECT_EQ(headers[i], columns[i].results.platform.id);
  EXPECT_EQ(headers.back(), "sim") << "the simulator is the last column";
  // Every row has a cell per platform.
  std::regex cell_re("<td class=\"cell ");
  EXPECT_EQ(static_cast<std::size_t>(std::distance(std::sregex_iterator(dom_.begin(), dom_.end(), cell_re), std::sregex_iterator())),
            catalog.claims().size() * columns.size());
}

// From the committed Wine results, independently of the report's code: a claim all of whose tests
// pass, and one whose tests pass or are known deviations, at least one of them.
TEST_F(ReportInBrowser, KnownCellsShowTheCommittedStatus) {
  const auto file = kSource / "results" / "wine-8.0-x86_64.json";
  ASSERT_TRUE(fs::exists(file)) << file;
  auto results = parse_stable_json(runner::read_text_file(file), file.string());
  std::map<std::string, std::set<Outcome>> outcomes;
  for (const auto& t : results.tests) outcomes[t.claim].insert(t.outcome);
  std::string passing, deviating;
  for (const auto& [claim, set] : outcomes) {
    if (set == std::set<Outcome>{Outcome::pass} && passing.empty()) passing = claim;
    if (set.contains(Outcome::xfail) && std::all_of(set.begin(), set.end(), [](Outcome o) { return o == Outcome::pass || o == Outcome::xfail; }) &&
        deviating.empty())
      deviating = claim;
  }
  ASSERT_FALSE(passing.empty()) << "no claim passes on wine-8.0-x86_64 in " << file;
  ASSERT_FALSE(deviating.empty()) << "no claim is a known deviation on wine-8.0-x86_64 in " << file;

  auto pass_cell = cell(dom_, passing, "wine-8.0-x86_64");
  EXPECT_NE(pass_cell.find("data-status=\"pass\""), std::string::npos) << passing << ": " << pass_cell;
  EXPECT_NE(pass_cell.find("<span class=\"status\">pass</span>"), std::string::npos) << pass_cell;
  auto xfail_cell = cell(dom_, deviating, "wine-8.0-x86_64");
  EXPECT_NE(xfail_cell.find("data-status=\"xfail\""), std::string::npos) << deviating << ": " << xfail_cell;
  EXPECT_NE(xfail_cell.find("<span class=\"status\">xfail</span>"), std::string::npos) << xfail_cell;
  EXPECT_NE(xfail_cell.find("class=\"reason\""), std::string::npos) << "the expectation's reason: " << xfail_cell;
  auto sim_cell = cell(dom_, deviating, "sim");
  EXPECT_NE(sim_cell.find("data-status=\"pass\""), std::string::npos) << "the simulator passes every claim: " << sim_cell;
}

// A column's header explains itself: under Wine, the Windows version is the one Wine imitates; each
// total (a "not run" one too, when a platform has one) says what it counts, in its title.
TEST_F(ReportInBrowser, HeadersExplainTheirVersionAndTotals) {
  auto columns = load_matrix_columns(kSource / "results", kSource / "results" / "expectations");
  bool wine_seen = false, not_run_seen = false;
  for (const auto& col : columns) {
    const auto& id = col.results.platform.id;
    auto th = between(dom_, "<th scope=\"col\" class=\"platform\" data-platform=\"" + id + "\"", "</th>");
    ASSERT_FALSE(th.empty()) << "no header for " << id;
    if (!col.results.platform.wine.empty()) {
      wine_seen = true;
      EXPECT_NE(th.find("title=\"Wine reports the Windows version it imitates"), std::string::npos) << th;
    } else {
      EXPECT_EQ(th.find("Windows version it imitates"), std::string::npos) << "not a Wine column: " << th;
    }
    std::regex total_re("<span class=\"o o-([a-z-]+)\" title=\"([^\"]+)\">");
    std::size_t totals = 0;
    for (std::sregex_iterator it(th.begin(), th.end(), total_re), end; it != end; ++it) {
      ++totals;
      if ((*it)[1] == "not-run") {
        not_run_seen = true;
        EXPECT_NE((*it)[2].str().find("is asked with no test run here"), std::string::npos) << th;
      }
    }
    EXPECT_GT(totals, 0u) << "no total with a title in " << th;
  }
  EXPECT_TRUE(wine_seen) << "the committed results have a Wine platform";
  if (!not_run_seen) GTEST_LOG_(INFO) << "no platform leaves a claim not run: matrix_test checks that total's title";
  EXPECT_NE(dom_.find("\"not run\" counts the claims it is asked"), std::string::npos) << "the summary explains it too";
}

// The Windows vs POSIX table: a row per POSIX claim of the catalog, with its Windows claim, and the
// committed POSIX results' status in the POSIX column.
TEST_F(ReportInBrowser, WindowsVsPosixPairsEveryPosixClaim) {
  auto catalog = ClaimsCatalog::load(kSource / "docs" / "claims.json");
  auto table = between(dom_, "<table id=\"pairs\"", "</table>");
  ASSERT_FALSE(table.empty()) << "no Windows vs POSIX table";
  std::size_t posix_claims = 0;
  for (const auto& c : catalog.claims()) {
    if (!is_posix_claim(c)) continue;
    ++posix_claims;
    EXPECT_NE(table.find("<tr data-windows=\"" + c.contrasts + "\" data-posix=\"" + c.id + "\">"), std::string::npos)
        << "no pair for " << c.id;
  }
  EXPECT_GE(posix_claims, 10u);
  for (const auto& col : load_matrix_columns(kSource / "results", kSource / "results" / "expectations")) {
    if (!is_posix_platform(col.results.platform)) continue;
    for (const auto& t : col.results.tests) {
      if (t.outcome != Outcome::pass || claim_status(col, t.claim) != Outcome::pass) continue;
      auto td = between(table, "data-claim=\"" + t.claim + "\" data-platform=\"" + col.results.platform.id + "\"", "</td>");
      EXPECT_NE(td.find("data-status=\"pass\""), std::string::npos) << t.claim << ": " << td;
      return;  // one known cell is enough
    }
  }
  ADD_FAILURE() << "no passing POSIX claim in the committed results";
}

// The explorer's section: a block per finding of the run's file, its claims linked to rows the
// page has.
TEST_F(ReportInBrowser, TheExplorersFindingsFollowTheMatrix) {
  const auto file = kExplore / "wine-8.0-x86_64.json";
  const auto run = nlohmann::json::parse(runner::read_text_file(file));
  const auto at = dom_.find("<h2 id=\"explorer\">");
  ASSERT_NE(at, std::string::npos) << "no explorer section";
  EXPECT_GT(at, dom_.find("<table id=\"matrix\">"));
  EXPECT_NE(between(dom_, "<tr data-platform=\"wine-8.0-x86_64\">", "</tr>").find("<td class=\"seed\">" + run["seed"].dump() + "</td>"),
            std::string::npos);
  const auto section = dom_.substr(at);
  std::size_t number = 0;
  for (const auto& f : run["findings"]) {
    const auto block = between(section, fmt::format("id=\"finding-wine-8.0-x86_64-{}\"", ++number), "</section>");
    ASSERT_FALSE(block.empty()) << "no block for finding " << number;
    EXPECT_NE(block.find("data-status=\"" + f["status"].get<std::string>() + "\""), std::string::npos) << block;
    EXPECT_NE(block.find("<pre class=\"difference\">"), std::string::npos) << block;
    for (const auto& claim : f["claims"])
      EXPECT_NE(block.find("<a href=\"#claim-" + claim.get<std::string>() + "\">"), std::string::npos) << claim << " not linked: " << block;
    EXPECT_NE(block.find(f["file"].get<std::string>() + "</code>"), std::string::npos) << "no command names the scenario file: " << block;
  }
  EXPECT_EQ(number, run["findings"].size());
  std::regex link_re("href=\"#claim-([^\"]+)\"");
  for (std::sregex_iterator it(section.begin(), section.end(), link_re), end; it != end; ++it)
    EXPECT_NE(dom_.find("id=\"claim-" + (*it)[1].str() + "\""), std::string::npos) << "a link to no row: " << (*it)[1];
}

TEST_F(ReportInBrowser, NothingOnTheConsole) {
  std::istringstream lines(dom_run_.finished.output + shot_run_.finished.output + phone_run_.finished.output);
  for (std::string line; std::getline(lines, line);)
    EXPECT_EQ(line.find(":CONSOLE"), std::string::npos) << line;
}

TEST_F(ReportInBrowser, ScreenshotsAreKept) {
  for (const auto* name : {"report-screenshot.png", "report-screenshot-phone.png"}) {
    const auto png = kBuild / name;
    ASSERT_TRUE(fs::exists(png)) << png;
    auto bytes = runner::read_text_file(png);
    EXPECT_GT(bytes.size(), 10'000u) << png;
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << png;
  }
}

}  // namespace
}  // namespace termsuite
