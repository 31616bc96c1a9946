// The conformance matrix (report.html, MATRIX.md) on crafted inputs: a claim's status per cell, the
// cells of claims a platform did not run, the columns' order, escaping, determinism, and the
// errors a malformed results folder gives; the explorer's section, from a real run's file and
// from crafted ones, in both renderers, and its absence.
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "termsuite/matrix.hpp"
#include "test_platforms.hpp"

namespace fs = std::filesystem;

namespace termsuite {
namespace {

// Two areas, the first claim's statement and quote full of markup; a document without an address.
constexpr std::string_view kCatalog = R"({
  "version": 2,
  "documents": [
    {"id": "doc-a", "title": "Terminating <a> \"Process\"", "by": "Microsoft & co", "url": "https://example.org/a?x=1&y=2"},
    {"id": "doc-b", "title": "Remote Process Termination", "url": null}
  ],
  "claims": [
    {"id": "exit.code", "area": "exit", "statement": "returns <script>alert('x')</script> & more | pipes",
     "grade": "documented", "sim_only": false,
     "sources": [{"document": "doc-a", "quote": "The exit code <b>is</b> \"kept\"."}],
     "evidence": [], "tests": ["Exit.Code", "Exit.Other"]},
    {"id": "ctrl.close", "area": "ctrl", "statement": "a close event ends the process", "grade": "windows-observed",
     "sim_only": false, "sources": [{"document": "doc-b", "quote": "It closes."}], "evidence": [],
     "tests": ["Ctrl.Close"]},
    {"id": "exit.still-active", "area": "exit", "statement": "still active", "grade": "unverified", "sim_only": false,
     "sources": [{"document": "doc-a", "quote": "STILL_ACTIVE"}], "evidence": [], "tests": ["Exit.Still"]}
  ]
})";

struct TempDir {
  fs::path path;
  explicit TempDir(std::string_view name) {
    path = fs::path(testing::TempDir()) / ("termsuite-matrix-" + std::string(name));
    fs::remove_all(path);
    fs::create_directories(path / "expectations");
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void write(const fs::path& rel, std::string_view text) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream out(path / rel, std::ios::binary);
    out << text;
  }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TestResult test(std::string name, std::string claim, Outcome o, std::string detail = {}) {
  TestResult t;
  t.name = std::move(name);
  t.claim = std::move(claim);
  t.backend = "live";
  t.outcome = o;
  t.detail = std::move(detail);
  return t;
}

// A folder with three platforms: Wine (an xfail with its reason, a FAIL, an escaped detail), a
// Windows build (TIMEOUT, XPASS, SKIP, a claim not run) and the simulator (every claim passes); in
// `dir` itself, or in its subfolder `in`.
void write_three_platforms(const TempDir& dir, const fs::path& in = {}) {
  RunResults wine{wine_platform(),
                  {test("Exit.Code", "exit.code", Outcome::pass), test("Exit.Other", "exit.code", Outcome::xfail, "exit code 0, not 0xC000013A"),
                   test("Ctrl.Close", "ctrl.close", Outcome::fail, "saw \"><img src=x onerror=alert(1)> & left"),
                   test("Exit.Still", "exit.still-active", Outcome::pass)}};
  wine.tests[0].observed["handlers <run>"] = "atexit & dtors";
  dir.write(in / "wine-8.0-x86_64.json", stable_json(wine));
  dir.write(in / "expectations/wine-8.0-x86_64.json", R"({"platform": "wine-8.0-x86_64", "deviations": [
      {"test": "Exit.Other", "claim": "exit.code", "expect": "fail", "reason": "Wine's <default> handler exits with 0"}]})");
  RunResults windows{windows_platform(),
                     {test("Exit.Code", "exit.code", Outcome::timeout, "no exit event in 30 s"),
                      test("Exit.Other", "exit.code", Outcome::xpass, "passed"), test("Ctrl.Close", "ctrl.close", Outcome::skip, "Windows Terminal")}};
  dir.write(in / "windows-10.0.22631-x86_64.json", stable_json(windows));
  dir.write(in / "expectations/windows-x86_64.json", R"({"platform": "windows-x86_64", "deviations": [
      {"test": "Exit.Other", "claim": "exit.code", "expect": "fail", "reason": "a stale entry"}]})");
  RunResults sim{sim_platform(),
                 {test("Exit.Code", "exit.code", Outcome::pass), test("Exit.Other", "exit.code", Outcome::pass),
                  test("Ctrl.Close", "ctrl.close", Outcome::pass), test("Exit.Still", "exit.still-active", Outcome::pass)}};
  dir.write(in / "sim.json", stable_json(sim));
}

// The <td> of one claim on one platform.
std::string cell(const std::string& html, const std::string& claim, const std::string& platform) {
  std::regex re("<td [^>]*data-claim=\"" + std::regex_replace(claim, std::regex("\\."), "\\.") + "\" data-platform=\"" +
                std::regex_replace(platform, std::regex("\\."), "\\.") + "\"[^>]*>.*?</td>");
  std::smatch m;
  return std::regex_search(html, m, re) ? m.str() : std::string();
}

std::string status_of(const std::string& td) {
  std::smatch m;
  return std::regex_search(td, m, std::regex("data-status=\"([a-z-]+)\"")) ? m[1].str() : std::string();
}

TEST(Matrix, AClaimsStatusIsTheWorstOutcomeOfItsTests) {
  MatrixColumn c;
  c.results.platform = wine_platform();
  c.results.tests = {test("A.One", "x.a", Outcome::pass), test("A.Two", "x.a", Outcome::xfail), test("B.One", "x.b", Outcome::pass),
                     test("C.One", "x.c", Outcome::skip), test("C.Two", "x.c", Outcome::xpass), test("C.Three", "x.c", Outcome::pass),
                     test("D.One", "x.d", Outcome::timeout), test("D.Two", "x.d", Outcome::fail)};
  EXPECT_EQ(claim_status(c, "x.a"), Outcome::xfail);
  EXPECT_EQ(claim_status(c, "x.b"), Outcome::pass);
  EXPECT_EQ(claim_status(c, "x.c"), Outcome::xpass);
  EXPECT_EQ(claim_status(c, "x.d"), Outcome::fail);
  EXPECT_EQ(claim_status(c, "x.none"), std::nullopt);
  EXPECT_EQ(status_word(std::nullopt), "not run");
  EXPECT_EQ(status_word(Outcome::timeout), "TIMEOUT");
}

TEST(Matrix, CellsShowEachPlatformsStatusAndTheSimulatorComesLast) {
  TempDir dir("cells");
  write_three_platforms(dir);
  auto catalog = ClaimsCatalog::parse(kCatalog, "catalog");
  auto columns = load_matrix_columns(dir.path, dir.path / "expectations");
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0].results.platform.id, "windows-10.0.22631-x86_64");
  EXPECT_EQ(columns[1].results.platform.id, "wine-8.0-x86_64");
  EXPECT_EQ(columns[2].results.platform.id, "sim");
  auto html = matrix_html(catalog, columns);

  EXPECT_EQ(status_of(cell(html, "exit.code", "wine-8.0-x86_64")), "xfail");
  EXPECT_EQ(status_of(cell(html, "ctrl.close", "wine-8.0-x86_64")), "fail");
  EXPECT_EQ(status_of(cell(html, "exit.still-active", "wine-8.0-x86_64")), "pass");
  EXPECT_EQ(status_of(cell(html, "exit.code", "windows-10.0.22631-x86_64")), "timeout");
  EXPECT_EQ(status_of(cell(html, "ctrl.close", "windows-10.0.22631-x86_64")), "skip");
  EXPECT_EQ(status_of(cell(html, "exit.still-active", "windows-10.0.22631-x86_64")), "not-run");
  EXPECT_EQ(status_of(cell(html, "exit.code", "sim")), "pass");

  // The word beside the colour, the count of tests, and each test's outcome with the reason.
  auto xfail = cell(html, "exit.code", "wine-8.0-x86_64");
  EXPECT_NE(xfail.find("<span class=\"status\">xfail</span>"), std::string::npos) << xfail;
  EXPECT_NE(xfail.find("2 tests (1 pass, 1 xfail)"), std::string::npos) << xfail;
  EXPECT_NE(xfail.find("expected fail: Wine&#39;s &lt;default&gt; handler exits with 0"), std::string::npos) << xfail;
  EXPECT_NE(xfail.find("exit code 0, not 0xC000013A"), std::string::npos) << xfail;
  EXPECT_NE(xfail.find("<code>handlers &lt;run&gt;</code> = atexit &amp; dtors"), std::string::npos) << xfail;
  auto xpass = cell(html, "exit.code", "windows-10.0.22631-x86_64");
  EXPECT_NE(xpass.find(">XPASS</span>"), std::string::npos) << xpass;
  EXPECT_NE(xpass.find("a stale entry"), std::string::npos) << "the family file's reason: " << xpass;
  auto not_run = cell(html, "exit.still-active", "windows-10.0.22631-x86_64");
  EXPECT_NE(not_run.find(">not run</span></td>"), std::string::npos) << not_run;

  // Areas in catalog order (exit before ctrl), each claim once, in catalog order within its area.
  auto exit_at = html.find("<tbody data-area=\"exit\">"), ctrl_at = html.find("<tbody data-area=\"ctrl\">");
  ASSERT_NE(exit_at, std::string::npos);
  ASSERT_NE(ctrl_at, std::string::npos);
  EXPECT_LT(exit_at, ctrl_at);
  EXPECT_LT(html.find("<tr data-claim=\"exit.code\">"), html.find("<tr data-claim=\"exit.still-active\">"));
  EXPECT_LT(html.find("<tr data-claim=\"exit.still-active\">"), ctrl_at);
  // Column headers: version and totals.
  EXPECT_NE(html.find("Wine 8.0 \xC2\xB7 Windows 6.1.7601 \xC2\xB7 x86_64"), std::string::npos);
  EXPECT_NE(html.find("the simulator (termsim 1)"), std::string::npos);
  // ...each explained in its title: the version Wine imitates, what a total counts ("not run" too).
  EXPECT_NE(html.find("<div class=\"ver\" title=\"Wine reports the Windows version it imitates (its prefix&#39;s Windows "
                      "version, set in winecfg): Windows 6.1.7601, as Wine 8.0"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<span class=\"o o-not-run\" title=\"1 claim this platform is asked with no test run here"), std::string::npos)
      << html;
  EXPECT_NE(html.find("<span class=\"o o-xfail\" title=\"1 claim whose status here is xfail: known deviation"), std::string::npos)
      << html;
}

TEST(Matrix, EverythingFromTheFilesIsEscaped) {
  TempDir dir("escaping");
  write_three_platforms(dir);
  auto catalog = ClaimsCatalog::parse(kCatalog, "catalog");
  auto columns = load_matrix_columns(dir.path, dir.path / "expectations");
  auto html = matrix_html(catalog, columns);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>is</b>"), std::string::npos);
  EXPECT_NE(html.find("returns &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more | pipes"), std::string::npos);
  EXPECT_NE(html.find("saw &quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; left"), std::string::npos);
  EXPECT_NE(html.find("The exit code &lt;b&gt;is&lt;/b&gt; &quot;kept&quot;."), std::string::npos);
  EXPECT_NE(html.find("<a href=\"https://example.org/a?x=1&amp;y=2\" title=\"Microsoft &amp; co\">Terminating &lt;a&gt; &quot;Process&quot;</a>"),
            std::string::npos);
  EXPECT_NE(html.find("<cite>Remote Process Termination</cite>"), std::string::npos) << "no address: cited by title";
  // The only <script> is the page's own, which opens the details for print.
  std::size_t scripts = 0;
  for (auto at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) ++scripts;
  EXPECT_EQ(scripts, 1u);

  auto md = matrix_markdown(catalog, columns);
  EXPECT_NE(md.find("returns &lt;script&gt;alert('x')&lt;/script&gt; &amp; more \\| pipes"), std::string::npos) << md;
  EXPECT_NE(md.find("[Terminating &lt;a&gt; \"Process\"](https://example.org/a?x=1&y=2)"), std::string::npos) << md;
  // Every row of the claims' table has as many cells as its header: claim, grade, source, 3 platforms.
  auto table = md.substr(md.find("| claim |"));
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    auto unescaped = std::regex_replace(line, std::regex("\\\\\\|"), "");
    EXPECT_EQ(std::count(unescaped.begin(), unescaped.end(), '|'), 7) << line;
  }
}

TEST(Matrix, MarkdownHasSymbolsWordsCountsAndALegend) {
  TempDir dir("markdown");
  write_three_platforms(dir);
  auto catalog = ClaimsCatalog::parse(kCatalog, "catalog");
  auto md = matrix_markdown(catalog, load_matrix_columns(dir.path, dir.path / "expectations"));
  EXPECT_NE(md.find("| `windows-10.0.22631-x86_64` | `wine-8.0-x86_64` | `sim` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| documented | [Terminating"), std::string::npos) << md;
  // exit.code: TIMEOUT on Windows (2 tests), xfail on Wine (2), pass on the simulator (2).
  EXPECT_NE(md.find("\xE2\x8F\xB1\xEF\xB8\x8F TIMEOUT (2) | \xF0\x9F\x9F\xA1 xfail (2) | \xE2\x9C\x85 pass (2) |"), std::string::npos) << md;
  EXPECT_NE(md.find("\xE2\x9E\x96 not run |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **ctrl** |"), std::string::npos) << md;
  ASSERT_NE(md.find("Legend:"), std::string::npos) << md;
  auto legend = md.substr(md.find("Legend:"), md.find('\n', md.find("Legend:")) - md.find("Legend:"));
  for (auto word : {" pass (", " xfail (", " FAIL (", " TIMEOUT (", " XPASS (", " SKIP (", " INCONCLUSIVE (", " not run ("})
    EXPECT_NE(legend.find(word), std::string::npos) << word << " in " << legend;
  // The evidence grades have a legend of their own, clones-agree included.
  for (auto grade : {" documented (", " windows-observed (", " clones-agree (", " unverified ("})
    EXPECT_NE(md.find(grade, md.find("Evidence grades:")), std::string::npos) << grade;
}

// A claim one of whose tests could not tell is INCONCLUSIVE, in its own colour, symbol and word,
// never pass; a failing test still outranks it.
TEST(Matrix, AnInconclusiveTestMakesItsClaimInconclusiveNeverPass) {
  MatrixColumn c;
  c.results.platform = wine_platform();
  c.results.tests = {test("A.One", "x.a", Outcome::pass), test("A.Two", "x.a", Outcome::inconclusive),
                     test("B.One", "x.b", Outcome::skip), test("B.Two", "x.b", Outcome::inconclusive),
                     test("C.One", "x.c", Outcome::inconclusive), test("C.Two", "x.c", Outcome::fail)};
  EXPECT_EQ(claim_status(c, "x.a"), Outcome::inconclusive);
  EXPECT_EQ(claim_status(c, "x.b"), Outcome::inconclusive);
  EXPECT_EQ(claim_status(c, "x.c"), Outcome::fail);
  EXPECT_EQ(status_word(Outcome::inconclusive), "INCONCLUSIVE");

  TempDir dir("inconclusive");
  RunResults wine{wine_platform(),
                  {test("Exit.Code", "exit.code", Outcome::pass),
                   test("Exit.Other", "exit.code", Outcome::inconclusive, "the control's ids were never reused"),
                   test("Ctrl.Close", "ctrl.close", Outcome::pass), test("Exit.Still", "exit.still-active", Outcome::pass)}};
  dir.write("wine-8.0-x86_64.json", stable_json(wine));
  auto catalog = ClaimsCatalog::parse(kCatalog, "catalog");
  auto columns = load_matrix_columns(dir.path, dir.path / "expectations");
  auto html = matrix_html(catalog, columns);
  auto td = cell(html, "exit.code", "wine-8.0-x86_64");
  EXPECT_EQ(status_of(td), "inconclusive") << td;
  EXPECT_NE(td.find("class=\"cell s-inconclusive\""), std::string::npos) << td;
  EXPECT_NE(td.find("the control&#39;s ids were never reused"), std::string::npos) << td;
  EXPECT_NE(html.find(".s-inconclusive{"), std::string::npos) << "no colour of its own";
  EXPECT_NE(html.find("<span class=\"chip s-inconclusive\">INCONCLUSIVE</span>"), std::string::npos) << "not in the legend";
  EXPECT_NE(html.find("<span class=\"grade g-clones-agree\">clones-agree</span>"), std::string::npos) << "no grade legend";
  auto md = matrix_markdown(catalog, columns);
  EXPECT_NE(md.find("\xE2\x9D\x94 INCONCLUSIVE (2) |"), std::string::npos) << md;
  EXPECT_NE(md.find("\xE2\x9D\x94 1"), std::string::npos) << "the platform's totals count it: " << md;
}

TEST(Matrix, SameInputsGiveTheSameBytes) {
  TempDir a("same-a"), b("same-b");
  write_three_platforms(a);
  write_three_platforms(b);
  a.write("catalog.txt", kCatalog);  // not a *.json: the results folder holds only results files
  const auto catalog = a.path / "catalog.txt";
  auto fa = write_matrix(catalog, a.path, a.path / "expectations", a.path / "out", a.path);
  auto fb = write_matrix(catalog, b.path, b.path / "expectations", b.path / "out", b.path);
  EXPECT_EQ(read(fa.html), read(fb.html));
  EXPECT_EQ(read(fa.markdown), read(fb.markdown));
  EXPECT_EQ(fa.html.filename(), "report.html");
  EXPECT_EQ(fa.markdown.filename(), "MATRIX.md");
  EXPECT_EQ(read(fa.html).find(a.path.string()), std::string::npos) << "no path of the machine in the page";
}

TEST(Matrix, TheDateOfARunIsShownWhenTheFileRecordsOne) {
  TempDir dir("date");
  auto text = stable_json(RunResults{wine_platform(), {test("Exit.Code", "exit.code", Outcome::pass)}});
  text.insert(text.find('{') + 1, "\n  \"date\": \"2024-05-01 <b>\",");
  dir.write("wine-8.0-x86_64.json", text);
  auto columns = load_matrix_columns(dir.path, dir.path / "expectations");
  ASSERT_EQ(columns.size(), 1u);
  EXPECT_EQ(columns[0].date, "2024-05-01 <b>");
  auto html = matrix_html(ClaimsCatalog::parse(kCatalog, "catalog"), columns);
  EXPECT_NE(html.find("<div class=\"date\">run 2024-05-01 &lt;b&gt;</div>"), std::string::npos);
}

TEST(Matrix, AClaimTheCatalogLacksGetsARowOfItsOwn) {
  TempDir dir("unknown");
  dir.write("wine-8.0-x86_64.json", stable_json(RunResults{wine_platform(), {test("Gone.Test", "gone.claim", Outcome::fail)}}));
  auto html = matrix_html(ClaimsCatalog::parse(kCatalog, "catalog"), load_matrix_columns(dir.path, dir.path / "expectations"));
  EXPECT_NE(html.find("<tr data-claim=\"gone.claim\">"), std::string::npos);
  EXPECT_EQ(status_of(cell(html, "gone.claim", "wine-8.0-x86_64")), "fail");
  EXPECT_NE(html.find("not in the claims catalog"), std::string::npos);
}

void expect_matrix_error(const TempDir& dir, const std::string& needle) {
  try {
    load_matrix_columns(dir.path, dir.path / "expectations");
    ADD_FAILURE() << "no error; expected one with " << needle;
  } catch (const MatrixError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

// A catalog with a Windows claim and the POSIX claim that contrasts with it.
constexpr std::string_view kPairedCatalog = R"({
  "version": 2,
  "documents": [{"id": "doc-a", "title": "A", "url": "https://example.org/a"}],
  "claims": [
    {"id": "ctrl.new-thread", "area": "ctrl", "statement": "a handler runs on a new thread", "grade": "documented",
     "sim_only": false, "sources": [{"document": "doc-a", "quote": "q"}], "evidence": [], "tests": ["Ctrl.NewThread"]},
    {"id": "posix.interrupts", "area": "posix", "statement": "a signal handler <interrupts> a thread", "grade": "documented",
     "sim_only": false, "sources": [{"document": "doc-a", "quote": "q"}], "evidence": [], "tests": ["PosixSignals.Interrupt"],
     "contrasts": "ctrl.new-thread", "difference": "Windows creates a thread; POSIX <borrows> one"}
  ]
})";

TEST(Matrix, APlatformNotAskedAClaimShowsNotApplicableAndCountsItNowhere) {
  TempDir dir("posix");
  dir.write("wine-8.0-x86_64.json", stable_json(RunResults{wine_platform(), {test("Ctrl.NewThread", "ctrl.new-thread", Outcome::pass)}}));
  auto posix_test = test("PosixSignals.Interrupt", "posix.interrupts", Outcome::pass);
  posix_test.backend = "posix";
  dir.write("linux-6.1-x86_64.json", stable_json(RunResults{linux_platform(), {posix_test}}));
  auto catalog = ClaimsCatalog::parse(kPairedCatalog, "catalog");
  auto columns = load_matrix_columns(dir.path, dir.path / "expectations");
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[0].results.platform.id, "wine-8.0-x86_64") << "Windows platforms come before the POSIX systems";
  EXPECT_EQ(columns[1].results.platform.id, "linux-6.1-x86_64");
  auto html = matrix_html(catalog, columns);
  EXPECT_EQ(status_of(cell(html, "posix.interrupts", "wine-8.0-x86_64")), "n-a");
  EXPECT_EQ(status_of(cell(html, "ctrl.new-thread", "linux-6.1-x86_64")), "n-a");
  EXPECT_EQ(status_of(cell(html, "posix.interrupts", "linux-6.1-x86_64")), "pass");
  EXPECT_EQ(status_of(cell(html, "ctrl.new-thread", "wine-8.0-x86_64")), "pass");
  EXPECT_NE(html.find("Linux 6.1 \xC2\xB7 x86_64"), std::string::npos);
  // Totals count the claims a platform is asked: one each, no "not run".
  EXPECT_EQ(html.find("not run</span><br>"), std::string::npos);
  auto md = matrix_markdown(catalog, columns);
  EXPECT_NE(md.find("\xC2\xB7 n/a |"), std::string::npos) << md;
}

TEST(Matrix, WindowsVsPosixPairsEachPosixClaimWithItsWindowsClaim) {
  TempDir dir("pairs");
  dir.write("wine-8.0-x86_64.json", stable_json(RunResults{wine_platform(), {test("Ctrl.NewThread", "ctrl.new-thread", Outcome::xfail)}}));
  dir.write("linux-6.1-x86_64.json", stable_json(RunResults{linux_platform(), {test("PosixSignals.Interrupt", "posix.interrupts", Outcome::pass)}}));
  dir.write("sim.json", stable_json(RunResults{sim_platform(), {test("Ctrl.NewThread", "ctrl.new-thread", Outcome::pass)}}));
  auto catalog = ClaimsCatalog::parse(kPairedCatalog, "catalog");
  auto columns = load_matrix_columns(dir.path, dir.path / "expectations");
  auto html = matrix_html(catalog, columns);
  auto at = html.find("<table id=\"pairs\"");
  ASSERT_NE(at, std::string::npos) << "no Windows vs POSIX table";
  auto pairs = html.substr(at, html.find("</table>", at) - at);
  auto row_at = pairs.find("<tr data-windows=\"ctrl.new-thread\" data-posix=\"posix.interrupts\">");
  ASSERT_NE(row_at, std::string::npos) << pairs;
  auto row = pairs.substr(row_at, pairs.find("</tr>", row_at) - row_at);
  // The Windows claim with its Windows columns (the simulator's too), then the POSIX claim with the POSIX column.
  EXPECT_EQ(status_of(cell(row, "ctrl.new-thread", "wine-8.0-x86_64")), "xfail") << row;
  EXPECT_EQ(status_of(cell(row, "ctrl.new-thread", "sim")), "pass") << row;
  EXPECT_EQ(status_of(cell(row, "posix.interrupts", "linux-6.1-x86_64")), "pass") << row;
  EXPECT_LT(row.find("data-platform=\"sim\""), row.find("<code class=\"id\">posix.interrupts</code>"));
  EXPECT_NE(row.find("a signal handler &lt;interrupts&gt; a thread"), std::string::npos) << row;
  EXPECT_EQ(cell(row, "posix.interrupts", "wine-8.0-x86_64"), "") << "a POSIX claim has no Windows cell in its pair";
  // What the pair shows to differ, last in its row and under the POSIX claim's header.
  EXPECT_NE(row.find("<td class=\"difference\">Windows creates a thread; POSIX &lt;borrows&gt; one</td>"), std::string::npos) << row;
  EXPECT_NE(html.find("what differs: Windows creates a thread; POSIX &lt;borrows&gt; one"), std::string::npos);
  // In the matrix, each claim's header links the other half of its pair.
  EXPECT_NE(html.find("the POSIX counterpart of <a href=\"#claim-ctrl.new-thread\">"), std::string::npos);
  EXPECT_NE(html.find("its POSIX counterpart: <a href=\"#claim-posix.interrupts\">"), std::string::npos);
  auto md = matrix_markdown(catalog, columns);
  EXPECT_NE(md.find("## Windows vs POSIX"), std::string::npos);
  EXPECT_NE(md.find("| `ctrl.new-thread` a handler runs on a new thread | \xF0\x9F\x9F\xA1 xfail |"), std::string::npos) << md;
  EXPECT_NE(md.find(" what differs |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| Windows creates a thread; POSIX &lt;borrows&gt; one |\n"), std::string::npos) << md;
  // Without POSIX claims there is no such table.
  EXPECT_EQ(matrix_html(ClaimsCatalog::parse(kCatalog, "catalog"), columns).find("id=\"pairs\""), std::string::npos);
}

TEST(Matrix, AMalformedResultsFileIsAnErrorNamingIt) {
  {
    TempDir dir("malformed-json");
    write_three_platforms(dir);
    dir.write("broken.json", "{\"platform\": ");
    expect_matrix_error(dir, "broken.json");
  }
  {
    TempDir dir("malformed-outcome");
    dir.write("odd.json", R"({"platform": {"id": "wine-8.0-x86_64", "os": "windows", "version": "6.1", "wine": "8.0", "arch": "x86_64"},
      "tests": [{"name": "A.B", "claim": "exit.code", "backend": "live", "outcome": "great", "detail": ""}]})");
    expect_matrix_error(dir, "odd.json");
  }
  {
    TempDir dir("not-results");
    dir.write("notes.json", R"({"hello": "world"})");
    expect_matrix_error(dir, "notes.json");
  }
  {
    TempDir dir("bad-id");
    auto p = wine_platform();
    p.id = "../../etc";
    dir.write("x.json", stable_json(RunResults{p, {}}));
    expect_matrix_error(dir, "x.json");
  }
  {
    TempDir dir("twice");
    write_three_platforms(dir);
    dir.write("copy-of-wine.json", read(dir.path / "wine-8.0-x86_64.json"));
    expect_matrix_error(dir, ": platform wine-8.0-x86_64 again (already in ");
  }
  {
    TempDir dir("empty");
    expect_matrix_error(dir, "no results file");
  }
  {
    TempDir dir("bad-expectations");
    write_three_platforms(dir);
    dir.write("expectations/wine-8.0-x86_64.json", R"({"platform": "wine-8.0-x86_64", "deviations": [{"test": 1}]})");
    EXPECT_THROW(load_matrix_columns(dir.path, dir.path / "expectations"), ExpectationsError);
  }
}


// ---- The explorer's section --------------------------------------------------------------------

using Json = nlohmann::ordered_json;

const fs::path kExploreFixture = fs::path(TERMSUITE_SOURCE_DIR) / "harness" / "tests" / "data" / "explore";

// An explorer results file in the form `termsuite explore` writes (explore::to_json and the
// command's additions): one known finding with a claim the catalog has and one it lacks, one new
// finding that differs from the first line on; texts carrying markup, backticks in a signature
// and a run of three in a scenario.
Json explore_run_json() {
  Json known = {{"signature", "exit-code: 0xc000013a -> 0x0 <b>"},
                {"status", "known"},
                {"known_because", "exit.code is a known deviation <i>here</i>"},
                {"claims", {"exit.code", "gone.claim"}},
                {"reproduced_by_mutants", {"m-a"}},
                {"involves_mutants", Json::array()},
                {"steps", 2},
                {"scenario", "# termsuite-scenario 1\nstart a1 return 3\nwait a1\nexit-code a1 # ``` <script>\n"},
                {"original_steps", 9},
                {"first_difference",
                 {{"line", 2}, {"model", "3 exit-code a1: 0xc000013a"}, {"live", "3 exit-code a1: 0x0 <img src=x>"},
                  {"last_agreement", "2 wait a1: signaled"}}},
                {"model_trace", {"1 start a1 return 3: started", "2 wait a1: signaled", "3 exit-code a1: 0xc000013a"}},
                {"live_trace", {"1 start a1 return 3: started", "2 wait a1: signaled", "3 exit-code a1: 0x0 <img src=x>"}},
                {"confirmations", "2 of 2"},
                {"live_seconds", 0.4},
                {"file", "wine-8.0-x86_64/finding-1.scn"}};
  Json fresh = {{"signature", "ctrl: `0` -> 6"},
                {"status", "new"},
                {"claims", Json::array()},
                {"reproduced_by_mutants", Json::array()},
                {"involves_mutants", Json::array()},
                {"steps", 1},
                {"scenario", "# termsuite-scenario 1\nctrl 1 0\n"},
                {"original_steps", 6},
                {"first_difference", {{"line", 0}, {"model", "1 ctrl 1 0: 0"}, {"live", ""}, {"last_agreement", ""}}},
                {"model_trace", {"1 ctrl 1 0: 0"}},
                {"live_trace", Json::array()},
                {"confirmations", "2 of 2"},
                {"live_seconds", 0.2},
                {"file", "wine-8.0-x86_64/finding-2.scn"}};
  return {{"platform", "wine-8.0-x86_64"},
          {"seed", 42},
          {"seconds", 30.5},
          {"scenarios", 61},
          {"scenarios_per_minute", 120.0},
          {"disagreements", 3},
          {"flaky", 1},
          {"flaky_signatures", {"poll a1: 0 -> 258 (1 of 2 re-runs)"}},
          {"invalid_generated", 0},
          {"new_findings", 1},
          {"mutants_covered", {"m-a", "m-b"}},
          {"claims_covered", {"exit.code"}},
          {"steps_by_op", {{"start", 2}}},
          {"verbs", {{"return", 1}}},
          {"findings", {known, fresh}},
          {"budget_seconds", 30.0},
          {"players", 2},
          {"player_restarts", 0}};
}

// The run's file and its findings' scenario files, in <results>/explore/ as the explorer leaves them.
void write_explore(const TempDir& dir, const fs::path& results, const Json& run) {
  dir.write(results / "explore" / (run["platform"].get<std::string>() + ".json"), run.dump(2));
  for (const auto& f : run["findings"])
    if (f.contains("file") && f["file"].is_string() && f.contains("scenario") && f["scenario"].is_string())
      dir.write(results / "explore" / f["file"].get<std::string>(), f["scenario"].get<std::string>());
}

// The part of a page from `open` to the next `close` (inclusive); "" if either is missing.
std::string part(const std::string& text, const std::string& open, const std::string& close) {
  auto a = text.find(open);
  if (a == std::string::npos) return {};
  auto b = text.find(close, a + open.size());
  return b == std::string::npos ? std::string() : text.substr(a, b - a + close.size());
}

// Each of `parts` is somewhere in `text`.
void expect_parts(const std::string& text, std::initializer_list<std::string_view> parts) {
  for (auto p : parts) EXPECT_NE(text.find(p), std::string::npos) << p << "\n  in:\n" << text;
}

// The model from a real run's file (the explorer's own output, kept as a fixture), checked against
// the file as read here independently of the report's code.
TEST(ExploreSection, IsBuiltFromTheExplorersResultsFile) {
  const auto file = kExploreFixture / "wine-8.0-x86_64.json";
  const auto text = read(file);
  const auto j = Json::parse(text);
  const auto run = parse_explore_run(text, file.string(), "results/explore");
  EXPECT_EQ(run.file, "wine-8.0-x86_64.json");
  EXPECT_EQ(run.platform, "wine-8.0-x86_64");
  EXPECT_EQ(run.seed, 1u);
  EXPECT_EQ(run.budget_seconds, 60.0);
  EXPECT_EQ(run.seconds, 7.4);
  EXPECT_EQ(run.scenarios, 12);
  EXPECT_EQ(run.scenarios_per_minute, 98.0);
  EXPECT_EQ(run.disagreements, 8);
  EXPECT_EQ(run.flaky, 0);
  EXPECT_EQ(run.mutants_covered.size(), j["mutants_covered"].size());
  EXPECT_EQ(run.claims_covered, j["claims_covered"].get<std::vector<std::string>>());
  ASSERT_EQ(run.findings.size(), j["findings"].size());
  int fresh = 0;
  for (std::size_t i = 0; i < run.findings.size(); ++i) {
    const auto& f = run.findings[i];
    const auto& jf = j["findings"][i];
    SCOPED_TRACE(jf["signature"].get<std::string>());
    EXPECT_EQ(f.number, static_cast<int>(i + 1));
    EXPECT_EQ(f.signature, jf["signature"]);
    EXPECT_EQ(f.known_because.has_value(), jf["status"] == "known");
    if (f.known_because) EXPECT_EQ(*f.known_because, jf["known_because"]);
    else ++fresh;
    EXPECT_EQ(f.claims, jf["claims"].get<std::vector<std::string>>());
    EXPECT_EQ(f.steps, jf["steps"]);
    EXPECT_EQ(f.original_steps, jf["original_steps"]);
    EXPECT_EQ(f.confirmations, jf["confirmations"]);
    EXPECT_EQ(f.scenario, jf["scenario"]);
    EXPECT_EQ(f.line, jf["first_difference"]["line"]);
    EXPECT_EQ(f.model, jf["first_difference"]["model"]);
    EXPECT_EQ(f.live, jf["first_difference"]["live"]);
    EXPECT_EQ(f.last_agreement, jf["first_difference"]["last_agreement"]);
    // The last agreeing line is the traces' line above the first difference.
    if (f.line > 0) EXPECT_EQ(f.last_agreement, jf["model_trace"][f.line - 1]);
    EXPECT_EQ(f.scenario_file, "results/explore/" + jf["file"].get<std::string>());
    EXPECT_EQ(read(kExploreFixture / jf["file"].get<std::string>()), f.scenario) << "the finding's file is its scenario";
  }
  EXPECT_EQ(run.new_findings(), fresh);
  EXPECT_EQ(run.known_findings(), static_cast<int>(run.findings.size()) - fresh);
  EXPECT_GT(fresh, 0);
  EXPECT_LT(fresh, static_cast<int>(run.findings.size())) << "the fixture has findings of both kinds";
  EXPECT_EQ(run.findings[0].replay_model, "build/native/bin/termsim run results/explore/wine-8.0-x86_64/finding-1.scn");
  EXPECT_EQ(run.findings[0].replay_platform, "./termsuite explore --replay results/explore/wine-8.0-x86_64/finding-1.scn");
}

// The commands name the scenario files from the repository when the results are in it; from
// anywhere else, as the folder was given (quoted for a shell when it needs it).
TEST(ExploreSection, CommandsNameTheScenarioFromTheRepository) {
  TempDir dir("explore-paths");
  fs::create_directories(dir.path / "results");
  fs::copy(kExploreFixture, dir.path / "results" / "explore", fs::copy_options::recursive);
  auto section = load_explore_section(dir.path / "results", dir.path);
  ASSERT_EQ(section.runs.size(), 1u);
  EXPECT_EQ(section.runs[0].findings[1].scenario_file, "results/explore/wine-8.0-x86_64/finding-2.scn");

  TempDir spaced("explore-paths 'quoted'");
  fs::copy(kExploreFixture, spaced.path / "explore", fs::copy_options::recursive);
  section = load_explore_section(spaced.path, dir.path);
  ASSERT_EQ(section.runs.size(), 1u);
  const auto& f = section.runs[0].findings[1];
  EXPECT_EQ(f.scenario_file, (spaced.path / "explore").generic_string() + "/wine-8.0-x86_64/finding-2.scn");
  EXPECT_NE(f.replay_platform.find("--replay '"), std::string::npos) << f.replay_platform;
  EXPECT_NE(f.replay_platform.find("explore-paths '\\''quoted'\\''/explore/wine-8.0-x86_64/finding-2.scn'"), std::string::npos)
      << f.replay_platform;
}

TEST(ExploreSection, WithoutExplorerFilesThereIsNoSectionAndNothingElseChanges) {
  TempDir dir("explore-absent");
  write_three_platforms(dir);
  auto catalog = ClaimsCatalog::parse(kCatalog, "catalog");
  auto columns = load_matrix_columns(dir.path, dir.path / "expectations");
  const auto html = matrix_html(catalog, columns), md = matrix_markdown(catalog, columns);
  EXPECT_TRUE(load_explore_section(dir.path, dir.path).empty()) << "no explore folder";
  dir.write("explore/notes.txt", "not a results file");  // a folder with no *.json in it
  auto section = load_explore_section(dir.path, dir.path);
  EXPECT_TRUE(section.empty()) << "an explore folder without a *.json";
  EXPECT_EQ(matrix_html(catalog, columns, section), html);
  EXPECT_EQ(matrix_markdown(catalog, columns, section), md);
  for (const auto* text : {&html, &md}) {
    EXPECT_EQ(text->find("xplorer"), std::string::npos);
    EXPECT_EQ(text->find("results/explore"), std::string::npos);
  }
  // The control: the same folder with an explorer file has the section, in both.
  write_explore(dir, {}, explore_run_json());
  section = load_explore_section(dir.path, dir.path);
  ASSERT_EQ(section.runs.size(), 1u);
  EXPECT_NE(matrix_html(catalog, columns, section).find("<h2 id=\"explorer\">Explorer findings</h2>"), std::string::npos);
  EXPECT_NE(matrix_markdown(catalog, columns, section).find("\n## Explorer findings\n"), std::string::npos);
}

TEST(ExploreSection, TheHtmlShowsTheRunAndEachFinding) {
  TempDir dir("explore-html");
  write_three_platforms(dir, "results");
  write_explore(dir, "results", explore_run_json());
  auto catalog = ClaimsCatalog::parse(kCatalog, "catalog");
  auto files = write_matrix(ClaimsCatalog::parse(kCatalog, "catalog"), load_matrix_columns(dir.path / "results", dir.path / "results" / "expectations"),
                            dir.path / "unused");  // a partial run's matrix: no explorer section
  EXPECT_EQ(read(files.html).find("id=\"explorer\""), std::string::npos);
  dir.write("catalog.txt", kCatalog);
  files = write_matrix(dir.path / "catalog.txt", dir.path / "results", dir.path / "results" / "expectations", dir.path / "out", dir.path);
  const auto html = read(files.html);
  EXPECT_NE(html.find("<a href=\"#explorer\">The explorer&#39;s findings</a> follow the matrix."), std::string::npos);
  EXPECT_NE(html.find("from <code>results/*.json</code>, <code>results/explore/*.json</code>, "), std::string::npos) << "the footer";
  const auto section = part(html, "<h2 id=\"explorer\">", "<footer class=\"page\">");
  ASSERT_FALSE(section.empty());
  EXPECT_GT(html.find("<h2 id=\"explorer\">"), html.find("</table>")) << "after the matrix";

  // The run: seed, budget, scenarios and their rate, disagreements, flaky, findings, coverage.
  const auto row = part(section, "<tr data-platform=\"wine-8.0-x86_64\">", "</tr>");
  ASSERT_FALSE(row.empty()) << section;
  expect_parts(row, {"<td class=\"seed\">42</td>", "<td class=\"budget\">30 s</td>",
                     "<td class=\"scenarios\">61 in 30.5 s (120 a minute)</td>", "<td class=\"disagreements\">3</td>",
                     "<td class=\"flaky\">1<ul><li><code>poll a1: 0 -&gt; 258 (1 of 2 re-runs)</code>",
                     "<span class=\"f-count f-new\">1 new</span> \xC2\xB7 1 known",
                     "2 mutants \xC2\xB7 <details><summary>1 claim</summary>"});

  // The known finding: why known, its claims (linked where the matrix has a row: gone.claim has
  // none), its scenario, the first difference under the last agreeing line, the commands.
  const auto known = part(section, "<section class=\"finding\" id=\"finding-wine-8.0-x86_64-1\"", "</section>");
  ASSERT_FALSE(known.empty()) << section;
  expect_parts(known, {
      "data-status=\"known\"",
      "<span class=\"chip f-known\">known</span> <code class=\"signature\">exit-code: 0xc000013a -&gt; 0x0 &lt;b&gt;</code>",
      "<p class=\"known\">known: exit.code is a known deviation &lt;i&gt;here&lt;/i&gt;</p>",
      "claims: <a href=\"#claim-exit.code\"><code>exit.code</code></a>, <code>gone.claim</code></p>",
      "2 steps besides the awaits, shrunk from 9; confirmed by 2 of 2 re-runs",
      "<pre class=\"scenario\"><code># termsuite-scenario 1\nstart a1 return 3\nwait a1\nexit-code a1 # ``` &lt;script&gt;\n</code></pre>",
      "at line 3:</p>\n<pre class=\"difference\"><span class=\"d-agree\">agree:    2 wait a1: signaled</span>\n"
      "<span class=\"d-model\">model:    3 exit-code a1: 0xc000013a</span>\n"
      "<span class=\"d-platform\">platform: 3 exit-code a1: 0x0 &lt;img src=x&gt;</span></pre>",
      "on the model: <code>build/native/bin/termsim run results/explore/wine-8.0-x86_64/finding-1.scn</code>",
      "on the platform: <code>./termsuite explore --replay results/explore/wine-8.0-x86_64/finding-1.scn</code>"});

  // The new one: no claim named, differing from the first line, the platform's trace shorter.
  const auto fresh = part(section, "<section class=\"finding\" id=\"finding-wine-8.0-x86_64-2\"", "</section>");
  ASSERT_FALSE(fresh.empty()) << section;
  expect_parts(fresh, {"data-status=\"new\"", "<span class=\"chip f-new\">new</span> <code class=\"signature\">ctrl: `0` -&gt; 6</code>",
                       "claims: none named", "agree:    (none: the traces differ from their first line)",
                       "platform: (nothing: its trace ends before)"});
  EXPECT_EQ(fresh.find("class=\"known\""), std::string::npos) << fresh;

  // Every claim link of the section leads to a row of the page; nothing from the file is markup.
  std::regex link_re("href=\"#claim-([^\"]+)\"");
  std::size_t links = 0;
  for (std::sregex_iterator it(section.begin(), section.end(), link_re), end; it != end; ++it, ++links)
    EXPECT_NE(html.find("id=\"claim-" + (*it)[1].str() + "\""), std::string::npos) << (*it)[1];
  EXPECT_EQ(links, 2u) << "exit.code in the finding and in the run's claims covered";
  for (auto raw : {"<b>", "<i>", "<img", "<script>"}) EXPECT_EQ(section.find(raw), std::string::npos) << raw;
}

TEST(ExploreSection, TheMarkdownShowsTheSameSection) {
  TempDir dir("explore-md");
  write_three_platforms(dir, "results");
  write_explore(dir, "results", explore_run_json());
  auto catalog = ClaimsCatalog::parse(kCatalog, "catalog");
  auto md = matrix_markdown(catalog, load_matrix_columns(dir.path / "results", dir.path / "results" / "expectations"),
                            load_explore_section(dir.path / "results", dir.path));
  EXPECT_NE(md.find("and the quotes. The explorer's findings follow the matrix.\n"), std::string::npos) << md;
  auto at = md.find("\n## Explorer findings\n");
  ASSERT_NE(at, std::string::npos) << md;
  EXPECT_GT(at, md.find("| claim | grade | source |")) << "after the matrix";
  const auto section = md.substr(at);
  expect_parts(section, {
      "| platform | seed | budget | scenarios | disagreements | flaky | findings | covered |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
      "| `wine-8.0-x86_64` | 42 | 30 s | 61 in 30.5 s (120 a minute) | 3 | 1 | 1 new, 1 known | 2 mutants, 1 claim |\n",
      "\nFlaky on `wine-8.0-x86_64` (a difference not every re-run showed again): `poll a1: 0 -> 258 (1 of 2 re-runs)`\n",
      "\n### `wine-8.0-x86_64` finding 1: known\n\nSignature: `exit-code: 0xc000013a -> 0x0 <b>`. "
      "Known: exit.code is a known deviation &lt;i&gt;here&lt;/i&gt;. Claims: `exit.code`, `gone.claim`.\n",
      // A scenario holding three backticks in a row is fenced with four.
      "2 steps besides the awaits, shrunk from 9; confirmed by 2 of 2 re-runs):\n\n"
      "````text\n# termsuite-scenario 1\nstart a1 return 3\nwait a1\nexit-code a1 # ``` <script>\n````\n",
      "at line 3:\n\n```text\nagree:    2 wait a1: signaled\nmodel:    3 exit-code a1: 0xc000013a\n"
      "platform: 3 exit-code a1: 0x0 <img src=x>\n```\n",
      "Replay it on the model: `build/native/bin/termsim run results/explore/wine-8.0-x86_64/finding-1.scn`; "
      "on the platform: `./termsuite explore --replay results/explore/wine-8.0-x86_64/finding-1.scn`",
      // The new finding; a signature with backticks in a longer span.
      "\n### `wine-8.0-x86_64` finding 2: new\n\nSignature: ``ctrl: `0` -> 6``. Claims: none named",
      "agree:    (none: the traces differ from their first line)\nmodel:    1 ctrl 1 0: 0\n"
      "platform: (nothing: its trace ends before)\n"});
  // Outside code, nothing from the file is raw markup.
  EXPECT_EQ(section.find("<i>"), std::string::npos);
}

TEST(ExploreSection, SameInputsGiveTheSameBytesAndNoPathOfTheMachine) {
  TempDir a("explore-same-a"), b("explore-same-b");
  for (const auto* dir : {&a, &b}) {
    write_three_platforms(*dir, "results");
    write_explore(*dir, "results", explore_run_json());
    dir->write("catalog.txt", kCatalog);
  }
  auto fa = write_matrix(a.path / "catalog.txt", a.path / "results", a.path / "results" / "expectations", a.path / "out", a.path);
  auto fb = write_matrix(b.path / "catalog.txt", b.path / "results", b.path / "results" / "expectations", b.path / "out", b.path);
  EXPECT_EQ(read(fa.html), read(fb.html));
  EXPECT_EQ(read(fa.markdown), read(fb.markdown));
  EXPECT_NE(read(fa.markdown).find("## Explorer findings"), std::string::npos);
  for (const auto& f : {fa.html, fa.markdown}) EXPECT_EQ(read(f).find(a.path.string()), std::string::npos) << f;
}

// A malformed explorer file is an error of one line naming it (the runner exits 2 with it).
TEST(ExploreSection, AMalformedFileIsAnErrorNamingIt) {
  auto expect_error = [](const std::string& name, const std::function<void(Json&)>& spoil, const std::string& needle,
                         const std::string& raw = {}) {
    SCOPED_TRACE(name);
    TempDir dir("explore-malformed-" + name);
    write_explore(dir, {}, explore_run_json());  // the scenario files, as the run wrote them
    Json run = explore_run_json();
    spoil(run);
    dir.write("explore/wine-8.0-x86_64.json", raw.empty() ? run.dump(2) : raw);
    try {
      load_explore_section(dir.path, dir.path);
      ADD_FAILURE() << "no error; expected one with " << needle;
    } catch (const MatrixError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("wine-8.0-x86_64.json: "), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    }
  };
  auto nothing = [](Json&) {};
  expect_error("json", nothing, "not an explorer results file: ", "{\"platform\": ");
  expect_error("not-an-object", nothing, "not an explorer results file: not a JSON object", "[1, 2]");
  expect_error("no-seed", [](Json& j) { j.erase("seed"); }, "no \"seed\"");
  expect_error("negative", [](Json& j) { j["seconds"] = -1; }, "\"seconds\" is negative");
  expect_error("count", [](Json& j) { j["findings"][0]["first_difference"]["line"] = "3"; },
               "\"findings[0].first_difference.line\" is not a count");
  expect_error("status", [](Json& j) { j["findings"][1]["status"] = "maybe"; }, "\"findings[1].status\" is \"maybe\", not \"new\" or \"known\"");
  expect_error("known-without-reason", [](Json& j) { j["findings"][0].erase("known_because"); }, "no \"findings[0].known_because\"");
  expect_error("claims", [](Json& j) { j["findings"][0]["claims"].push_back(7); }, "\"claims\" holds a value that is not a string");
  expect_error("outside", [](Json& j) { j["findings"][0]["file"] = "../../etc/passwd"; },
               "\"findings[0].file\" \"../../etc/passwd\" is not a path inside the explorer's folder");
  expect_error("platform-id", [](Json& j) { j["platform"] = "Wine 8"; }, "\"platform\": 'Wine 8' is not a platform id");
  expect_error("other-platform", [](Json& j) { j["platform"] = "wine-9.0-x86_64"; },
               "wine-8.0-x86_64.json: not an explorer results file: its platform is wine-9.0-x86_64, not its name");
  expect_error("scenario-missing", [](Json& j) { j["findings"][1]["file"] = "wine-8.0-x86_64/finding-7.scn"; },
               "finding 2's scenario file ");
  // The control: the file as written loads.
  TempDir dir("explore-malformed-control");
  write_explore(dir, {}, explore_run_json());
  EXPECT_EQ(load_explore_section(dir.path, dir.path).runs.size(), 1u);
}

}  // namespace
}  // namespace termsuite
