// The report-channel reader: records in, typed events out; bad input never crashes it.
#include <gtest/gtest.h>

#include "termsuite/report.hpp"

namespace termsuite {
namespace {

TEST(ReportRecord, ParsesAWellFormedRecord) {
  auto e = parse_record(R"({"v":1,"pid":412,"tid":418,"seq":3,"ev":"spawned","child_pid":500,"child_tid":504})");
  ASSERT_EQ(e.kind, Event::Kind::record);
  EXPECT_EQ(e.pid, 412u);
  EXPECT_EQ(e.tid, 418u);
  EXPECT_EQ(e.seq, 3u);
  EXPECT_TRUE(e.is("spawned"));
  EXPECT_EQ(e.number("child_pid"), 500u);
  EXPECT_FALSE(e.number("missing"));
  EXPECT_FALSE(e.text("child_pid")) << "a number is not text";
}

TEST(ReportRecord, FlagReadsOnlyJsonBooleans) {
  auto e = parse_record(
      R"({"v":1,"pid":1,"tid":2,"seq":0,"ev":"ctrl-event","known_thread":false,"seen":true,"n":0,"s":"false"})");
  ASSERT_EQ(e.kind, Event::Kind::record);
  EXPECT_EQ(e.flag("known_thread"), false);
  EXPECT_EQ(e.flag("seen"), true);
  EXPECT_FALSE(e.flag("missing")) << "a missing field is no answer, not false";
  EXPECT_FALSE(e.flag("n")) << "a number is not a boolean";
  EXPECT_FALSE(e.flag("s")) << "a string is not a boolean";
  EXPECT_FALSE(e.number("seen")) << "a boolean is not a number";
  EXPECT_FALSE(parse_record("not json").flag("seen"));
}

TEST(ReportRecord, MalformedLinesAreKeptWithTheReason) {
  struct Case {
    const char* line;
    const char* problem;
  } cases[] = {
      {"not json at all", "not JSON"},
      {"[1,2,3]", "not a JSON object"},
      {R"({"pid":1,"tid":2,"seq":0,"ev":"ready"})", "version"},
      {R"({"v":2,"pid":1,"tid":2,"seq":0,"ev":"ready"})", "version"},
      {R"({"v":1,"pid":-1,"tid":2,"seq":0,"ev":"ready"})", "pid"},
      {R"({"v":1,"pid":1,"tid":"x","seq":0,"ev":"ready"})", "tid"},
      {R"({"v":1,"pid":1,"tid":2,"ev":"ready"})", "seq"},
      {R"({"v":1,"pid":1,"tid":2,"seq":0,"ev":""})", "event name"},
      {R"({"v":1,"pid":4294967296,"tid":2,"seq":0,"ev":"ready"})", "pid"},
  };
  for (const auto& c : cases) {
    auto e = parse_record(c.line);
    EXPECT_EQ(e.kind, Event::Kind::malformed) << c.line;
    EXPECT_NE(e.problem.find(c.problem), std::string::npos) << c.line << " -> " << e.problem;
    EXPECT_EQ(e.raw, c.line);
    EXPECT_FALSE(e.is("ready"));
  }
}

TEST(ReportSplitter, ReassemblesRecordsSplitAcrossReads) {
  RecordSplitter s;
  std::string stream =
      R"({"v":1,"pid":1,"tid":1,"seq":0,"ev":"start"})" "\n"
      R"({"v":1,"pid":1,"tid":1,"seq":1,"ev":"ready"})" "\r\n";
  std::vector<Event> got;
  for (char c : stream)
    for (auto& e : s.feed(std::string_view(&c, 1))) got.push_back(e);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].is("start"));
  EXPECT_TRUE(got[1].is("ready"));
  EXPECT_FALSE(s.finish());
}

TEST(ReportSplitter, BytesLeftAtEndOfStreamAreATruncatedRecord) {
  RecordSplitter s;
  auto got = s.feed(R"({"v":1,"pid":1,"tid":1,"seq":0,"ev":"ready"})" "\n" R"({"v":1,"pid":1,"ti)");
  ASSERT_EQ(got.size(), 1u);
  auto last = s.finish();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->kind, Event::Kind::truncated);
  EXPECT_EQ(last->raw, R"({"v":1,"pid":1,"ti)");
  EXPECT_NE(last->describe().find("truncated"), std::string::npos);
}

TEST(ReportSplitter, GarbageBetweenRecordsDoesNotHideTheRecords) {
  RecordSplitter s;
  auto got = s.feed("\x01\x02garbage\n{\"v\":1,\"pid\":7,\"tid\":8,\"seq\":0,\"ev\":\"ready\"}\n\n");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, Event::Kind::malformed);
  EXPECT_TRUE(got[1].is("ready"));
}

}  // namespace
}  // namespace termsuite
