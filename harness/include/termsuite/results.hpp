#pragma once
// Results of a run, as the suite streams them and as the runner writes them.
//
// The suite appends one JSON line per finished test to its results stream (so no result is
// lost if a later test brings the process down); the first line names the platform:
//   {"platform": {...}}
//   {"started": {"name":..}}   (a test began; for the runner's live progress, ignored by the merge)
//   {"test": {"name":..,"claim":..,"backend":..,"outcome":..,"detail":..,"seconds":..,"messages":[..]}}
// The runner merges streams into results/<platform-id>.json, which is stable: sorted, without
// timings, messages or the host it ran on, so the committed file is byte-identical on two
// machines and changes only when behaviour does. Timings, full messages and the host go to the
// JUnit XML in the build tree (and the host to the run's summary).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/outcome.hpp"
#include "termsuite/platform.hpp"
#include "termsuite/preflight.hpp"

namespace termsuite {

struct TestResult {
  std::string name;     // "Suite.Name"
  std::string claim;    // claim id from docs/claims.json
  std::string backend;  // "live" or "sim"
  Outcome outcome = Outcome::fail;
  std::string detail;   // one stable line
  // What the test saw that the documents leave open (e.g. which handlers a path ran, the exit
  // code taskkill /f gives): recorded per platform, asserted by nobody. Sorted; stable.
  std::map<std::string, std::string> observed;
  double seconds = 0;   // not in the stable JSON
  std::vector<std::string> messages;  // full failure text; not in the stable JSON
};

struct RunResults {
  Platform platform;
  std::vector<TestResult> tests;
  // What the preflight did to the run (preflight.hpp): each finding that neutralised a setting or
  // skipped tests, in check order. In the stable file only when there is one, so two clean
  // machines still write the same bytes.
  std::vector<preflight::Finding> preflight{};
};

std::string stream_platform_line(const Platform& p);
std::string stream_test_line(const TestResult& t);
std::string stream_started_line(std::string_view test_name);

// Reads a results stream. Lines that are not valid are reported in `problems`, never thrown.
struct StreamContents {
  std::optional<Platform> platform;
  std::vector<TestResult> tests;
  std::vector<std::string> started;  // tests that began, in order (finished ones too)
  std::vector<std::string> problems;
};
StreamContents parse_stream(std::string_view text, std::string_view origin);

// Sorted by name then backend; no timings, messages or platform host; ends with '\n'.
std::string stable_json(const RunResults& r);
RunResults parse_stable_json(std::string_view text, std::string_view origin);  // throws std::runtime_error
std::string junit_xml(const RunResults& r);  // everything, the platform in full as properties

}  // namespace termsuite
