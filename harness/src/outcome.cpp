#include "termsuite/outcome.hpp"

#include <fmt/format.h>

#include "termsuite/expectations.hpp"

namespace termsuite {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::xfail: return "xfail";
    case Outcome::xpass: return "xpass";
    case Outcome::timeout: return "timeout";
    case Outcome::skip: return "skip";
    case Outcome::inconclusive: return "inconclusive";
  }
  return "?";
}

std::optional<Outcome> parse_outcome(std::string_view s) {
  for (auto o : {Outcome::pass, Outcome::fail, Outcome::xfail, Outcome::xpass, Outcome::timeout, Outcome::skip,
                 Outcome::inconclusive})
    if (to_string(o) == s) return o;
  return std::nullopt;
}

std::string_view to_string(Observed o) {
  switch (o) {
    case Observed::passed: return "passed";
    case Observed::failed: return "failed";
    case Observed::timed_out: return "timed out";
    case Observed::skipped: return "skipped";
    case Observed::inconclusive: return "was inconclusive";
  }
  return "?";
}

Classification classify(Observed observed, const Deviation* expected, std::string_view first_failure) {
  std::string failure = first_failure.empty() ? std::string("no failure message") : std::string(first_failure);
  if (observed == Observed::skipped) return {Outcome::skip, "the test did not run"};
  if (observed == Observed::inconclusive) {
    std::string why = first_failure.empty() ? std::string("its control showed nothing") : std::string(first_failure);
    if (!expected) return {Outcome::inconclusive, why};
    return {Outcome::inconclusive,
            fmt::format("{} (the expectations list a known '{}' here, which this run could neither show nor rule out: {})",
                        why, to_string(expected->expect), expected->reason)};
  }
  if (!expected) {
    switch (observed) {
      case Observed::passed: return {Outcome::pass, ""};
      case Observed::timed_out: return {Outcome::timeout, failure};
      default: return {Outcome::fail, failure};
    }
  }
  if (observed == Observed::passed)
    return {Outcome::xpass, fmt::format("unexpected pass: the expectations say '{}' ({})", to_string(expected->expect),
                                        expected->reason)};
  Outcome actual = observed == Observed::timed_out ? Outcome::timeout : Outcome::fail;
  if (actual == expected->expect) {
    if (is_untriaged(*expected))
      return {actual, fmt::format("untriaged deviation: the expectations list it without a reason yet ('{}'): "
                                  "write one, or fix the platform", expected->reason)};
    return {Outcome::xfail, expected->reason};
  }
  return {actual, fmt::format("expected a known '{}' but the test {}: {}", to_string(expected->expect),
                              to_string(observed), failure)};
}

}  // namespace termsuite
