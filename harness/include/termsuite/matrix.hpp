#pragma once
// The conformance matrix: every claim of the catalog against every platform with a results file
// (results/*.json: the Wine platforms, Windows builds, the POSIX systems, the simulator), as one self-contained
// static HTML page (results/report.html) and as a Markdown table (results/MATRIX.md).
//
// Rows are the claims, grouped by area in catalog order; columns are the platforms sorted by id,
// Windows and Wine first, then the POSIX systems, the simulator last. A cell holds the claim's status on that platform, the worst outcome of its
// tests (pass < xfail < SKIP < INCONCLUSIVE < XPASS < TIMEOUT < FAIL), or "not run" when the platform has no
// result for it, or "n/a" when the platform is not asked the claim (claim_applies: a POSIX claim on
// Windows, a Windows claim on a POSIX system). A "Windows vs POSIX" table follows: each POSIX claim
// beside the Windows claim it contrasts with, and their statuses. The output depends on the inputs alone (no clock, no host, no directory order),
// so the generated files can be committed.
//
// Portable C++20 (no POSIX, no Win32): the Linux runner and the Windows termsuite.exe both use it.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/claims.hpp"
#include "termsuite/explore_report.hpp"
#include "termsuite/expectations.hpp"
#include "termsuite/results.hpp"

namespace termsuite {

class MatrixError : public std::runtime_error {  // one line, naming the file at fault
 public:
  using std::runtime_error::runtime_error;
};

// One column: a platform's results file and the expectations that explain its known deviations.
struct MatrixColumn {
  std::string file;   // the results file's name, e.g. "wine-8.0-x86_64.json"
  std::string date;   // the run's date, when the file records one (a top-level "date" string); the
                      // stable results written by conform record none
  RunResults results;
  Expectations expectations;  // for the reasons of xfail and XPASS tests; empty for the simulator
};

// A claim's status on one platform: the worst outcome of its tests; nullopt when none ran there.
std::optional<Outcome> claim_status(const MatrixColumn& column, std::string_view claim_id);

// The word a status is shown with: "pass", "xfail", "FAIL", "TIMEOUT", "XPASS", "SKIP", "INCONCLUSIVE",
// "not run".
std::string_view status_word(std::optional<Outcome> status);

// Reads every *.json directly in `results_dir` (not its subfolders), and for each the expectations
// of its platform from `expectations_dir` (Expectations::load_for). Columns: Windows and Wine,
// then the POSIX systems, each sorted by platform id, the simulator ("sim") last. Throws
// MatrixError("<file>: <what>") for a file that is not a results file, two files naming one
// platform, or no results file at all; an ExpectationsError of a malformed expectations file
// passes through.
std::vector<MatrixColumn> load_matrix_columns(const std::filesystem::path& results_dir,
                                              const std::filesystem::path& expectations_dir);

// The page and the table, each with the explorer's section when it has runs. Everything taken
// from the files is escaped.
std::string matrix_html(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns,
                        const ExploreSection& explore = {});
std::string matrix_markdown(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns,
                            const ExploreSection& explore = {});

struct MatrixFiles {
  std::filesystem::path html;      // <out_dir>/report.html
  std::filesystem::path markdown;  // <out_dir>/MATRIX.md
};

// Loads the catalog, the columns and the explorer's section (load_explore_section: its commands
// name files relative to `repository`) and writes both files into `out_dir` (created if missing).
// MatrixError when a file cannot be written or an explorer file is malformed; CatalogError /
// ExpectationsError pass through.
MatrixFiles write_matrix(const std::filesystem::path& catalog_file, const std::filesystem::path& results_dir,
                         const std::filesystem::path& expectations_dir, const std::filesystem::path& out_dir,
                         const std::filesystem::path& repository);

// Writes both files of these columns (in this order) into `out_dir` (created if missing): the
// matrix of one run's results that are in no results folder (a partial run's). MatrixError when a
// file cannot be written.
MatrixFiles write_matrix(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns,
                         const std::filesystem::path& out_dir);

}  // namespace termsuite
