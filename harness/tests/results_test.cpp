// Results: the stream the suite writes, and the stable file the runner commits.
#include <gtest/gtest.h>

#include "test_platforms.hpp"
#include "termsuite/results.hpp"

namespace termsuite {
namespace {

TestResult result(std::string name, Outcome o, double secs) {
  TestResult t;
  t.name = std::move(name);
  t.claim = "exit.still-active";
  t.backend = "live";
  t.outcome = o;
  t.seconds = secs;
  t.messages = {"a message with a pid 1234"};
  return t;
}

TEST(Platform, IdNamesWineOrTheWindowsBuild) {
  EXPECT_EQ(wine_platform().id, "wine-8.0-x86_64");
  Platform w;
  w.os = "windows";
  w.version = "10.0.19045";
  w.arch = "x86_64";
  EXPECT_EQ(make_platform_id(w), "windows-10.0.19045-x86_64");
}

TEST(ResultsStream, RoundTripsAndReportsBrokenLines) {
  std::string text = stream_platform_line(wine_platform()) + stream_test_line(result("B.Two", Outcome::xfail, 0.5)) +
                     "garbage\n" + stream_test_line(result("A.One", Outcome::pass, 0.1)) + R"({"test":{"name":"C)";
  auto s = parse_stream(text, "shard-0.jsonl");
  ASSERT_TRUE(s.platform);
  EXPECT_EQ(s.platform->id, "wine-8.0-x86_64");
  ASSERT_EQ(s.tests.size(), 2u);
  EXPECT_EQ(s.tests[0].outcome, Outcome::xfail);
  EXPECT_DOUBLE_EQ(s.tests[0].seconds, 0.5);
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_NE(s.problems[0].find("shard-0.jsonl:3"), std::string::npos) << s.problems[0];
  EXPECT_NE(s.problems[1].find("truncated"), std::string::npos) << s.problems[1];
}

TEST(StableJson, SameOutcomesGiveTheSameBytes) {
  RunResults a{wine_platform(), {result("B.Two", Outcome::fail, 0.5), result("A.One", Outcome::pass, 0.1)}};
  RunResults b{wine_platform(), {result("A.One", Outcome::pass, 9.9), result("B.Two", Outcome::fail, 0.01)}};
  b.tests[1].messages = {"another message"};
  EXPECT_EQ(stable_json(a), stable_json(b));
  EXPECT_EQ(stable_json(a).find("seconds"), std::string::npos);
  EXPECT_EQ(stable_json(a).find("1234"), std::string::npos) << "messages stay out of the stable file";
  EXPECT_LT(stable_json(a).find("A.One"), stable_json(a).find("B.Two"));
  b.tests[0].outcome = Outcome::xpass;
  EXPECT_NE(stable_json(a), stable_json(b));
  auto back = parse_stable_json(stable_json(a), "x.json");
  ASSERT_EQ(back.tests.size(), 2u);
  EXPECT_EQ(back.tests[1].outcome, Outcome::fail);
}

TEST(StableJson, TwoMachinesWithTheSameBehaviourWriteTheSameBytes) {
  // The same Wine on two kernels: what was measured is the same, so is the file.
  RunResults here{wine_platform(), {result("A.One", Outcome::pass, 0.1)}};
  RunResults there = here;
  there.platform.host = "Linux 6.18.44-fc-v782";
  there.tests[0].seconds = 3.2;
  there.tests[0].messages = {"pid 5678 on the other machine"};
  EXPECT_EQ(stable_json(here), stable_json(there));
  EXPECT_EQ(stable_json(here).find("host"), std::string::npos) << stable_json(here);
  EXPECT_EQ(stable_json(here).find("Linux"), std::string::npos) << stable_json(here);
  // What the stable file keeps of the platform reads back, the host empty.
  auto back = parse_stable_json(stable_json(there), "x.json");
  EXPECT_EQ(back.platform.id, "wine-8.0-x86_64");
  EXPECT_EQ(back.platform.version, "6.1.7601");
  EXPECT_EQ(back.platform.wine, "8.0");
  EXPECT_EQ(back.platform.arch, "x86_64");
  EXPECT_EQ(back.platform.host, "");
  // A committed file from before (with a host) still reads.
  auto old = parse_stable_json(
      R"({"platform":{"id":"sim","os":"sim","version":"termsim 1","wine":"","host":"","arch":"model"},"tests":[]})",
      "sim.json");
  EXPECT_EQ(old.platform.id, "sim");
}

TEST(ResultsStream, KeepsTheHostForTheSummaryAndJunit) {
  auto s = parse_stream(stream_platform_line(wine_platform()), "shard-0.jsonl");
  ASSERT_TRUE(s.platform);
  EXPECT_EQ(s.platform->host, "Linux 6.1");
}

TEST(Junit, RecordsThePlatformInFull) {
  RunResults r{wine_platform(), {result("A.One", Outcome::pass, 0.1), result("B.Two", Outcome::pass, 0.1)}};
  auto xml = junit_xml(r);
  EXPECT_NE(xml.find("<property name=\"platform.host\" value=\"Linux 6.1\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<property name=\"platform.id\" value=\"wine-8.0-x86_64\"/>"), std::string::npos) << xml;
  // On each <testsuite>, before its test cases.
  auto suite_b = xml.find("<testsuite name=\"B\"");
  ASSERT_NE(suite_b, std::string::npos);
  auto host_b = xml.find("platform.host", suite_b);
  EXPECT_LT(host_b, xml.find("<testcase", suite_b)) << xml;
}

TEST(Junit, CountsWhatTheGateRejectsAsFailures) {
  RunResults r{wine_platform(), {result("A.One", Outcome::pass, 0.1), result("A.Two", Outcome::xfail, 0.1),
                        result("B.Three", Outcome::xpass, 0.1), result("B.Four", Outcome::timeout, 0.1)}};
  auto xml = junit_xml(r);
  EXPECT_NE(xml.find("tests=\"4\" failures=\"2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"xpass"), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"outcome\" value=\"xfail\"/>"), std::string::npos);
}

TEST(Junit, AnInconclusiveTestIsSkippedWithItsReason) {
  auto unsure = result("C.Unsure", Outcome::inconclusive, 0.1);
  unsure.detail = "the control's ids were never reused <here>";
  RunResults r{wine_platform(), {result("C.Fine", Outcome::pass, 0.1), unsure}};
  auto xml = junit_xml(r);
  EXPECT_NE(xml.find("tests=\"2\" failures=\"0\" skipped=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<skipped message=\"inconclusive: the control&apos;s ids were never reused &lt;here&gt;\"/>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("<failure"), std::string::npos) << xml;
  // The stream and the stable file carry the word itself.
  auto stream = parse_stream(stream_platform_line(r.platform) + stream_test_line(unsure), "s");
  ASSERT_EQ(stream.tests.size(), 1u);
  EXPECT_EQ(stream.tests[0].outcome, Outcome::inconclusive);
  auto stable = parse_stable_json(stable_json(r), "f");
  ASSERT_EQ(stable.tests.size(), 2u);
  EXPECT_EQ(stable.tests[1].outcome, Outcome::inconclusive);
  EXPECT_EQ(stable.tests[1].detail, unsure.detail);
}

}  // namespace
}  // namespace termsuite
