// The runner's plan of which suite process runs which tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "../runner/schedule.hpp"

namespace termsuite::runner {
namespace {

std::vector<std::string> six() { return {"A.a", "A.b", "B.c", "B.d", "C.e", "C.f"}; }

TEST(Schedule, WithoutTimingsDealsRoundRobinInListingOrder) {
  auto plan = plan_shards(six(), 2, {});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], (std::vector<std::string>{"A.a", "B.c", "C.e"}));
  EXPECT_EQ(plan[1], (std::vector<std::string>{"A.b", "B.d", "C.f"}));
}

TEST(Schedule, LongestFirstToTheLeastLoaded) {
  // Round robin would give 4.1 s and 0.6 s; longest-first gives 2.3 s and 2.4 s.
  Timings t{{"A.a", 2.0}, {"A.b", 0.1}, {"B.c", 2.0}, {"B.d", 0.2}, {"C.e", 0.1}, {"C.f", 0.3}};
  auto plan = plan_shards(six(), 2, t);
  ASSERT_EQ(plan.size(), 2u);
  auto secs = planned_seconds(plan, t);
  EXPECT_NEAR(std::max(secs[0], secs[1]), 2.4, 1e-9);
  EXPECT_NEAR(secs[0] + secs[1], 4.7, 1e-9);
  // Each list keeps listing order, and every test is in exactly one list.
  std::vector<std::string> all;
  for (const auto& list : plan) {
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    all.insert(all.end(), list.begin(), list.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, six());
  EXPECT_EQ(plan, plan_shards(six(), 2, t)) << "the plan is not deterministic";
}

TEST(Schedule, AnUntimedTestCountsAsTheMedian) {
  // X.new has no timing: as the median (1 s) it is dealt before the last 1 s test, which then goes
  // beside the 3 s one; counted as nothing, X.new itself would have gone there.
  std::vector<std::string> names{"X.long", "X.new", "Y.s1", "Y.s2", "Y.s3"};
  Timings t{{"X.long", 3.0}, {"Y.s1", 1.0}, {"Y.s2", 1.0}, {"Y.s3", 1.0}};
  auto plan = plan_shards(names, 2, t);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], (std::vector<std::string>{"X.long", "Y.s3"}));
  EXPECT_EQ(plan[1], (std::vector<std::string>{"X.new", "Y.s1", "Y.s2"}));
}

TEST(Schedule, NeverMoreShardsThanTests) {
  auto plan = plan_shards({"A.a", "A.b"}, 4, {});
  EXPECT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan_shards({"A.a"}, 0, {}).size(), 1u);
}

// A test that declares it may wait long for the platform gets a suite process of its own from the
// first run on (no other test waits behind it), beside the -j ones; once its timing shows it no
// longer than the longest other test, it is dealt like any other.
TEST(Schedule, ATestThatMayRunLongGetsAShardOfItsOwnUntilItsTimingShowsItShort) {
  const std::set<std::string> long_ones{"B.d"};
  auto first = plan_shards(six(), 2, {}, long_ones);
  ASSERT_EQ(first.size(), 3u) << "two shards for the others, one for the long test";
  EXPECT_EQ(first[0], (std::vector<std::string>{"A.a", "B.c", "C.f"}));
  EXPECT_EQ(first[1], (std::vector<std::string>{"A.b", "C.e"}));
  EXPECT_EQ(first[2], (std::vector<std::string>{"B.d"}));

  // It took 35 s (Windows' loader pool): alone again, and the others are dealt by their times.
  Timings windows{{"A.a", 2.0}, {"A.b", 0.1}, {"B.c", 2.0}, {"B.d", 35.0}, {"C.e", 0.1}, {"C.f", 0.3}};
  auto again = plan_shards(six(), 2, windows, long_ones);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again.back(), (std::vector<std::string>{"B.d"}));
  for (std::size_t i = 0; i + 1 < again.size(); ++i)
    EXPECT_EQ(std::count(again[i].begin(), again[i].end(), "B.d"), 0);
  EXPECT_TRUE(runs_alone("B.d", six(), windows, long_ones));

  // It took 0.2 s (Wine: no loader pool), less than the longest other test: dealt like any other,
  // no extra suite process.
  Timings wine = windows;
  wine["B.d"] = 0.2;
  auto quick = plan_shards(six(), 2, wine, long_ones);
  EXPECT_EQ(quick.size(), 2u);
  EXPECT_EQ(quick, plan_shards(six(), 2, wine)) << "dealt exactly as without the hint";
  EXPECT_FALSE(runs_alone("B.d", six(), wine, long_ones));
  // A hint for a test the run does not have (a filter) changes nothing.
  EXPECT_EQ(plan_shards(six(), 2, {}, {"Z.z"}), plan_shards(six(), 2, {}));
}

TEST(Schedule, ExactFilterNamesEveryTest) {
  EXPECT_EQ(exact_filter({"A.a", "B.c"}), "A.a:B.c");
  EXPECT_EQ(exact_filter({}), "");
}

TEST(Schedule, TimingsRoundTripAndAFilteredRunKeepsTheOthers) {
  auto file = std::filesystem::temp_directory_path() / "termsuite-schedule-test-timings.json";
  ASSERT_TRUE(save_timings(file, {{"A.a", 1.25}, {"B.c", 0.5}}));
  TestResult r;
  r.name = "A.a";
  r.seconds = 2.0;
  auto t = updated_timings(load_timings(file), {r});
  EXPECT_EQ(t, (Timings{{"A.a", 2.0}, {"B.c", 0.5}}));
  std::ofstream(file) << "not json";
  EXPECT_TRUE(load_timings(file).empty()) << "an unreadable file must only cost the round robin";
  std::filesystem::remove(file);
  EXPECT_TRUE(load_timings(file).empty());
}

}  // namespace
}  // namespace termsuite::runner
