#pragma once
// A platform's known deviations from the documents, each with its reason (like Wine's
// todo_wine). File: results/expectations/<platform-id>.json, or, when that file does not exist,
// the family file shared by several builds: windows-<arch>.json on Windows, wine-<arch>.json under
// Wine ("platform" names the file's platform id or family).
//   {"platform": "wine-8.0-x86_64",
//    "deviations": [{"test": "Suite.Name", "claim": "claim.id", "expect": "fail", "reason": "...",
//                    "when": {"os": "windows", "build": {"min": 22000}}}]}
// "expect" is "fail" or "timeout". A test listed here that passes is an unexpected pass and
// fails the gate, so the file stays true.
//
// "when" (optional) limits an entry to the platforms it describes; every key given must hold:
//   "os":      "windows" (Windows itself) or "wine" (Wine, whatever Windows version it reports)
//   "version": {"min": "10.0.22000", "max": "10.0.26100"}  the Windows version, major.minor.build
//   "build":   {"min": 22000, "max": 26100}                the Windows build number
//   "wine":    {"min": "8.0", "max": "9.0"}                the Wine version (2 or 3 numbers)
//   "arch":    "x86_64", "x86" or "arm64"
// Ranges are inclusive at both ends; "min" or "max" may be left out, not both. An entry whose
// condition does not hold is not a deviation on that platform: the test must pass there. A test
// may be listed more than once; the first entry that applies wins, and an entry that can never
// apply (after an unconditional entry for the same test, or with the same condition as an
// earlier one) is an error.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/outcome.hpp"
#include "termsuite/platform.hpp"

namespace termsuite {

// A dotted version, compared number by number; missing trailing numbers count as 0.
using VersionNumbers = std::array<std::uint32_t, 3>;

template <typename T>
struct Range {  // inclusive; an absent bound is open
  std::optional<T> min, max;
  bool contains(const T& v) const { return (!min || *min <= v) && (!max || v <= *max); }
  bool operator==(const Range&) const = default;
};

struct Condition {
  std::optional<std::string> os;  // "windows" or "wine"
  std::optional<Range<VersionNumbers>> version;
  std::optional<Range<std::uint32_t>> build;
  std::optional<Range<VersionNumbers>> wine;
  std::optional<std::string> arch;

  bool matches(const Platform& p) const;
  bool operator==(const Condition&) const = default;
};

struct Deviation {
  std::string test;
  std::string claim;
  Outcome expect = Outcome::fail;  // fail or timeout
  std::string reason;
  std::optional<Condition> when;  // none: on every platform the file is for
};

// A reason that starts with "UNTRIAGED" (what `termsuite expectations update` writes for a new
// failure) is a placeholder, not a reason: a baseline is a claim about a platform, and a claim needs
// one. The deviation it lists still fails the gate until someone writes the real reason.
inline constexpr std::string_view kUntriaged = "UNTRIAGED";
inline bool is_untriaged(const Deviation& d) { return std::string_view(d.reason).starts_with(kUntriaged); }

class ExpectationsError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The family a platform's builds share a file in: "windows-x86_64", "wine-x86_64"; empty for the
// simulator.
std::string expectations_family(const Platform& p);

class Expectations {
 public:
  // Throws ExpectationsError("<origin>: <what>") on anything malformed: bad JSON, unknown or
  // missing keys, an empty reason, an "expect" other than fail/timeout, a malformed "when", an
  // entry that can never apply, or a "platform" other than `file_platform` (when given).
  // deviations() then holds the unconditional entries; select() chooses for a platform.
  static Expectations parse(std::string_view json_text, std::string_view origin, std::string_view file_platform = {});
  // The file for `platform` in `dir`: <platform-id>.json, else the family file; no file means
  // "no known deviations". The entries that apply to `platform` are selected.
  static Expectations load_for(const std::filesystem::path& dir, const Platform& platform);

  // Keep, of every entry, the first per test whose condition holds on `p`.
  void select(const Platform& p);

  const Deviation* find(std::string_view test) const;
  // The deviations that apply to the selected platform (one per test).
  const std::vector<Deviation>& deviations() const { return deviations_; }
  // Every entry of the file, whatever its condition (to check that each names a test and a claim).
  const std::vector<Deviation>& entries() const { return entries_; }

  // The explorer's findings on this platform that were triaged (docs/explore.md): each by its
  // signature, with the claim it is about and why it is known. A finding listed here does not
  // fail an exploration; one that is not, does.
  struct ExploreFinding {
    std::string signature, claim, reason;
  };
  const std::vector<ExploreFinding>& explore_findings() const { return explore_; }
  const std::string& platform() const { return platform_; }
  const std::string& origin() const { return origin_; }
  bool from_file() const { return from_file_; }

 private:
  std::string platform_;
  std::string origin_;
  bool from_file_ = false;
  std::vector<Deviation> entries_;
  std::vector<Deviation> deviations_;
  std::vector<ExploreFinding> explore_;
};

}  // namespace termsuite
