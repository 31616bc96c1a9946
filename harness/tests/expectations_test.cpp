// Expectations files and the classification of outcomes (the gate's rules).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_platforms.hpp"
#include "termsuite/expectations.hpp"

namespace termsuite {
namespace {

const char* kGood = R"({
  "platform": "wine-8.0-x86_64",
  "deviations": [
    {"test": "Taskkill.Force", "claim": "taskkill.force", "expect": "fail", "reason": "Wine's taskkill passes 0"},
    {"test": "Ctrl.Close", "claim": "ctrl.close-event", "expect": "timeout", "reason": "no CTRL_CLOSE_EVENT"}
  ]
})";

TEST(Expectations, ParsesDeviationsWithReasons) {
  auto e = Expectations::parse(kGood, "wine.json", "wine-8.0-x86_64");
  ASSERT_EQ(e.deviations().size(), 2u);
  const auto* d = e.find("Ctrl.Close");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->expect, Outcome::timeout);
  EXPECT_EQ(d->claim, "ctrl.close-event");
  EXPECT_EQ(e.find("Nope.Nope"), nullptr);
}

TEST(Expectations, RejectsWhatIsNotSoundWithOneLineNamingTheFile) {
  const char* bad[] = {
      "{",                                                                    // not JSON
      "[]",                                                                   // not an object
      R"({"platform":"wine-8.0-x86_64"})",                                   // no deviations
      R"({"platform":"wine-8.0-x86_64","deviations":[],"extra":1})",         // unknown key
      R"({"platform":"windows-10","deviations":[]})",                        // another platform
      R"({"platform":"wine-8.0-x86_64","deviations":[{"test":"A.B","claim":"c","expect":"fail"}]})",  // no reason
      R"({"platform":"wine-8.0-x86_64","deviations":[{"test":"A.B","claim":"c","expect":"fail","reason":""}]})",
      R"({"platform":"wine-8.0-x86_64","deviations":[{"test":"A.B","claim":"c","expect":"pass","reason":"r"}]})",
      R"({"platform":"wine-8.0-x86_64","deviations":[{"test":"A.B","claim":"c","expect":"fail","reason":"r","why":1}]})",
      R"({"platform":"wine-8.0-x86_64","deviations":[{"test":"A.B","claim":"c","expect":"fail","reason":"r"},
                                                    {"test":"A.B","claim":"c","expect":"fail","reason":"r"}]})",
  };
  for (const char* text : bad) {
    try {
      Expectations::parse(text, "results/expectations/x.json", "wine-8.0-x86_64");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ExpectationsError& e) {
      std::string what = e.what();
      EXPECT_EQ(what.rfind("results/expectations/x.json: ", 0), 0u) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

// One entry for A.B with the given condition; parsed and selected for `p`: does it apply there?
bool applies(const std::string& when, const Platform& p) {
  auto e = Expectations::parse(
      R"({"platform":"windows-x86_64","deviations":[{"test":"A.B","claim":"c","expect":"fail","reason":"r","when":)" +
          when + "}]}",
      "windows-x86_64.json");
  EXPECT_EQ(e.entries().size(), 1u);
  EXPECT_TRUE(e.deviations().empty()) << "a conditional entry applies only once a platform is selected";
  e.select(p);
  return e.find("A.B") != nullptr;
}

TEST(Expectations, AMissingFileMeansNoKnownDeviation) {
  auto e = Expectations::load_for("/nonexistent-termsuite-dir", windows_platform("10.0.19045"));
  EXPECT_TRUE(e.deviations().empty());
  EXPECT_FALSE(e.from_file());
}

TEST(Conditions, OsTellsWindowsFromWine) {
  EXPECT_TRUE(applies(R"({"os":"windows"})", windows_platform("10.0.22631")));
  EXPECT_FALSE(applies(R"({"os":"windows"})", wine_platform("8.0")));  // Wine's os is "windows" too: not Windows
  EXPECT_TRUE(applies(R"({"os":"wine"})", wine_platform("8.0")));
  EXPECT_FALSE(applies(R"({"os":"wine"})", windows_platform("10.0.22631")));
  EXPECT_FALSE(applies(R"({"os":"windows"})", sim_platform()));
  EXPECT_FALSE(applies(R"({"os":"wine"})", sim_platform()));
}

TEST(Conditions, OsLinuxHoldsOnlyForThePosixSuitesPlatform) {
  const Platform posix_system = linux_platform();
  EXPECT_TRUE(applies(R"({"os":"linux"})", posix_system));
  EXPECT_FALSE(applies(R"({"os":"linux"})", wine_platform("8.0")));
  EXPECT_FALSE(applies(R"({"os":"linux"})", windows_platform("10.0.22631")));
  EXPECT_FALSE(applies(R"({"os":"windows"})", posix_system));
  EXPECT_EQ(posix_system.id, "linux-6.1-x86_64");
}

TEST(Conditions, ArchMustBeEqual) {
  EXPECT_TRUE(applies(R"({"arch":"x86_64"})", windows_platform("10.0.22631")));
  EXPECT_FALSE(applies(R"({"arch":"arm64"})", windows_platform("10.0.22631")));
  EXPECT_TRUE(applies(R"({"arch":"arm64"})", windows_platform("10.0.22631", "arm64")));
}

TEST(Conditions, BuildRangesAreInclusiveAtBothEnds) {
  const char* range = R"({"build":{"min":22000,"max":22631}})";
  EXPECT_FALSE(applies(range, windows_platform("10.0.19045")));
  EXPECT_FALSE(applies(range, windows_platform("10.0.21999")));
  EXPECT_TRUE(applies(range, windows_platform("10.0.22000")));
  EXPECT_TRUE(applies(range, windows_platform("10.0.22621")));
  EXPECT_TRUE(applies(range, windows_platform("10.0.22631")));
  EXPECT_FALSE(applies(range, windows_platform("10.0.22632")));
  EXPECT_FALSE(applies(range, windows_platform("10.0.26100")));
  // One bound: open on the other side.
  EXPECT_TRUE(applies(R"({"build":{"min":22000}})", windows_platform("10.0.26100")));
  EXPECT_FALSE(applies(R"({"build":{"min":22000}})", windows_platform("10.0.19045")));
  EXPECT_TRUE(applies(R"({"build":{"max":19045}})", windows_platform("10.0.19045")));
  EXPECT_FALSE(applies(R"({"build":{"max":19045}})", windows_platform("10.0.22000")));
  // Under Wine the build is the one of the Windows version Wine reports.
  EXPECT_TRUE(applies(R"({"build":{"max":7601}})", wine_platform("8.0")));
  // A platform without a Windows version (the simulator) is in no range.
  EXPECT_FALSE(applies(R"({"build":{"min":0}})", sim_platform()));
}

TEST(Conditions, VersionRangesCompareNumberByNumber) {
  const char* range = R"({"version":{"min":"10.0.22000","max":"10.0.26100"}})";
  EXPECT_FALSE(applies(range, windows_platform("6.3.9600")));
  EXPECT_FALSE(applies(range, windows_platform("10.0.19045")));
  EXPECT_TRUE(applies(range, windows_platform("10.0.22000")));
  EXPECT_TRUE(applies(range, windows_platform("10.0.22631")));
  EXPECT_TRUE(applies(range, windows_platform("10.0.26100")));
  EXPECT_FALSE(applies(range, windows_platform("10.0.26101")));
  EXPECT_FALSE(applies(range, windows_platform("11.0.0")));
  // Numbers, not text: 10.0.9600 is below 10.0.22000.
  EXPECT_FALSE(applies(R"({"version":{"min":"10.0.22000"}})", windows_platform("10.0.9600")));
}

TEST(Conditions, WineRangesAndMissingNumbersCountAsZero) {
  const char* range = R"({"wine":{"min":"8.0","max":"9.0"}})";
  EXPECT_FALSE(applies(range, wine_platform("7.22")));
  EXPECT_TRUE(applies(range, wine_platform("8.0")));
  EXPECT_TRUE(applies(range, wine_platform("8.0.2")));
  EXPECT_TRUE(applies(range, wine_platform("9.0")));
  EXPECT_FALSE(applies(range, wine_platform("9.0.1")));
  EXPECT_FALSE(applies(range, wine_platform("9.0-rc1")));  // not a plain version: in no range
  EXPECT_FALSE(applies(range, windows_platform("10.0.22631")));
}

TEST(Conditions, EveryKeyGivenMustHold) {
  const char* when = R"({"os":"windows","build":{"min":22000},"arch":"x86_64"})";
  EXPECT_TRUE(applies(when, windows_platform("10.0.22631")));
  EXPECT_FALSE(applies(when, windows_platform("10.0.19045")));
  EXPECT_FALSE(applies(when, windows_platform("10.0.22631", "arm64")));
  EXPECT_FALSE(applies(when, wine_platform("8.0", "10.0.22631")));
}

TEST(Conditions, TheFirstEntryThatAppliesWinsAndOthersMustPass) {
  const char* text = R"({"platform":"windows-x86_64","deviations":[
    {"test":"A.B","claim":"c","expect":"timeout","reason":"new","when":{"build":{"min":22000}}},
    {"test":"A.B","claim":"c","expect":"fail","reason":"old","when":{"build":{"min":19041}}},
    {"test":"C.D","claim":"c","expect":"fail","reason":"everywhere"}]})";
  auto e = Expectations::parse(text, "windows-x86_64.json", "windows-x86_64");
  EXPECT_EQ(e.entries().size(), 3u);
  e.select(windows_platform("10.0.26100"));
  ASSERT_NE(e.find("A.B"), nullptr);
  EXPECT_EQ(e.find("A.B")->reason, "new");
  EXPECT_EQ(e.deviations().size(), 2u);
  e.select(windows_platform("10.0.19045"));
  ASSERT_NE(e.find("A.B"), nullptr);
  EXPECT_EQ(e.find("A.B")->reason, "old");
  e.select(windows_platform("10.0.17763"));
  EXPECT_EQ(e.find("A.B"), nullptr);  // no entry applies: the test must pass here
  ASSERT_NE(e.find("C.D"), nullptr);
  EXPECT_EQ(e.deviations().size(), 1u);
}

TEST(Conditions, EachMalformedFormIsRejectedNamingTheProblem) {
  struct Case {
    const char* when;
    const char* says;
  };
  const Case cases[] = {
      {R"({"os":"macos"})", R"(when.os must be one of "windows", "wine", "linux", not "macos")"},
      {R"({"os":1})", R"(when.os must be one of)"},
      {R"({"arch":"amd64"})", R"(when.arch must be one of "x86_64", "x86", "arm64", not "amd64")"},
      {R"({"platform":"windows"})", R"(unknown key "platform" in "when")"},
      {R"({})", R"("when" is empty)"},
      {R"("windows")", R"("when" must be an object)"},
      {R"({"build":22000})", R"(when.build must be an object with "min" and/or "max")"},
      {R"({"build":{}})", R"(when.build is an empty condition)"},
      {R"({"build":{"from":22000}})", R"(when.build: unknown key "from")"},
      {R"({"build":{"min":"22000"}})", R"(when.build.min must be a build number (a non-negative integer), not "22000")"},
      {R"({"build":{"min":-1}})", R"(when.build.min must be a build number)"},
      {R"({"build":{"min":22000.5}})", R"(when.build.min must be a build number)"},
      {R"({"build":{"min":26100,"max":22000}})", R"(when.build is empty: min 26100 is above max 22000)"},
      {R"({"version":{"min":"10.0"}})", R"(when.version.min "10.0" is not a version of the form major.minor.build)"},
      {R"({"version":{"min":"10.0.22000.1"}})", R"(is not a version of the form major.minor.build)"},
      {R"({"version":{"min":"10.0.x"}})", R"(is not a version of the form major.minor.build)"},
      {R"({"version":{"min":"10..0"}})", R"(is not a version of the form major.minor.build)"},
      {R"({"version":{"max":10}})", R"(when.version.max must be a string of the form major.minor.build)"},
      {R"({"version":{"min":"10.0.26100","max":"10.0.22000"}})", R"(min 10.0.26100 is above max 10.0.22000)"},
      {R"({"wine":{"min":"8"}})", R"(when.wine.min "8" is not a version of the form major.minor[.patch])"},
      {R"({"os":"windows","wine":{"min":"8.0"}})", R"(can never hold)"},
  };
  for (const auto& c : cases) {
    std::string text = R"({"platform":"windows-x86_64","deviations":[{"test":"A.B","claim":"c","expect":"fail","reason":"r","when":)" +
                       std::string(c.when) + "}]}";
    try {
      Expectations::parse(text, "results/expectations/windows-x86_64.json", "windows-x86_64");
      ADD_FAILURE() << "accepted: " << c.when;
    } catch (const ExpectationsError& e) {
      std::string what = e.what();
      EXPECT_EQ(what.rfind("results/expectations/windows-x86_64.json: deviation for A.B: ", 0), 0u) << what;
      EXPECT_NE(what.find(c.says), std::string::npos) << c.when << " -> " << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(Conditions, AnEntryThatCanNeverApplyIsRejected) {
  const char* entry = R"({"test":"A.B","claim":"c","expect":"fail","reason":"r"})";
  const char* conditional = R"({"test":"A.B","claim":"c","expect":"fail","reason":"r","when":{"build":{"min":22000}}})";
  struct Case {
    std::string first, second, says;
  };
  const Case cases[] = {
      {entry, entry, "A.B is listed twice"},
      {entry, conditional, "A.B is listed again after an entry without \"when\""},
      {conditional, conditional, "A.B is listed twice with the same \"when\""},
  };
  for (const auto& c : cases) {
    std::string text = R"({"platform":"windows-x86_64","deviations":[)" + c.first + "," + c.second + "]}";
    try {
      Expectations::parse(text, "x.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ExpectationsError& e) {
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
  // A conditional entry before an unconditional one: the unconditional one covers the rest.
  std::string text = R"({"platform":"windows-x86_64","deviations":[)" + std::string(conditional) + "," + entry + "]}";
  auto e = Expectations::parse(text, "x.json");
  e.select(windows_platform("10.0.19045"));
  EXPECT_NE(e.find("A.B"), nullptr);
}

// A directory of expectations files, removed afterwards.
class ExpectationsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("termsuite-expectations-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }
  static std::string file_for(const std::string& platform, const std::string& reason, const std::string& when = "") {
    return R"({"platform":")" + platform + R"(","deviations":[{"test":"A.B","claim":"c","expect":"fail","reason":")" +
           reason + "\"" + (when.empty() ? "" : ",\"when\":" + when) + "}]}";
  }
  std::filesystem::path dir_;
};

TEST_F(ExpectationsDir, AFamilyFileServesEveryBuildWithoutAFileOfItsOwn) {
  write("windows-x86_64.json", file_for("windows-x86_64", "from 22000 on", R"({"build":{"min":22000}})"));
  auto e = Expectations::load_for(dir_, windows_platform("10.0.22631"));
  EXPECT_TRUE(e.from_file());
  EXPECT_EQ(e.origin(), (dir_ / "windows-x86_64.json").string());
  EXPECT_EQ(e.platform(), "windows-x86_64");
  ASSERT_NE(e.find("A.B"), nullptr);
  EXPECT_EQ(e.find("A.B")->reason, "from 22000 on");
  // The same file for an older build: listed, but not a deviation there.
  auto older = Expectations::load_for(dir_, windows_platform("10.0.19045"));
  EXPECT_TRUE(older.from_file());
  EXPECT_EQ(older.entries().size(), 1u);
  EXPECT_EQ(older.find("A.B"), nullptr);
  // Another architecture has a family of its own.
  EXPECT_FALSE(Expectations::load_for(dir_, windows_platform("10.0.22631", "arm64")).from_file());
  // Wine's family is not Windows'.
  EXPECT_FALSE(Expectations::load_for(dir_, wine_platform("8.0")).from_file());
}

TEST_F(ExpectationsDir, WineHasAFamilyFileToo) {
  write("wine-x86_64.json", file_for("wine-x86_64", "up to 9.0", R"({"wine":{"max":"9.0"}})"));
  EXPECT_NE(Expectations::load_for(dir_, wine_platform("8.0")).find("A.B"), nullptr);
  EXPECT_EQ(Expectations::load_for(dir_, wine_platform("9.12")).find("A.B"), nullptr);
  EXPECT_FALSE(Expectations::load_for(dir_, sim_platform()).from_file());
}

TEST_F(ExpectationsDir, ThePlatformsOwnFileWins) {
  write("windows-x86_64.json", file_for("windows-x86_64", "family"));
  write("windows-10.0.22631-x86_64.json", file_for("windows-10.0.22631-x86_64", "exact"));
  auto exact = Expectations::load_for(dir_, windows_platform("10.0.22631"));
  EXPECT_EQ(exact.origin(), (dir_ / "windows-10.0.22631-x86_64.json").string());
  ASSERT_NE(exact.find("A.B"), nullptr);
  EXPECT_EQ(exact.find("A.B")->reason, "exact");
  EXPECT_EQ(Expectations::load_for(dir_, windows_platform("10.0.26100")).find("A.B")->reason, "family");
}

TEST_F(ExpectationsDir, EachFileMustNameItsOwnPlatformOrFamily) {
  write("windows-x86_64.json", file_for("windows-10.0.22631-x86_64", "r"));
  try {
    Expectations::load_for(dir_, windows_platform("10.0.26100"));
    ADD_FAILURE() << "a family file naming one build was accepted";
  } catch (const ExpectationsError& e) {
    EXPECT_NE(std::string(e.what()).find(R"(is for platform "windows-10.0.22631-x86_64", not "windows-x86_64")"),
              std::string::npos)
        << e.what();
  }
}

TEST(Expectations, TheCommittedWineFileIsReadAsBefore) {
  const auto dir = std::filesystem::path(TERMSUITE_SOURCE_DIR) / "results" / "expectations";
  auto e = Expectations::load_for(dir, wine_platform("8.0"));
  EXPECT_EQ(e.origin(), (dir / "wine-8.0-x86_64.json").string());
  EXPECT_FALSE(e.deviations().empty());
  EXPECT_EQ(e.deviations().size(), e.entries().size());
}

TEST(Classify, WithoutAnExpectationOnlyAPassOrASkipIsAccepted) {
  EXPECT_EQ(classify(Observed::passed, nullptr, "").outcome, Outcome::pass);
  EXPECT_EQ(classify(Observed::failed, nullptr, "x.cpp:1: boom").outcome, Outcome::fail);
  EXPECT_EQ(classify(Observed::failed, nullptr, "x.cpp:1: boom").detail, "x.cpp:1: boom");
  EXPECT_EQ(classify(Observed::timed_out, nullptr, "t").outcome, Outcome::timeout);
  EXPECT_EQ(classify(Observed::skipped, nullptr, "").outcome, Outcome::skip);
  // A skip is the platform's configuration saying the test cannot run there, never a deviation.
  EXPECT_TRUE(gate_accepts(Outcome::skip));
  EXPECT_FALSE(gate_accepts(Outcome::fail));
  EXPECT_FALSE(gate_accepts(Outcome::timeout));
  EXPECT_FALSE(gate_accepts(Outcome::xpass));
}

TEST(Classify, AKnownDeviationIsAnXfailAndItsPassAnXpass) {
  Deviation d{"A.B", "c", Outcome::fail, "documented reason", {}};
  auto xfail = classify(Observed::failed, &d, "x.cpp:1: boom");
  EXPECT_EQ(xfail.outcome, Outcome::xfail);
  EXPECT_EQ(xfail.detail, "documented reason");
  EXPECT_TRUE(gate_accepts(xfail.outcome));
  auto xpass = classify(Observed::passed, &d, "");
  EXPECT_EQ(xpass.outcome, Outcome::xpass);
  EXPECT_FALSE(gate_accepts(xpass.outcome));
  // A deviation of another kind than expected is not hidden.
  EXPECT_EQ(classify(Observed::timed_out, &d, "t").outcome, Outcome::timeout);
  Deviation t{"A.B", "c", Outcome::timeout, "r", {}};
  EXPECT_EQ(classify(Observed::timed_out, &t, "t").outcome, Outcome::xfail);
  EXPECT_EQ(classify(Observed::failed, &t, "f").outcome, Outcome::fail);
}

TEST(Classify, AnUntriagedDeviationStillFailsTheGate) {
  // What `termsuite expectations update` writes for a new failure is a placeholder, not a reason.
  Deviation d{"A.B", "c", Outcome::fail, "UNTRIAGED: x.cpp:1: boom", {}};
  EXPECT_TRUE(is_untriaged(d));
  auto c = classify(Observed::failed, &d, "x.cpp:1: boom");
  EXPECT_EQ(c.outcome, Outcome::fail);
  EXPECT_FALSE(gate_accepts(c.outcome));
  EXPECT_NE(c.detail.find("untriaged deviation"), std::string::npos) << c.detail;
  EXPECT_NE(c.detail.find("UNTRIAGED: x.cpp:1: boom"), std::string::npos) << c.detail;
  Deviation t{"A.B", "c", Outcome::timeout, "UNTRIAGED: t", {}};
  EXPECT_EQ(classify(Observed::timed_out, &t, "t").outcome, Outcome::timeout);
  // Its pass is an unexpected pass, as for any listed deviation; a real reason makes it known.
  EXPECT_EQ(classify(Observed::passed, &d, "").outcome, Outcome::xpass);
  Deviation triaged{"A.B", "c", Outcome::fail, "Wine's taskkill passes 0 (measured)", {}};
  EXPECT_FALSE(is_untriaged(triaged));
  EXPECT_EQ(classify(Observed::failed, &triaged, "f").outcome, Outcome::xfail);
}

TEST(Classify, AnInconclusiveTestIsNeitherAPassNorADeviation) {
  // Its control showed nothing: the gate accepts it, but it ranks above a skip, so a claim one of
  // whose tests could not tell never shows as pass.
  auto c = classify(Observed::inconclusive, nullptr, "the control's ids were never reused");
  EXPECT_EQ(c.outcome, Outcome::inconclusive);
  EXPECT_EQ(c.detail, "the control's ids were never reused");
  EXPECT_TRUE(gate_accepts(Outcome::inconclusive));
  EXPECT_GT(severity(Outcome::inconclusive), severity(Outcome::skip));
  EXPECT_GT(severity(Outcome::inconclusive), severity(Outcome::xfail));
  EXPECT_LT(severity(Outcome::inconclusive), severity(Outcome::xpass));
  EXPECT_LT(severity(Outcome::inconclusive), severity(Outcome::fail));
  EXPECT_EQ(parse_outcome("inconclusive"), Outcome::inconclusive);
  EXPECT_EQ(to_string(Outcome::inconclusive), "inconclusive");
  // A listed deviation is neither confirmed (xfail) nor refuted (xpass): it stays inconclusive,
  // and the detail says a deviation is listed.
  Deviation d{"A.B", "c", Outcome::fail, "documented reason", {}};
  auto listed = classify(Observed::inconclusive, &d, "the control showed nothing");
  EXPECT_EQ(listed.outcome, Outcome::inconclusive);
  EXPECT_NE(listed.detail.find("the control showed nothing"), std::string::npos) << listed.detail;
  EXPECT_NE(listed.detail.find("documented reason"), std::string::npos) << listed.detail;
  EXPECT_NE(listed.detail.find("neither show nor rule out"), std::string::npos) << listed.detail;
}

}  // namespace
}  // namespace termsuite
