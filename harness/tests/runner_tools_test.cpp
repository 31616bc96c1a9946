// The runner's everyday tools on crafted files: compare, expectations update, the writing of
// results (a partial run never replaces the baseline; a write is all or nothing), the live
// progress line and the result stream's "started" lines it follows.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "compare.hpp"
#include "expectations_update.hpp"
#include "phase_line.hpp"
#include "progress.hpp"
#include "results_file.hpp"
#include "test_platforms.hpp"
#include "termsuite/expectations.hpp"
#include "termsuite/results.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {
namespace {

TestResult result(std::string name, Outcome o, std::string detail = "", std::string claim = "some.claim") {
  TestResult t;
  t.name = std::move(name);
  t.claim = std::move(claim);
  t.backend = "live";
  t.outcome = o;
  t.detail = std::move(detail);
  return t;
}

RunResults run(Platform p, std::vector<TestResult> tests) { return RunResults{std::move(p), std::move(tests)}; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("termsuite-tools-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const TestChange* change_of(const PlatformComparison& c, const std::string& name) {
  for (const auto& t : c.changes)
    if (t.name == name) return &t;
  return nullptr;
}

// ---- compare ----

TEST(Compare, SortsEachDifferenceIntoItsCategory) {
  auto old_run = run(wine_platform(), {result("A.PassThenFail", Outcome::pass), result("B.XfailThenTimeout", Outcome::xfail, "known"),
                               result("C.FailThenPass", Outcome::fail, "was broken"),
                               result("D.XfailThenXpass", Outcome::xfail, "known"), result("E.Removed", Outcome::pass),
                               result("F.DetailChanged", Outcome::xfail, "reason one"),
                               result("G.PassThenXpass", Outcome::pass), result("H.FailThenTimeout", Outcome::fail, "f"),
                               result("I.Same", Outcome::xfail, "same"), result("J.SkipThenFail", Outcome::skip, "no")});
  auto observed = result("K.ObservedChanged", Outcome::pass);
  observed.observed["exit-code"] = "0";
  old_run.tests.push_back(observed);
  auto new_run = run(wine_platform(), {result("A.PassThenFail", Outcome::fail, "x.cpp:1: boom"),
                               result("B.XfailThenTimeout", Outcome::timeout, "no event"), result("C.FailThenPass", Outcome::pass),
                               result("D.XfailThenXpass", Outcome::xpass, "unexpected pass"),
                               result("F.DetailChanged", Outcome::xfail, "reason two"),
                               result("G.PassThenXpass", Outcome::xpass, "unexpected pass"),
                               result("H.FailThenTimeout", Outcome::timeout, "t"), result("I.Same", Outcome::xfail, "same"),
                               result("J.SkipThenFail", Outcome::fail, "f"), result("L.NewPassing", Outcome::pass),
                               result("M.NewFailing", Outcome::fail, "new and broken")});
  observed.observed["exit-code"] = "1";
  new_run.tests.push_back(observed);
  auto c = compare_runs(old_run, new_run);

  auto kind = [&](const std::string& name) {
    auto* t = change_of(c, name);
    EXPECT_NE(t, nullptr) << name;
    return t ? t->kind : ChangeKind::changed;
  };
  EXPECT_EQ(kind("A.PassThenFail"), ChangeKind::regression);
  EXPECT_EQ(kind("B.XfailThenTimeout"), ChangeKind::regression);
  EXPECT_EQ(kind("J.SkipThenFail"), ChangeKind::regression);
  EXPECT_EQ(kind("M.NewFailing"), ChangeKind::regression);  // a new test that fails fails the gate
  EXPECT_EQ(kind("C.FailThenPass"), ChangeKind::fix);
  EXPECT_EQ(kind("D.XfailThenXpass"), ChangeKind::fix);
  EXPECT_EQ(kind("L.NewPassing"), ChangeKind::added);
  EXPECT_EQ(kind("E.Removed"), ChangeKind::removed);
  EXPECT_EQ(kind("F.DetailChanged"), ChangeKind::changed);
  EXPECT_EQ(kind("G.PassThenXpass"), ChangeKind::changed);  // the expectations changed, not the platform
  EXPECT_EQ(kind("H.FailThenTimeout"), ChangeKind::changed);  // failing before and after
  EXPECT_EQ(kind("K.ObservedChanged"), ChangeKind::changed);
  EXPECT_EQ(change_of(c, "I.Same"), nullptr);
  EXPECT_EQ(c.count(ChangeKind::regression), 4u);
  EXPECT_TRUE(any_regression({c}));
  EXPECT_EQ(change_of(c, "A.PassThenFail")->detail, "x.cpp:1: boom");
  EXPECT_EQ(change_of(c, "C.FailThenPass")->detail, "was broken");  // what was wrong

  auto text = render_text({c});
  EXPECT_NE(text.find("wine-8.0-x86_64: 4 regressions, 2 fixes, 1 new, 1 removed, 4 changed (11 tests before, 12 now)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("    A.PassThenFail [some.claim]: pass -> fail: x.cpp:1: boom\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    C.FailThenPass [some.claim]: fail -> pass: was: was broken\n"), std::string::npos) << text;
  EXPECT_NE(text.find("D.XfailThenXpass [some.claim]: xfail -> xpass (its expectations entry is now stale)"), std::string::npos) << text;
  EXPECT_NE(text.find("    L.NewPassing [some.claim]: pass\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    E.Removed [some.claim]: was pass\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      detail: \"reason one\" -> \"reason two\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      observed.exit-code: \"0\" -> \"1\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      outcome: pass -> xpass\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("result: 4 regressions\n")) << text;
  EXPECT_EQ(text.find("note:"), std::string::npos) << text;

  auto md = render_markdown({c});
  EXPECT_TRUE(md.starts_with("## termsuite compare: 4 regressions\n")) << md;
  EXPECT_NE(md.find("#### Regressions (4)\n\n| test | claim | was | now | detail |\n| --- | --- | --- | --- | --- |\n"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| `A.PassThenFail` | `some.claim` | pass | **fail** | x.cpp:1: boom |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| `M.NewFailing` | `some.claim` | - | **fail** | new and broken |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("#### Fixes (2)"), std::string::npos) << md;
  EXPECT_NE(md.find("#### New tests (1)"), std::string::npos) << md;
  EXPECT_NE(md.find("#### Removed tests (1)"), std::string::npos) << md;
  EXPECT_NE(md.find("| `K.ObservedChanged` | `some.claim` | observed.exit-code | 0 | 1 |\n"), std::string::npos) << md;
}

// A test that could not tell this time is no regression, and one that can tell again is no fix:
// the platform did nothing wrong that the test saw. A failure after it is a regression as ever.
TEST(Compare, InconclusiveIsAChangeNotARegressionNorAFix) {
  auto old_run = run(wine_platform(), {result("A.PassThenUnsure", Outcome::pass), result("B.UnsureThenPass", Outcome::inconclusive, "u"),
                                       result("C.UnsureThenFail", Outcome::inconclusive, "u"),
                                       result("D.XfailThenUnsure", Outcome::xfail, "known")});
  auto new_run = run(wine_platform(), {result("A.PassThenUnsure", Outcome::inconclusive, "the control showed nothing"),
                                       result("B.UnsureThenPass", Outcome::pass), result("C.UnsureThenFail", Outcome::fail, "boom"),
                                       result("D.XfailThenUnsure", Outcome::inconclusive, "u")});
  auto c = compare_runs(old_run, new_run);
  ASSERT_NE(change_of(c, "A.PassThenUnsure"), nullptr);
  EXPECT_EQ(change_of(c, "A.PassThenUnsure")->kind, ChangeKind::changed);
  EXPECT_EQ(change_of(c, "B.UnsureThenPass")->kind, ChangeKind::changed);
  EXPECT_EQ(change_of(c, "C.UnsureThenFail")->kind, ChangeKind::regression);
  EXPECT_EQ(change_of(c, "D.XfailThenUnsure")->kind, ChangeKind::changed);
  EXPECT_EQ(c.count(ChangeKind::regression), 1u);
  EXPECT_NE(render_text({c}).find("      outcome: pass -> inconclusive\n"), std::string::npos) << render_text({c});
}

TEST(Compare, NothingChangedIsNoRegressionAndPipesAreEscapedInMarkdown) {
  auto a = run(wine_platform(), {result("A.B", Outcome::xfail, "a | b")});
  auto c = compare_runs(a, a);
  EXPECT_TRUE(c.changes.empty());
  EXPECT_FALSE(any_regression({c}));
  EXPECT_TRUE(render_text({c}).ends_with("result: no regression\n"));
  auto b = run(wine_platform(), {result("A.B", Outcome::fail, "a | b\nc")});
  auto md = render_markdown({compare_runs(a, b)});
  EXPECT_NE(md.find("| a \\| b c |"), std::string::npos) << md;
}

TEST(Compare, TwoPlatformsCanBeComparedAndItIsSaid) {
  auto c = compare_runs(run(wine_platform(), {result("A.B", Outcome::pass)}), run(windows_platform("10.0.22631"), {result("A.B", Outcome::pass)}));
  EXPECT_NE(render_text({c}).find("note: the files are for different platforms: wine-8.0-x86_64 (old) and "
                                  "windows-10.0.22631-x86_64 (new)"),
            std::string::npos);
  EXPECT_NE(render_markdown({c}).find("> **Note:** the files are for different platforms"), std::string::npos);
}

TEST(Compare, FoldersAreMatchedByFileName) {
  TempDir d;
  spit(d.path / "old/wine-8.0-x86_64.json", stable_json(run(wine_platform(), {result("A.B", Outcome::pass)})));
  spit(d.path / "old/sim.json", stable_json(run(Platform{"sim", "sim", "termsim 1", "", "", "", "model"},
                                                {result("A.B", Outcome::pass)})));
  spit(d.path / "new/wine-8.0-x86_64.json", stable_json(run(wine_platform(), {result("A.B", Outcome::fail, "boom")})));
  spit(d.path / "new/windows-10.0.22631-x86_64.json", stable_json(run(windows_platform("10.0.22631"), {result("A.B", Outcome::pass)})));
  auto cs = compare_paths(d.path / "old", d.path / "new");
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0].label, "sim.json");
  EXPECT_EQ(cs[0].count(ChangeKind::removed), 1u);
  EXPECT_EQ(cs[1].label, "windows-10.0.22631-x86_64.json");  // in NEW only: every test is new
  EXPECT_EQ(cs[1].count(ChangeKind::added), 1u);
  EXPECT_EQ(cs[2].label, "wine-8.0-x86_64.json");
  EXPECT_EQ(cs[2].count(ChangeKind::regression), 1u);
  auto text = render_text(cs);
  EXPECT_NE(text.find("sim (removed file): "), std::string::npos) << text;
  EXPECT_NE(text.find("windows-10.0.22631-x86_64 (new file): "), std::string::npos) << text;
  EXPECT_TRUE(any_regression(cs));
}

TEST(Compare, BadInputIsOneErrorNamingIt) {
  TempDir d;
  spit(d.path / "good.json", stable_json(run(wine_platform(), {result("A.B", Outcome::pass)})));
  spit(d.path / "bad.json", "{\"platform\": ");
  spit(d.path / "notests.json", R"({"platform": {"id": "x"}})");
  fs::create_directories(d.path / "folder");
  auto message = [&](const fs::path& a, const fs::path& b) {
    try {
      compare_paths(a, b);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(d.path / "good.json", d.path / "missing.json").find("missing.json: no such file"), std::string::npos);
  EXPECT_NE(message(d.path / "good.json", d.path / "bad.json").find("bad.json: not a JSON object"), std::string::npos);
  EXPECT_NE(message(d.path / "notests.json", d.path / "good.json").find("notests.json: "), std::string::npos);
  EXPECT_NE(message(d.path / "good.json", d.path / "folder").find("give two results files or two folders"), std::string::npos);
  EXPECT_NE(message(d.path / "folder", d.path / "folder").find("no results files"), std::string::npos);
  for (const auto& m : {message(d.path / "good.json", d.path / "bad.json"), message(d.path / "good.json", d.path / "folder")})
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

// ---- expectations update ----

const char* kWineFile = R"({
  "platform": "wine-8.0-x86_64",
  "comment": "Known deviations, each with its reason.",
  "deviations": [
    {
      "test": "A.StillFails",
      "claim": "a.claim",
      "expect": "fail",
      "reason": "a reason someone wrote"
    },
    {
      "test": "B.NowPasses",
      "claim": "b.claim",
      "expect": "fail",
      "reason": "fixed since"
    },
    {
      "test": "C.OnlyOnWine9",
      "claim": "c.claim",
      "expect": "timeout",
      "reason": "Wine 9 only",
      "when": {
        "wine": {
          "min": "9.0"
        }
      }
    },
    {
      "test": "D.NowTimesOut",
      "claim": "d.claim",
      "expect": "fail",
      "reason": "used to fail"
    },
    {
      "test": "E.NotRun",
      "claim": "e.claim",
      "expect": "fail",
      "reason": "not in these results"
    }
  ]
}
)";

TEST(ExpectationsUpdate, RemovesPassesAddsUntriagedKeepsReasonsAndOtherPlatformsEntries) {
  auto results = run(wine_platform(), {result("A.StillFails", Outcome::xfail, "a reason someone wrote", "a.claim"),
                               result("B.NowPasses", Outcome::xpass, "unexpected pass", "b.claim"),
                               result("C.OnlyOnWine9", Outcome::pass, "", "c.claim"),
                               result("D.NowTimesOut", Outcome::timeout, "expected a known 'fail' but the test timed out: t",
                                      "d.claim"),
                               result("F.NewFailure", Outcome::fail, "x.cpp:1: boom", "f.claim"),
                               result("G.NewTimeout", Outcome::timeout, "no event", "g.claim"),
                               result("H.Passes", Outcome::pass, "", "h.claim")});
  auto u = update_expectations(kWineFile, "wine.json", "wine-8.0-x86_64", false, results);
  auto e = Expectations::parse(u.text, "updated", "wine-8.0-x86_64");
  ASSERT_EQ(e.entries().size(), 6u) << u.text;
  // Order kept, the passing entry gone, new entries at the end.
  EXPECT_EQ(e.entries()[0].test, "A.StillFails");
  EXPECT_EQ(e.entries()[0].reason, "a reason someone wrote");
  EXPECT_EQ(e.entries()[1].test, "C.OnlyOnWine9");  // its "when" does not hold on Wine 8.0: untouched
  EXPECT_EQ(e.entries()[1].reason, "Wine 9 only");
  EXPECT_EQ(e.entries()[2].test, "D.NowTimesOut");
  EXPECT_EQ(e.entries()[2].expect, Outcome::timeout);
  EXPECT_EQ(e.entries()[2].reason,
            "UNTRIAGED: expected a known 'fail' but the test timed out: t (the entry said 'fail': used to fail)");
  EXPECT_EQ(e.entries()[3].test, "E.NotRun");  // not in the results: untouched
  EXPECT_EQ(e.entries()[4].test, "F.NewFailure");
  EXPECT_EQ(e.entries()[4].claim, "f.claim");
  EXPECT_EQ(e.entries()[4].expect, Outcome::fail);
  EXPECT_EQ(e.entries()[4].reason, "UNTRIAGED: x.cpp:1: boom");
  EXPECT_FALSE(e.entries()[4].when);
  EXPECT_EQ(e.entries()[5].expect, Outcome::timeout);
  EXPECT_EQ(e.entries()[5].reason, "UNTRIAGED: no event");
  EXPECT_EQ(u.untriaged, 3u);
  EXPECT_NE(u.text.find("\"comment\": \"Known deviations, each with its reason.\""), std::string::npos);
  ASSERT_EQ(u.changes.size(), 4u);
  EXPECT_EQ(u.changes[0], "removed B.NowPasses: passes now");
  EXPECT_EQ(u.changes[2], "added F.NewFailure (expect fail): UNTRIAGED: x.cpp:1: boom");
  EXPECT_TRUE(u.changes[1].starts_with("changed D.NowTimesOut: expect fail -> timeout")) << u.changes[1];

  // Run again on the next run's results (the untriaged tests still fail, now as failures the gate
  // reports): nothing changes, byte for byte.
  auto next = run(wine_platform(), {result("A.StillFails", Outcome::xfail, "a reason someone wrote", "a.claim"),
                            result("D.NowTimesOut", Outcome::timeout, "untriaged deviation: ...", "d.claim"),
                            result("F.NewFailure", Outcome::fail, "untriaged deviation: ...", "f.claim"),
                            result("G.NewTimeout", Outcome::timeout, "untriaged deviation: ...", "g.claim")});
  auto again = update_expectations(u.text, "wine.json", "wine-8.0-x86_64", false, next);
  EXPECT_EQ(again.text, u.text);
  EXPECT_TRUE(again.changes.empty());
}

// The run could show neither the deviation nor its absence: the entry stays as it is, and a test
// without one gets none.
TEST(ExpectationsUpdate, AnInconclusiveTestsEntryIsKeptAsItIs) {
  auto results = run(wine_platform(), {result("A.StillFails", Outcome::inconclusive, "the control showed nothing", "a.claim"),
                                       result("H.Unsure", Outcome::inconclusive, "the control showed nothing", "h.claim")});
  auto u = update_expectations(kWineFile, "wine.json", "wine-8.0-x86_64", false, results);
  EXPECT_TRUE(u.changes.empty()) << u.changes.front();
  auto e = Expectations::parse(u.text, "updated", "wine-8.0-x86_64");
  ASSERT_FALSE(e.entries().empty());
  EXPECT_EQ(e.entries()[0].test, "A.StillFails");
  EXPECT_EQ(e.entries()[0].reason, "a reason someone wrote");
  EXPECT_EQ(e.entries().size(), Expectations::parse(std::string(kWineFile), "before", "wine-8.0-x86_64").entries().size());
  bool noted = false;
  for (const auto& n : u.notes) noted |= n == "A.StillFails was inconclusive in the run: its entry is kept as it is";
  EXPECT_TRUE(noted);
}

TEST(ExpectationsUpdate, TheCommittedFileIsUnchangedByItsOwnResults) {
  const fs::path src = TERMSUITE_SOURCE_DIR;
  const auto file = src / "results" / "expectations" / "wine-8.0-x86_64.json";
  const auto text = slurp(file);
  const auto results = parse_stable_json(slurp(src / "results" / "wine-8.0-x86_64.json"), "results");
  auto u = update_expectations(text, file.string(), "wine-8.0-x86_64", false, results);
  EXPECT_EQ(u.text, text);  // the comment, the order and the formatting are kept
  EXPECT_TRUE(u.changes.empty());
  EXPECT_EQ(u.untriaged, 0u);
}

TEST(ExpectationsUpdate, ANewFileAndAFamilyFilesNewEntryHoldOnThisPlatformOnly) {
  auto results = run(windows_platform("10.0.22631"), {result("A.B", Outcome::fail, "boom", "a.claim")});
  auto fresh = update_expectations("", "new.json", "windows-10.0.22631-x86_64", false, results);
  auto e = Expectations::parse(fresh.text, "new.json", "windows-10.0.22631-x86_64");
  ASSERT_EQ(e.entries().size(), 1u);
  EXPECT_EQ(e.entries()[0].reason, "UNTRIAGED: boom");

  const char* family = R"({"platform": "windows-x86_64", "deviations": [
    {"test": "A.B", "claim": "a.claim", "expect": "fail", "reason": "old builds", "when": {"build": {"max": 19045}}}]})";
  auto u = update_expectations(family, "windows-x86_64.json", "windows-x86_64", true, results);
  auto f = Expectations::parse(u.text, "family", "windows-x86_64");
  ASSERT_EQ(f.entries().size(), 2u);
  EXPECT_EQ(f.entries()[0].reason, "old builds");
  ASSERT_TRUE(f.entries()[1].when);
  EXPECT_TRUE(f.entries()[1].when->matches(windows_platform("10.0.22631")));
  EXPECT_FALSE(f.entries()[1].when->matches(windows_platform("10.0.22621")));
  EXPECT_FALSE(f.entries()[1].when->matches(windows_platform("10.0.19045")));
}

TEST(ExpectationsUpdate, AMalformedFileIsAnExpectationsError) {
  auto results = run(wine_platform(), {result("A.B", Outcome::pass)});
  EXPECT_THROW(update_expectations("{", "bad.json", "wine-8.0-x86_64", false, results), ExpectationsError);
  EXPECT_THROW(update_expectations(R"({"platform": "wine-8.0-x86_64", "deviations": [{"test": "A.B"}]})", "bad.json",
                                   "wine-8.0-x86_64", false, results),
               ExpectationsError);
  EXPECT_THROW(update_expectations(R"({"platform": "wine-9.0-x86_64", "deviations": []})", "other.json", "wine-8.0-x86_64",
                                   false, results),
               ExpectationsError);
}

// ---- writing results ----

TEST(ResultsFile, APartialRunLeavesTheBaselineUntouched) {
  TempDir d;
  const auto baseline = d.path / "results" / "wine-8.0-x86_64.json";
  spit(baseline, "the full run's results\n");
  auto w = write_run_results(d.path / "results", d.path / "run", "wine-8.0-x86_64", "only Taskkill.*\n", false);
  EXPECT_TRUE(w.partial);
  EXPECT_EQ(w.path, d.path / "run" / "wine-8.0-x86_64.partial.json");
  EXPECT_EQ(slurp(w.path), "only Taskkill.*\n");
  EXPECT_EQ(slurp(baseline), "the full run's results\n");
  // A full run replaces it, and the stale partial file goes.
  auto full = write_run_results(d.path / "results", d.path / "run", "wine-8.0-x86_64", "every test\n", true);
  EXPECT_FALSE(full.partial);
  EXPECT_EQ(full.path, baseline);
  EXPECT_EQ(slurp(baseline), "every test\n");
  EXPECT_FALSE(fs::exists(d.path / "run" / "wine-8.0-x86_64.partial.json"));
  // Nothing else is left in either folder (no temporary files).
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(d.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

TEST(ResultsFile, AFailedWriteLeavesTheOldFileWholeAndNoTemporaryFile) {
  TempDir d;
  // The target is a non-empty folder: the rename fails where a crash or a full disk would.
  fs::create_directories(d.path / "target.json" / "inside");
  EXPECT_THROW(write_file_atomically(d.path / "target.json", "new\n"), std::runtime_error);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(d.path)) entries += e.path().filename() != "target.json";
  EXPECT_EQ(entries, 0u);
  EXPECT_TRUE(fs::is_directory(d.path / "target.json" / "inside"));
}

// ---- the stream's started lines and the progress line ----

TEST(Progress, StartedLinesAreReadAndIgnoredByTheMerge) {
  auto t = result("A.B", Outcome::fail, "boom");
  auto text = stream_platform_line(wine_platform()) + stream_started_line("A.B") + stream_test_line(t);
  auto s = parse_stream(text, "shard-0.jsonl");
  EXPECT_TRUE(s.problems.empty()) << s.problems.front();
  ASSERT_EQ(s.tests.size(), 1u);
  ASSERT_EQ(s.started.size(), 1u);
  EXPECT_EQ(s.started[0], "A.B");
}

TEST(Progress, FollowsStreamsAsTheyGrowIncludingAHalfWrittenLine) {
  TempDir d;
  const auto a = d.path / "shard-0.jsonl", b = d.path / "shard-1.jsonl";
  StreamFollower f({a, b});
  const auto t0 = std::chrono::steady_clock::now();
  f.poll(t0);  // neither file exists yet
  EXPECT_EQ(f.done(), 0u);
  spit(a, stream_platform_line(wine_platform()) + stream_started_line("A.Slow"));
  const auto second = stream_started_line("B.Quick");
  spit(b, stream_platform_line(wine_platform()) + second.substr(0, 10));  // the writer is mid-line
  f.poll(t0);
  double secs = 0;
  EXPECT_EQ(f.longest(t0 + std::chrono::seconds(3), secs), "A.Slow");
  EXPECT_DOUBLE_EQ(secs, 3.0);
  spit(b, stream_platform_line(wine_platform()) + second + stream_test_line(result("B.Quick", Outcome::fail, "x")));
  std::ofstream(a, std::ios::binary | std::ios::app) << stream_test_line(result("A.Slow", Outcome::xfail, "known"));
  f.poll(t0 + std::chrono::seconds(4));
  EXPECT_EQ(f.done(), 2u);
  EXPECT_EQ(f.failing(), 1u);
  EXPECT_EQ(f.longest(t0 + std::chrono::seconds(5), secs), "");
}

TEST(Progress, TheLineFitsTheTerminal) {
  EXPECT_EQ(progress_line(23, 69, 1, "Ctrl.Slow", 12.2, 200), "running: 23/69 done, 1 failing; 12 s in Ctrl.Slow");
  EXPECT_EQ(progress_line(0, 69, 0, "", 0, 200), "running: 0/69 done, 0 failing");
  EXPECT_EQ(progress_line(23, 69, 1, "Ctrl.Slow", 12.2, 20).size(), 19u);
}

TEST(Progress, DisabledItDrawsNothingAndStopsAtOnce) {
  LiveProgress p({}, 3, false);
  p.stop();
  SUCCEED();
}

// What a PhaseLine wrote to `out`, read back from the start.
std::string written(std::FILE* out) {
  std::fflush(out);
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text.push_back(static_cast<char>(c));
  return text;
}

TEST(PhaseLine, WithoutATerminalItIsOneLineAndNoCarriageReturn) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    PhaseLine phase("Wine prefix: creating p", "/nowhere/wineboot-init.log", false, out);
    phase.done();
  }
  EXPECT_EQ(written(out), "termsuite: Wine prefix: creating p (log: /nowhere/wineboot-init.log)\n");
  std::fclose(out);
}

TEST(PhaseLine, OnATerminalAStatusLineCountsAndEndsAsDone) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    PhaseLine phase("suite", "x.log", true, out);
    phase.done();
  }
  const auto text = written(out);
  EXPECT_TRUE(text.starts_with("termsuite: suite (log: x.log)\n")) << text;
  EXPECT_NE(text.find("\r  0 s"), std::string::npos) << text;  // the status, drawn in place
  EXPECT_TRUE(text.ends_with("\r  done in 0 s\n")) << text;
  std::fclose(out);
}

TEST(PhaseLine, AFailedPhaseClearsItsStatusAndSaysNotDone) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  { PhaseLine phase("suite", "x.log", true, out); }  // no done(): its error follows
  const auto text = written(out);
  EXPECT_EQ(text.find("done"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("\r")) << text;
  std::fclose(out);
}

TEST(PhaseLine, DurationsAndPaths) {
  using namespace std::chrono_literals;
  EXPECT_EQ(phase_duration(42s), "42 s");
  EXPECT_EQ(phase_duration(125s), "2 min 05 s");
  const auto here = std::filesystem::current_path();
  EXPECT_EQ(shown_path(here / "build" / "x.log"), (std::filesystem::path("build") / "x.log").string());
  ASSERT_NE(here, here.root_path());
  EXPECT_EQ(shown_path(here.root_path() / "elsewhere" / "x.log"), (here.root_path() / "elsewhere" / "x.log").string());
}

}  // namespace
}  // namespace termsuite::runner
