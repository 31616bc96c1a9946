// The conformance matrix (report.html, MATRIX.md) on crafted inputs: a claim's status per cell, the
// cells of claims a platform did not run, the columns' order, escaping, determinism, and the
// errors a malformed results folder gives.
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

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
// Windows build (TIMEOUT, XPASS, SKIP, a claim not run) and the simulator (every claim passes).
void write_three_platforms(const TempDir& dir) {
  RunResults wine{wine_platform(),
                  {test("Exit.Code", "exit.code", Outcome::pass), test("Exit.Other", "exit.code", Outcome::xfail, "exit code 0, not 0xC000013A"),
                   test("Ctrl.Close", "ctrl.close", Outcome::fail, "saw \"><img src=x onerror=alert(1)> & left"),
                   test("Exit.Still", "exit.still-active", Outcome::pass)}};
  wine.tests[0].observed["handlers <run>"] = "atexit & dtors";
  dir.write("wine-8.0-x86_64.json", stable_json(wine));
  dir.write("expectations/wine-8.0-x86_64.json", R"({"platform": "wine-8.0-x86_64", "deviations": [
      {"test": "Exit.Other", "claim": "exit.code", "expect": "fail", "reason": "Wine's <default> handler exits with 0"}]})");
  RunResults windows{windows_platform(),
                     {test("Exit.Code", "exit.code", Outcome::timeout, "no exit event in 30 s"),
                      test("Exit.Other", "exit.code", Outcome::xpass, "passed"), test("Ctrl.Close", "ctrl.close", Outcome::skip, "Windows Terminal")}};
  dir.write("windows-10.0.22631-x86_64.json", stable_json(windows));
  dir.write("expectations/windows-x86_64.json", R"({"platform": "windows-x86_64", "deviations": [
      {"test": "Exit.Other", "claim": "exit.code", "expect": "fail", "reason": "a stale entry"}]})");
  RunResults sim{sim_platform(),
                 {test("Exit.Code", "exit.code", Outcome::pass), test("Exit.Other", "exit.code", Outcome::pass),
                  test("Ctrl.Close", "ctrl.close", Outcome::pass), test("Exit.Still", "exit.still-active", Outcome::pass)}};
  dir.write("sim.json", stable_json(sim));
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
  auto fa = write_matrix(catalog, a.path, a.path / "expectations", a.path / "out");
  auto fb = write_matrix(catalog, b.path, b.path / "expectations", b.path / "out");
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

}  // namespace
}  // namespace termsuite
