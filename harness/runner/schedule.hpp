#pragma once
// Which tests each suite process of a run runs. The live tests differ a lot in length (a churn of
// 40 processes, a 2 s delivery watch, a test of a few milliseconds), so GoogleTest's round robin
// can leave one shard running alone for seconds. With the time each test took last time (kept in
// the build tree), the longest tests are dealt first, each to the shard with the least work so far
// ("longest processing time first"); a test with no timing yet counts as the median of those with
// one. Without any timing, the tests are dealt round robin in listing order, as GoogleTest would.
//
// A test may declare that it can wait long for the platform (the suite's --termsuite-describe
// lists it: a test that waits up to 45 s for Windows' loader thread pool to idle out). Such a test
// gets a suite process of its own, beside the `shards` others, from the first run on, so that no
// other test waits behind it; once the timings show it took no longer than the longest of the
// other tests (under Wine, which has no loader pool, it takes well under a second), it is dealt like
// any other.
//
// Portable C++ (std::filesystem and nlohmann-json only): the runner is built for Windows too.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "termsuite/results.hpp"

namespace termsuite::runner {

// Test name -> seconds it took in the runs recorded so far.
using Timings = std::map<std::string, double>;

// The timings file: one JSON object {"Suite.Name": seconds, ...}. Empty if the file is absent or
// unreadable (a schedule is an optimisation: a bad file only costs the round robin).
Timings load_timings(const std::filesystem::path& file);
// `previous` with the times of `tests` (live tests that reported) put in: a filtered run keeps the
// others' times.
Timings updated_timings(Timings previous, const std::vector<TestResult>& tests);
// Writes `timings` (sorted, one test a line); returns false if it cannot.
bool save_timings(const std::filesystem::path& file, const Timings& timings);

// Deals `names` (listing order) out to `shards` lists (none empty when there are at least as many
// tests as shards), then gives each test of `may_run_long` that runs alone (above) a list of its
// own, after them. Deterministic for given names and timings; each list keeps listing order.
std::vector<std::vector<std::string>> plan_shards(const std::vector<std::string>& names, int shards,
                                                  const Timings& timings, const std::set<std::string>& may_run_long = {});
// Whether a test that declares it may run long gets a list of its own (above).
bool runs_alone(const std::string& name, const std::vector<std::string>& names, const Timings& timings,
                const std::set<std::string>& may_run_long);
// The expected seconds of each list of `plan` (0 for a test with no timing); for the summary.
std::vector<double> planned_seconds(const std::vector<std::vector<std::string>>& plan, const Timings& timings);

// A GoogleTest filter that selects exactly these tests ("A.b:C.d").
std::string exact_filter(const std::vector<std::string>& names);

}  // namespace termsuite::runner
