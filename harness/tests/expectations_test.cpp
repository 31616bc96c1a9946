// Expectations files and the classification of outcomes (the gate's rules).
#include <gtest/gtest.h>

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

TEST(Expectations, AMissingFileMeansNoKnownDeviation) {
  auto e = Expectations::load_for("/nonexistent-termsuite-dir", "windows-10.0.19045-x86_64");
  EXPECT_TRUE(e.deviations().empty());
  EXPECT_FALSE(e.from_file());
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
  Deviation d{"A.B", "c", Outcome::fail, "documented reason"};
  auto xfail = classify(Observed::failed, &d, "x.cpp:1: boom");
  EXPECT_EQ(xfail.outcome, Outcome::xfail);
  EXPECT_EQ(xfail.detail, "documented reason");
  EXPECT_TRUE(gate_accepts(xfail.outcome));
  auto xpass = classify(Observed::passed, &d, "");
  EXPECT_EQ(xpass.outcome, Outcome::xpass);
  EXPECT_FALSE(gate_accepts(xpass.outcome));
  // A deviation of another kind than expected is not hidden.
  EXPECT_EQ(classify(Observed::timed_out, &d, "t").outcome, Outcome::timeout);
  Deviation t{"A.B", "c", Outcome::timeout, "r"};
  EXPECT_EQ(classify(Observed::timed_out, &t, "t").outcome, Outcome::xfail);
  EXPECT_EQ(classify(Observed::failed, &t, "f").outcome, Outcome::fail);
}

}  // namespace
}  // namespace termsuite
