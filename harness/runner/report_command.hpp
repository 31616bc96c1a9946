#pragma once
// `termsuite report`: the conformance matrix of every results file (results/report.html and
// results/MATRIX.md; see termsuite/matrix.hpp), with the explorer's findings when results/explore/
// has any (termsuite/explore_report.hpp). Portable: the Linux runner and termsuite.exe.
#include <filesystem>

namespace termsuite::runner {

struct ReportOptions {
  std::filesystem::path catalog;       // docs/claims.json
  std::filesystem::path results_dir;   // the results/*.json to report
  std::filesystem::path expectations_dir;
  std::filesystem::path out_dir;       // where report.html and MATRIX.md go; empty: results_dir
  std::filesystem::path repository;    // the source tree: the explorer's replay commands name files from it
};

// Writes both files and names them on stdout. Returns 0; throws (exit 2, one line) on a malformed
// results, explorer results, expectations or catalog file, naming it.
int report(const ReportOptions& o);

}  // namespace termsuite::runner
