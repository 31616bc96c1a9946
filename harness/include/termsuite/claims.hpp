// The claims catalog (docs/claims.json): every testable statement the suite checks, the seed
// sentence it rests on, the public evidence for it, and the tests that check it.
//
// Portable C++20 (no Win32): the native runner, the unit tests and the mingw build all use it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace termsuite {

struct ClaimSource {
  std::string seed;   // file name in the seeds folder, e.g. "002_151349d1803b6bad.txt"
  std::string quote;  // verbatim sentence(s) of that file (compared with whitespace collapsed)
};

struct ClaimEvidence {
  std::string ref;   // where: "Wine dlls/kernel32/tests/process.c, test_Toolhelp", "Microsoft docs, ..."
  std::string says;  // what it establishes, in one sentence
};

struct Claim {
  std::string id, area, statement;
  bool sim_only = false;  // only the simulator can show it
  std::vector<ClaimSource> sources;
  std::vector<ClaimEvidence> evidence;
  std::vector<std::string> tests;  // GoogleTest names, "Suite.Name"
};

class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ClaimsCatalog {
 public:
  // Throws CatalogError("<origin>: <what is wrong>") on malformed JSON, a missing/mistyped field, a
  // duplicate id, an empty sources list, or a test listed under two claims. One line, no stack trace.
  static ClaimsCatalog parse(std::string_view json_text, std::string_view origin);
  static ClaimsCatalog load(const std::filesystem::path& file);  // CatalogError if unreadable

  const Claim* find(std::string_view id) const;                  // nullptr if unknown
  const Claim* claim_of_test(std::string_view test_name) const;  // by the tests lists
  const std::vector<Claim>& claims() const;

 private:
  std::vector<Claim> claims_;
};

// ---- seed quotes ------------------------------------------------------------------------------

// Every run of whitespace becomes one space; leading and trailing whitespace is dropped.
std::string collapse_whitespace(std::string_view text);

// One line per problem: a seed file missing or unreadable, or a quote that is not a verbatim
// substring of its seed (both sides whitespace-collapsed). Empty when every quote checks out.
std::vector<std::string> check_quotes(const ClaimsCatalog& catalog,
                                      const std::filesystem::path& seeds_dir);

// ---- the suite's sources ----------------------------------------------------------------------

// A GoogleTest test found in the suite's sources: `TEST_F(Suite, Name) { claim("an.id"); ... }`
// (plain `TEST(Suite, Name)` is found too).
struct SuiteTestRef {
  std::string test_name;   // "Suite.Name"
  std::string claim_id;    // the first claim("...") of the body; empty if it names none
  std::size_t claim_count = 0;          // how many claim("...") calls the body makes
  bool claim_is_first_statement = false;  // the convention: the body opens with claim("...");
  std::filesystem::path file;
  std::size_t line = 0;  // of the TEST_F / TEST macro, 1-based
};

// Scans one source text. Comments and string literals cannot fake a test or a claim.
std::vector<SuiteTestRef> scan_suite_source(std::string_view source,
                                            const std::filesystem::path& file);

// Scans every *.cpp below `dir` (recursively, in path order). CatalogError if `dir` is not a folder
// or a file cannot be read.
std::vector<SuiteTestRef> scan_suite_sources(const std::filesystem::path& dir);

// One line per disagreement between the sources and the catalog: a test naming no claim, several
// claims, or an unknown claim; a claim() that is not the body's first statement; a test the
// catalog lists under another claim or not at all; a catalog test with no source; a test defined
// twice. Empty when they agree.
std::vector<std::string> check_suite_against_catalog(const ClaimsCatalog& catalog,
                                                     const std::vector<SuiteTestRef>& tests);

}  // namespace termsuite
