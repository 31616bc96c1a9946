#pragma once
// termsuite compare OLD NEW: what changed between two results files (or two folders of them,
// matched by file name, i.e. by platform id).
//
// For each test (by name and backend):
//   regression  NEW fails or times out where OLD did not (OLD passed, was a known deviation, was
//               skipped, or did not have the test): the platform got worse, or a new test fails.
//   fix         OLD failed, timed out or was a known deviation, NEW passes (or passes although a
//               deviation is listed, XPASS: the platform got better and its expectations are stale).
//   new         in NEW only and not failing; removed: in OLD only.
//   changed     anything else that differs: the outcome (pass -> xpass, fail -> timeout,
//               fail -> xfail once a deviation is listed, -> skip, pass -> inconclusive: the test's
//               control showed nothing this time, which is no regression), the detail, an observed
//               value.
// A change of the expectations alone (pass -> xpass, fail -> xfail) is no regression: the platform
// did the same thing. Exit code: 1 if anything regressed, else 0; bad input (a missing or
// malformed file, a file against a folder) is exit 2 with one line on stderr.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "termsuite/results.hpp"

namespace termsuite::runner {

enum class ChangeKind { regression, fix, added, removed, changed };

struct FieldChange {
  std::string what;  // "outcome", "detail", "observed.<key>"
  std::string was, now;
};

struct TestChange {
  ChangeKind kind = ChangeKind::changed;
  std::string name, claim;
  std::optional<Outcome> was, now;  // absent: the test is not in that file
  std::string detail;               // the detail that explains the change (NEW's, or OLD's for a fix)
  std::vector<FieldChange> fields;  // what differs, for tests in both files
};

struct PlatformComparison {
  std::string label;                         // the file name (or path) compared
  std::string old_platform, new_platform;    // ids; empty where the file is missing from a folder
  std::size_t old_tests = 0, new_tests = 0;
  std::vector<TestChange> changes;           // in ChangeKind order, then by test name
  std::size_t count(ChangeKind k) const;
};

PlatformComparison compare_runs(const RunResults& old_run, const RunResults& new_run);
bool any_regression(const std::vector<PlatformComparison>& c);
std::string render_text(const std::vector<PlatformComparison>& c);
std::string render_markdown(const std::vector<PlatformComparison>& c);

// Reads OLD and NEW (two files or two folders); throws std::runtime_error on bad input.
std::vector<PlatformComparison> compare_paths(const std::filesystem::path& old_path,
                                              const std::filesystem::path& new_path);

struct CompareOptions {
  std::filesystem::path old_path, new_path;
  bool markdown = false;
};
int compare_command(const CompareOptions& o);  // prints the report; 0, 1, or throws (exit 2)

}  // namespace termsuite::runner
