// The claims catalog (docs/claims.json): every testable statement the suite checks, the source
// sentence it rests on (quoted verbatim from a document the catalog names by title and address),
// how well Windows' behaviour is established (its evidence grade), the public evidence for it, and
// the tests that check it.
//
// Portable C++20 (no Win32): the native runner, the unit tests and the mingw build all use it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/platform.hpp"

namespace termsuite {

// A document the catalog quotes, from its "documents" table.
struct ClaimDocument {
  std::string id;              // what sources cite: "terminating-a-process"
  std::string title;           // the document's own title
  std::string by;              // author and publication, e.g. "Raymond Chen, The Old New Thing, 2004-07-23"; may be empty
  std::string url;             // its address; empty when none is known (the document is cited by title)
  std::string translation_of;  // for a translation, the id of the original; claims quote originals only
};

struct ClaimSource {
  std::string document;  // a ClaimDocument id
  std::string quote;     // verbatim sentence(s) of that document (compared with whitespace collapsed)
};

struct ClaimEvidence {
  std::string ref;   // where: "Wine dlls/kernel32/tests/process.c, test_Toolhelp", "Microsoft docs, ..."
  std::string says;  // what it establishes, in one sentence
};

// How well the claim is established for real Windows (for a POSIX claim: for the system it is asked
// of, by POSIX and the system's own manual pages).
enum class EvidenceGrade {
  documented,        // Microsoft's documentation states it (a POSIX claim: POSIX or the man pages)
  windows_observed,  // the documentation does not (or only in part); the evidence entries name what
                     // shows Windows doing it: Wine/ReactOS tests that pass on Windows, conhost's
                     // source, public measurements
  clones_agree,      // nothing shows Windows doing it, but the other implementations agree: ReactOS's
                     // and Wine's code, a re-implementation's own tests (the .NET PAL's)
  unverified,        // none of these: the suite establishes it
};

// "documented", "windows-observed", "clones-agree", "unverified"
std::string_view to_string(EvidenceGrade grade);
std::optional<EvidenceGrade> parse_evidence_grade(std::string_view text);

struct Claim {
  std::string id, area, statement;
  EvidenceGrade grade = EvidenceGrade::unverified;
  bool sim_only = false;  // only the simulator can show it
  std::vector<ClaimSource> sources;
  std::vector<ClaimEvidence> evidence;
  std::vector<std::string> tests;  // GoogleTest names, "Suite.Name"
  // A POSIX claim (area "posix") names the Windows claim it is the counterpart of, and says in one
  // or two sentences what the pair shows to differ between the two systems; empty for the others.
  std::string contrasts;
  std::string difference;
};

// Whether a platform is asked a claim: the POSIX claims (area "posix") are asked of POSIX systems
// (a platform whose os is neither "windows", as Wine's is too, nor "sim"), every other claim of
// Windows, Wine and the simulator.
bool is_posix_claim(const Claim& c);
bool is_posix_platform(const Platform& p);
bool claim_applies(const Claim& c, const Platform& p);

class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ClaimsCatalog {
 public:
  // Throws CatalogError("<origin>: <what is wrong>") on malformed JSON, a missing/mistyped field, a
  // duplicate id, a missing or unknown grade, an empty sources list, a source citing a document the
  // table lacks or a translation, or a test listed under two claims. One line, no stack trace.
  static ClaimsCatalog parse(std::string_view json_text, std::string_view origin);
  static ClaimsCatalog load(const std::filesystem::path& file);  // CatalogError if unreadable

  const Claim* find(std::string_view id) const;                  // nullptr if unknown
  const Claim* claim_of_test(std::string_view test_name) const;  // by the tests lists
  const std::vector<Claim>& claims() const;

  const ClaimDocument* find_document(std::string_view id) const;  // nullptr if unknown
  const std::vector<ClaimDocument>& documents() const;

 private:
  std::vector<ClaimDocument> documents_;
  std::vector<Claim> claims_;
};

// ---- the quotes against the documents' texts -----------------------------------------------------

// Every run of whitespace becomes one space; leading and trailing whitespace is dropped.
std::string collapse_whitespace(std::string_view text);

// The folders of the documents' texts to check the quotes against: those `from_environment` (the
// value of TERMSUITE_SOURCES_DIR, folders separated by ':') names when it is set and not empty,
// whether or not they exist (asked for, so checked); otherwise each of `fallbacks` that is a folder;
// none when there is none (the check is skipped).
std::vector<std::filesystem::path> quote_sources_dirs(const char* from_environment,
                                                     const std::vector<std::filesystem::path>& fallbacks);

// Checks every quote against folders holding one text file per document (any name; README* files,
// which describe a folder, are not read). A quote must appear verbatim (both sides
// whitespace-collapsed) in some file; all the quotes citing one document must appear in one and the
// same file; and no two documents may need the same file. One line per problem (a folder that
// cannot be read or holds no text, a quote found nowhere, a document whose quotes are spread over
// several files, documents that can only be matched to one file between them). Empty when every
// quote checks out. With `without_text`, a document none of whose quotes is in any file (the folders
// do not hold its text) is no problem: its id is appended there, and the others are checked. A
// file named `<document-id>.txt` is that document's text: its quotes are always checked.
std::vector<std::string> check_quotes(const ClaimsCatalog& catalog, const std::vector<std::filesystem::path>& sources_dirs,
                                      std::vector<std::string>* without_text = nullptr);
std::vector<std::string> check_quotes(const ClaimsCatalog& catalog, const std::filesystem::path& sources_dir,
                                      std::vector<std::string>* without_text = nullptr);

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
