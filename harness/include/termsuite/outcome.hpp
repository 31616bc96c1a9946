#pragma once
// A test's outcome on one platform, after its expectations are applied.
#include <optional>
#include <string>
#include <string_view>

namespace termsuite {

enum class Outcome {
  pass,     // behaved as documented
  fail,     // did not, and no expectation says it would not: a regression
  xfail,    // did not, as the platform's expectations file says (a known deviation)
  xpass,    // behaved as documented although a deviation was expected: the baseline is stale
  timeout,  // a wait reached its deadline where the documents promise an event
  skip,     // the test did not run
  // the test ran, but its positive control showed nothing on this platform, so it could not tell
  // whether the platform behaves as documented (its detail says why): neither a pass nor a deviation
  inconclusive,
};

std::string_view to_string(Outcome o);
std::optional<Outcome> parse_outcome(std::string_view s);

// How bad an outcome is, for "the worst outcome decides a claim's status" (the summary, the
// matrix): pass < xfail < skip < inconclusive < xpass < timeout < fail. A claim one of whose tests
// could not tell never shows as pass.
inline int severity(Outcome o) {
  switch (o) {
    case Outcome::pass: return 0;
    case Outcome::xfail: return 1;
    case Outcome::skip: return 2;
    case Outcome::inconclusive: return 3;
    case Outcome::xpass: return 4;
    case Outcome::timeout: return 5;
    case Outcome::fail: return 6;
  }
  return 6;
}

// True for the outcomes a conformance gate accepts.
// A skip is the platform's configuration saying the test cannot run there (its detail says why:
// a Windows Terminal console that ignores WM_CLOSE), never a deviation: those are xfails. An
// inconclusive test is not the platform's deviation either (it did nothing the documents forbid;
// the test could not see whether it does what they promise): accepted, and listed with its reason.
inline bool gate_accepts(Outcome o) {
  return o == Outcome::pass || o == Outcome::xfail || o == Outcome::skip || o == Outcome::inconclusive;
}

// What a test did, before expectations. `inconclusive`: no failure, but the test said its control
// showed nothing (JudgedTest::inconclusive).
enum class Observed { passed, failed, timed_out, skipped, inconclusive };
std::string_view to_string(Observed o);

struct Deviation;  // expectations.hpp

struct Classification {
  Outcome outcome;
  std::string detail;  // why, in one line (stable across runs: no pids, no timings)
};

// Applies a platform's expectation (or none) to what a test did. A deviation whose reason is
// UNTRIAGED (expectations.hpp) does not make a failure known: the test fails, saying so. An
// inconclusive test stays inconclusive whatever its expectation (it neither shows the listed
// deviation nor its absence): `first_failure` is then its reason, and the detail says that a
// deviation is listed.
Classification classify(Observed observed, const Deviation* expected, std::string_view first_failure);

}  // namespace termsuite
