// The claims catalog check: docs/claims.json loads, cites its documents by title and address,
// grades every claim's evidence, quotes its documents verbatim (where their texts are at hand), and
// agrees with the tests written in suite/. The catalog is its own authority: nothing outside the
// repository is needed, and the quote check is skipped, saying so, when no folder of the documents'
// texts is given.
#include "test_platforms.hpp"
#include "termsuite/claims.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#ifndef TERMSUITE_CLAIMS_CATALOG
#error "TERMSUITE_CLAIMS_CATALOG (path of docs/claims.json) must be defined"
#endif
#ifndef TERMSUITE_SOURCES_DIR
#error "TERMSUITE_SOURCES_DIR (where the documents' texts may be, for the quote check) must be defined"
#endif
#ifndef TERMSUITE_SUITE_DIR
#error "TERMSUITE_SUITE_DIR (the repository's suite/ folder) must be defined"
#endif

namespace fs = std::filesystem;
using termsuite::CatalogError;
using termsuite::ClaimsCatalog;
using termsuite::EvidenceGrade;
using termsuite::SuiteTestRef;

namespace {

// The documents table of the small catalogs below: an original, a translation of it, and a
// document with no known address.
constexpr std::string_view kDocuments = R"("documents": [
  {"id": "doc-a", "title": "Document A", "url": "https://example.org/a"},
  {"id": "doc-a-de", "title": "Dokument A", "url": "https://example.org/de/a", "translation_of": "doc-a"},
  {"id": "doc-b", "title": "Document B", "by": "someone", "url": null}
])";

// A catalog (version 2, the documents above) around the given claim objects.
std::string catalog_of(const std::string& claim_objects) {
  return R"({"version": 2, )" + std::string(kDocuments) + R"(, "claims": [)" + claim_objects + "]}";
}

// One claim object citing doc-a, with the given tests; `extra` is spliced into it.
std::string claim_object(std::string_view id, std::string_view tests = "", std::string_view extra = "") {
  const std::string area(id.substr(0, id.find('.')));
  return R"({"id": ")" + std::string(id) + R"(", "area": ")" + area +
         R"(", "statement": "s", "grade": "documented", "sim_only": false, )" +
         R"("sources": [{"document": "doc-a", "quote": "q"}], "evidence": [], "tests": [)" + std::string(tests) + "]" +
         std::string(extra) + "}";
}

// A catalog with one claim, the given tests and fields.
std::string one_claim(std::string_view id, std::string_view tests = "", std::string_view extra = "") {
  return catalog_of(claim_object(id, tests, extra));
}

// `text` with its one occurrence of `from` replaced by `to`.
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no \"" << from << "\" in " << text;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "\"" << from << "\" twice in " << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Parses `json` expecting rejection; returns the message.
std::string rejection(std::string_view json, std::string_view origin = "inline.json") {
  try {
    ClaimsCatalog::parse(json, origin);
  } catch (const CatalogError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << json;
  return {};
}

void expect_one_line_naming(const std::string& message, std::string_view origin, std::string_view about) {
  EXPECT_EQ(message.rfind(std::string(origin) + ": ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find(about), std::string::npos) << "expected \"" << about << "\" in: " << message;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "\n  " + line;
  return out;
}

bool contains(const std::vector<std::string>& lines, std::string_view needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// A scratch folder below the system temp folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("termsuite-claims-" + std::to_string(stamp) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  void write(const fs::path& relative, std::string_view text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

}  // namespace

// ---- the loader ---------------------------------------------------------------------------------

TEST(ClaimsLoader, AcceptsAWellFormedCatalog) {
  const auto catalog = ClaimsCatalog::parse(one_claim("exit.code.x", R"("ExitCode.A", "ExitCode.B")"), "ok.json");
  ASSERT_EQ(catalog.claims().size(), 1u);
  const auto* claim = catalog.find("exit.code.x");
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->area, "exit");
  EXPECT_EQ(claim->grade, EvidenceGrade::documented);
  EXPECT_EQ(claim->sources.at(0).document, "doc-a");
  EXPECT_EQ(catalog.claim_of_test("ExitCode.B"), claim);
  EXPECT_EQ(catalog.claim_of_test("ExitCode.C"), nullptr);
  EXPECT_EQ(catalog.find("exit.code.y"), nullptr);

  ASSERT_EQ(catalog.documents().size(), 3u);
  const auto* a = catalog.find_document("doc-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->title, "Document A");
  EXPECT_EQ(a->url, "https://example.org/a");
  EXPECT_TRUE(a->translation_of.empty());
  EXPECT_EQ(catalog.find_document("doc-a-de")->translation_of, "doc-a");
  const auto* b = catalog.find_document("doc-b");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->url.empty()) << "url null: cited by title only";
  EXPECT_EQ(b->by, "someone");
  EXPECT_EQ(catalog.find_document("doc-c"), nullptr);
}

TEST(ClaimsLoader, RejectsMalformedJson) {
  expect_one_line_naming(rejection(R"({"version": 2, "claims": [)", "broken.json"), "broken.json", "invalid JSON");
  expect_one_line_naming(rejection("", "empty.json"), "empty.json", "invalid JSON");
  expect_one_line_naming(rejection("[]"), "inline.json", "must be an object");
  // The first format named a local file per source and had no grades: it is told apart by its version.
  expect_one_line_naming(rejection(replaced(one_claim("exit.code.x"), R"("version": 2)", R"("version": 1)")),
                         "inline.json", "\"version\" must be 2");
}

TEST(ClaimsLoader, RejectsAMissingId) {
  const std::string json = replaced(one_claim("exit.code.x"), R"("id": "exit.code.x", )", "");
  expect_one_line_naming(rejection(json, "noid.json"), "noid.json", "\"id\" is missing");
}

TEST(ClaimsLoader, RejectsMistypedAndMissingFields) {
  expect_one_line_naming(rejection(replaced(one_claim("exit.code.x"), "\"sim_only\": false", "\"sim_only\": \"no\"")),
                         "inline.json", "\"sim_only\" must be true or false");
  expect_one_line_naming(rejection(replaced(one_claim("exit.code.x"), "\"tests\": []", "\"tets\": []")),
                         "inline.json", "\"tests\" is missing");
  expect_one_line_naming(rejection(replaced(one_claim("exit.code.x"), "\"area\": \"exit\"", "\"area\": \"exits\"")),
                         "inline.json", "first component");
  expect_one_line_naming(rejection(one_claim("exit.code.x", R"("NoDot")")), "inline.json", "Suite.Name");
}

TEST(ClaimsLoader, RejectsAMissingOrUnknownGrade) {
  const std::string good = one_claim("exit.code.x");
  for (const std::string_view grade : {"documented", "windows-observed", "clones-agree", "unverified"}) {
    const auto catalog =
        ClaimsCatalog::parse(replaced(good, "\"documented\"", "\"" + std::string(grade) + "\""), "grade.json");
    EXPECT_EQ(termsuite::to_string(catalog.claims().at(0).grade), grade);
    EXPECT_EQ(termsuite::parse_evidence_grade(grade), catalog.claims().at(0).grade);
  }
  EXPECT_EQ(termsuite::parse_evidence_grade("Documented"), std::nullopt);

  expect_one_line_naming(rejection(replaced(good, R"("grade": "documented", )", "")), "inline.json",
                         "\"grade\" is missing");
  for (const std::string_view bad : {R"("observed")", R"("")", R"("Documented")", "1", "null", R"(["documented"])"}) {
    const std::string message = rejection(replaced(good, R"("documented")", bad));
    expect_one_line_naming(message, "inline.json",
                           "\"grade\" must be \"documented\", \"windows-observed\", \"clones-agree\" or \"unverified\"");
    EXPECT_NE(message.find("exit.code.x"), std::string::npos) << message;
  }
}

TEST(ClaimsLoader, RejectsAnEmptySourcesList) {
  const std::string json =
      replaced(one_claim("exit.code.x"), R"("sources": [{"document": "doc-a", "quote": "q"}])", R"("sources": [])");
  expect_one_line_naming(rejection(json), "inline.json", "\"sources\" is empty");
}

TEST(ClaimsLoader, SourcesCiteTheDocumentsTable) {
  const std::string good = one_claim("exit.code.x");
  expect_one_line_naming(rejection(replaced(good, R"("document": "doc-a")", R"("document": "doc-c")")), "inline.json",
                         "document \"doc-c\" is not in the \"documents\" table");
  // A local file name is no citation.
  expect_one_line_naming(rejection(replaced(good, R"("document": "doc-a")", R"("seed": "002.txt")")), "inline.json",
                         "\"document\" is missing");
  // Claims quote the original, never a translation of it.
  expect_one_line_naming(rejection(replaced(good, R"("document": "doc-a")", R"("document": "doc-a-de")")),
                         "inline.json", "is a translation of \"doc-a\"; quote the original");
  EXPECT_NO_THROW(ClaimsCatalog::parse(replaced(good, R"("document": "doc-a")", R"("document": "doc-b")"), "b.json"));
}

TEST(ClaimsLoader, RejectsAMalformedDocumentsTable) {
  const std::string good = one_claim("exit.code.x");
  expect_one_line_naming(rejection(replaced(good, std::string(kDocuments) + ", ", "")), "inline.json",
                         "\"documents\" is missing");
  expect_one_line_naming(rejection(replaced(good, R"("id": "doc-b")", R"("id": "doc-a")")), "inline.json",
                         "duplicate id (also documents[0])");
  expect_one_line_naming(rejection(replaced(good, R"("id": "doc-b")", R"("id": "Doc B")")), "inline.json",
                         "lowercase words of [a-z0-9] joined by dashes");
  expect_one_line_naming(rejection(replaced(good, R"("title": "Document B", )", "")), "inline.json",
                         "\"title\" is missing");
  expect_one_line_naming(rejection(replaced(good, R"(, "url": null)", "")), "inline.json", "\"url\" is missing");
  for (const std::string_view bad : {R"("terminating-a-process.txt")", R"("example.org/b")", R"("https://")",
                                     R"("https://example.org/a b")", "7"}) {
    expect_one_line_naming(rejection(replaced(good, R"("url": null)", R"("url": )" + std::string(bad))), "inline.json",
                           "\"url\" must be an http(s) address, or null");
  }
  expect_one_line_naming(rejection(replaced(good, R"("translation_of": "doc-a")", R"("translation_of": "doc-z")")),
                         "inline.json", "\"translation_of\" must name another document");
  expect_one_line_naming(rejection(replaced(good, R"("translation_of": "doc-a")", R"("translation_of": "doc-a-de")")),
                         "inline.json", "\"translation_of\" must name another document");
}

TEST(ClaimsLoader, RejectsADuplicateId) {
  const std::string object = claim_object("exit.code.x");
  expect_one_line_naming(rejection(catalog_of(object + ", " + object), "dup.json"), "dup.json", "duplicate id");
}

TEST(ClaimsLoader, RejectsATestUnderTwoClaims) {
  const std::string json = catalog_of(claim_object("exit.code.a", R"("ExitCode.Shared")") + ", " +
                                      claim_object("exit.code.b", R"("ExitCode.Shared")"));
  const std::string message = rejection(json, "twice.json");
  expect_one_line_naming(message, "twice.json", "under two claims");
  EXPECT_NE(message.find("exit.code.a"), std::string::npos) << message;
  EXPECT_NE(message.find("exit.code.b"), std::string::npos) << message;

  expect_one_line_naming(rejection(one_claim("exit.code.a", R"("ExitCode.A", "ExitCode.A")")), "inline.json",
                         "listed twice");
}

TEST(ClaimsLoader, APosixClaimNamesTheWindowsClaimItContrastsWith) {
  const auto windows = claim_object("ctrl.new-thread", R"("Ctrl.NewThread")");
  const auto paired = catalog_of(windows + ", " + claim_object("posix.interrupts", R"("Posix.Interrupts")",
                                                               R"(, "contrasts": "ctrl.new-thread", "difference": "a new thread, or a borrowed one")"));
  auto catalog = termsuite::ClaimsCatalog::parse(paired, "paired.json");
  ASSERT_NE(catalog.find("posix.interrupts"), nullptr);
  EXPECT_EQ(catalog.find("posix.interrupts")->contrasts, "ctrl.new-thread");
  EXPECT_EQ(catalog.find("posix.interrupts")->difference, "a new thread, or a borrowed one");
  EXPECT_EQ(catalog.find("ctrl.new-thread")->contrasts, "");

  // A pair says what it shows to differ; only a pair does.
  expect_one_line_naming(rejection(catalog_of(windows + ", " + claim_object("posix.interrupts", R"("Posix.Interrupts")",
                                                                            R"(, "contrasts": "ctrl.new-thread")"))),
                         "inline.json", "\"difference\" is missing");
  expect_one_line_naming(rejection(catalog_of(windows + ", " + claim_object("posix.interrupts", R"("Posix.Interrupts")",
                                                                            R"(, "contrasts": "ctrl.new-thread", "difference": " ")"))),
                         "inline.json", "\"difference\" is empty");
  expect_one_line_naming(rejection(one_claim("ctrl.new-thread", "", R"(, "difference": "d")")), "inline.json",
                         "only a POSIX claim that \"contrasts\"");

  expect_one_line_naming(rejection(catalog_of(windows + ", " + claim_object("posix.interrupts", R"("Posix.Interrupts")"))),
                         "inline.json", "must name the Windows claim it \"contrasts\" with");
  expect_one_line_naming(rejection(catalog_of(windows + ", " + claim_object("posix.interrupts", R"("Posix.Interrupts")",
                                                                            R"(, "contrasts": "ctrl.no-such", "difference": "d")"))),
                         "inline.json", "must name a Windows claim of the catalog");
  expect_one_line_naming(rejection(catalog_of(claim_object("posix.a", R"("Posix.A")", R"(, "contrasts": "posix.b", "difference": "d")") + ", " +
                                              claim_object("posix.b", R"("Posix.B")", R"(, "contrasts": "posix.a", "difference": "d")"))),
                         "inline.json", "must name a Windows claim of the catalog");
  expect_one_line_naming(rejection(one_claim("ctrl.new-thread", "", R"(, "contrasts": "ctrl.other")")), "inline.json",
                         "only a POSIX claim");
}

TEST(ClaimsLoader, PosixClaimsAreAskedOfPosixSystemsAndTheOthersOfWindows) {
  termsuite::Claim posix_claim, windows_claim;
  posix_claim.area = "posix";
  windows_claim.area = "ctrl";
  const auto linux_platform = termsuite::linux_platform();
  const auto wine_platform = termsuite::wine_platform();
  const auto sim_platform = termsuite::sim_platform();
  EXPECT_TRUE(termsuite::claim_applies(posix_claim, linux_platform));
  EXPECT_FALSE(termsuite::claim_applies(posix_claim, wine_platform));
  EXPECT_FALSE(termsuite::claim_applies(posix_claim, sim_platform));
  EXPECT_FALSE(termsuite::claim_applies(windows_claim, linux_platform));
  EXPECT_TRUE(termsuite::claim_applies(windows_claim, wine_platform));
  EXPECT_TRUE(termsuite::claim_applies(windows_claim, sim_platform));
}

TEST(ClaimsLoader, LoadNamesAnUnreadableFile) {
  const fs::path missing = fs::temp_directory_path() / "termsuite-no-such-catalog.json";
  try {
    ClaimsCatalog::load(missing);
    FAIL() << "loaded a missing file";
  } catch (const CatalogError& e) {
    expect_one_line_naming(e.what(), missing.string(), "cannot be read");
  }
}

// ---- the quote check ------------------------------------------------------------------------------

// Two documents' texts, under names that say nothing of which document each is.
void write_two_documents(const TempDir& dir) {
  dir.write("first.txt", "Terminating a process has\n the following   results:\n- Any remaining threads.");
  dir.write("second.md", "# Remote\n\nThe taskkill program implements\nthe canonical way of killing a process.");
  dir.write("README.md", "first.txt is Document A (Terminating a process has the following results:), second.md B.");
}

// A catalog whose claims quote the given (document, quote) pairs, one claim per pair.
ClaimsCatalog quoting(const std::vector<std::pair<std::string, std::string>>& quotes) {
  std::string objects;
  int n = 0;
  for (const auto& [document, quote] : quotes) {
    std::string object = claim_object("exit.q" + std::to_string(n++));
    object = replaced(object, R"("document": "doc-a", "quote": "q")",
                      R"("document": ")" + document + R"(", "quote": ")" + quote + "\"");
    objects += (objects.empty() ? "" : ", ") + object;
  }
  return ClaimsCatalog::parse(catalog_of(objects), "quotes.json");
}

TEST(QuoteCheck, AcceptsVerbatimQuotesWhateverTheWhitespace) {
  TempDir dir;
  write_two_documents(dir);
  const auto catalog = quoting({{"doc-a", "has the following results:\\n- Any"},  // whitespace differs, words do not
                                {"doc-a", "Terminating a process"},
                                {"doc-b", "The taskkill program implements the canonical way"}});
  const auto problems = termsuite::check_quotes(catalog, dir.path());
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(QuoteCheck, CatchesAnEditedQuote) {
  TempDir dir;
  write_two_documents(dir);
  const auto problems = termsuite::check_quotes(
      quoting({{"doc-a", "Terminating a process"}, {"doc-a", "has the following result:"}}), dir.path());
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("exit.q1: quote from \"Document A\" is in no file of"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("has the following result:"), std::string::npos) << problems[0];
}

TEST(QuoteCheck, CatchesAQuoteCitedToTheWrongDocument) {
  TempDir dir;
  write_two_documents(dir);
  // Document A's quotes are in first.txt, except one that is really Document B's.
  auto problems = termsuite::check_quotes(quoting({{"doc-a", "Terminating a process has"},
                                                   {"doc-a", "the following results:"},
                                                   {"doc-a", "the canonical way of killing"},
                                                   {"doc-b", "The taskkill program"}}),
                                          dir.path());
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("document \"Document A\" (doc-a): its quotes are not all in one file: 2 of 3 are in "
                             "first.txt, but exit.q2's \"the canonical way of killing\" is only in second.md"),
            std::string::npos)
      << problems[0];

  // A document whose only quote is another document's: both would need the same file.
  problems = termsuite::check_quotes(
      quoting({{"doc-a", "Terminating a process has"}, {"doc-b", "the following results:"}}), dir.path());
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("cannot each have a file of their own"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("doc-a only in first.txt; doc-b only in first.txt"), std::string::npos) << problems[0];
}

TEST(QuoteCheck, ReadsNoReadmeAndNeedsAFolderOfTexts) {
  TempDir dir;
  write_two_documents(dir);
  // The README mentions a quote of Document A, but it is none of the documents.
  auto problems = termsuite::check_quotes(quoting({{"doc-b", "is Document A"}}), dir.path());
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("is in no file of"), std::string::npos) << problems[0];

  const auto catalog = quoting({{"doc-a", "Terminating a process"}});
  problems = termsuite::check_quotes(catalog, dir.path() / "nowhere");
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("not a folder"), std::string::npos) << problems[0];

  TempDir empty;
  empty.write("README", "nothing but a description");
  problems = termsuite::check_quotes(catalog, empty.path());
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("holds no text file of the documents"), std::string::npos) << problems[0];
}

TEST(QuoteCheck, FindsTheFoldersFromTheEnvironmentOrTheFallbacks) {
  TempDir dir;
  const fs::path missing = dir.path() / "missing";
  using Dirs = std::vector<fs::path>;
  // Asked for by the environment: checked, even where nothing is (so a typo fails loudly).
  EXPECT_EQ(termsuite::quote_sources_dirs(missing.string().c_str(), {dir.path()}), Dirs{missing});
  EXPECT_EQ(termsuite::quote_sources_dirs(dir.path().string().c_str(), {missing}), Dirs{dir.path()});
  EXPECT_EQ(termsuite::quote_sources_dirs((dir.path().string() + ":" + missing.string()).c_str(), {}),
            (Dirs{dir.path(), missing}));
  // Not asked for: each fallback that is a folder, else nothing (the check is skipped).
  EXPECT_EQ(termsuite::quote_sources_dirs(nullptr, {dir.path()}), Dirs{dir.path()});
  EXPECT_EQ(termsuite::quote_sources_dirs("", {missing, dir.path()}), Dirs{dir.path()});
  EXPECT_EQ(termsuite::quote_sources_dirs(nullptr, {missing}), Dirs{});
  EXPECT_EQ(termsuite::quote_sources_dirs("", {fs::path()}), Dirs{});
}

TEST(QuoteCheck, ReadsSeveralFoldersAndAFileNamedAfterItsDocumentIsItsText) {
  TempDir first, second;
  first.write("a.txt", "Terminating a process has the following results:");
  second.write("doc-b.txt", "Document B says something else entirely.");
  // The two folders' texts are pooled: each document finds its own file.
  std::vector<std::string> without_text;
  auto problems = termsuite::check_quotes(
      quoting({{"doc-a", "Terminating a process"}, {"doc-b", "says something else"}}), {first.path(), second.path()},
      &without_text);
  EXPECT_TRUE(problems.empty()) << join(problems);
  EXPECT_TRUE(without_text.empty());
  // doc-b's only quote is altered: its file is named after it, so this is a problem, not a document
  // without a text.
  problems = termsuite::check_quotes(quoting({{"doc-a", "Terminating a process"}, {"doc-b", "says nothing else"}}),
                                     {first.path(), second.path()}, &without_text);
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("says nothing else"), std::string::npos) << problems[0];
  EXPECT_TRUE(without_text.empty());
}

// ---- the real catalog ---------------------------------------------------------------------------

TEST(ClaimsCatalogFile, LoadsWithEveryClaimGradedAndEveryDocumentCited) {
  const auto catalog = ClaimsCatalog::load(TERMSUITE_CLAIMS_CATALOG);
  EXPECT_FALSE(catalog.claims().empty());
  for (const auto& document : catalog.documents()) {
    // A document is cited by its title and address, never by a local file.
    EXPECT_EQ(document.title.find(".txt"), std::string::npos) << document.id;
    const bool cited = std::any_of(catalog.claims().begin(), catalog.claims().end(), [&](const auto& claim) {
      return std::any_of(claim.sources.begin(), claim.sources.end(),
                         [&](const auto& source) { return source.document == document.id; });
    });
    EXPECT_TRUE(cited || !document.translation_of.empty()) << document.id << " is listed but never quoted";
  }
  for (const auto& claim : catalog.claims()) {
    // What only the simulator can show has only simulator-only tests, and the reverse.
    for (const auto& test : claim.tests)
      EXPECT_EQ(test.rfind("SimOnly.", 0) == 0, claim.sim_only) << claim.id << ": " << test;
    if (claim.grade == EvidenceGrade::windows_observed || claim.grade == EvidenceGrade::clones_agree) {
      EXPECT_FALSE(claim.evidence.empty()) << claim.id << " is " << termsuite::to_string(claim.grade)
                                           << " but names no evidence";
    }
  }
}

TEST(ClaimsCatalogFile, NoClaimQuotesATranslation) {
  // Localised documentation exists (so localised tool output does too); the catalog quotes the
  // English originals. A localised Microsoft Learn page is listed only as a translation, which the
  // loader refuses as a source.
  const auto catalog = ClaimsCatalog::load(TERMSUITE_CLAIMS_CATALOG);
  const auto localised = [](const std::string& url) {  // https://learn.microsoft.com/<xx-yy>/..., not en-us
    const std::string_view learn = "https://learn.microsoft.com/";
    if (url.rfind(learn, 0) != 0) return false;
    const std::string locale = url.substr(learn.size(), url.find('/', learn.size()) - learn.size());
    const bool is_locale = locale.size() >= 5 && locale[2] == '-' &&
                           std::all_of(locale.begin(), locale.end(), [](unsigned char c) { return c == '-' || std::islower(c) != 0; });
    return is_locale && locale != "en-us";
  };
  bool any_translation = false;
  for (const auto& document : catalog.documents()) {
    if (!document.translation_of.empty()) any_translation = true;
    if (localised(document.url)) {
      EXPECT_FALSE(document.translation_of.empty()) << document.id << " (" << document.url
                                                   << ") is localised: list it as a translation of its original";
    }
  }
  EXPECT_TRUE(any_translation) << "the German translation of Terminating a Process is listed as a translation";
  for (const auto& claim : catalog.claims())
    for (const auto& source : claim.sources) {
      const auto* document = catalog.find_document(source.document);
      ASSERT_NE(document, nullptr);
      EXPECT_TRUE(document->translation_of.empty()) << claim.id << " quotes a translation";
      EXPECT_FALSE(localised(document->url)) << claim.id << " quotes " << document->url;
    }
}

TEST(ClaimsCatalogFile, EveryQuoteIsVerbatimInItsDocument) {
  // The build's default folders (TERMSUITE_SOURCES_DIR, ':'-separated), read as the environment's.
  const auto defaults = termsuite::quote_sources_dirs(nullptr, termsuite::quote_sources_dirs(TERMSUITE_SOURCES_DIR, {}));
  const auto dirs = termsuite::quote_sources_dirs(std::getenv("TERMSUITE_SOURCES_DIR"), defaults);
  if (dirs.empty()) {
    GTEST_SKIP() << "quote check skipped: no folder of the documents' texts (set TERMSUITE_SOURCES_DIR, or put them in "
                 << TERMSUITE_SOURCES_DIR << ")";
  }
  std::string where;
  for (const auto& d : dirs) where += (where.empty() ? "" : " and ") + d.string();
  const auto catalog = ClaimsCatalog::load(TERMSUITE_CLAIMS_CATALOG);
  std::vector<std::string> without_text;
  const auto problems = termsuite::check_quotes(catalog, dirs, &without_text);
  EXPECT_TRUE(problems.empty()) << problems.size() << " quote problem(s) against " << where << ":"
                                << join(problems);
  if (!without_text.empty()) {
    std::string ids;
    for (const auto& id : without_text) ids += (ids.empty() ? "" : ", ") + id;
    std::cout << "quote check: " << where << (dirs.size() > 1 ? " hold" : " holds") << " no text of " << without_text.size()
              << " document(s), their quotes are not checked: " << ids << "\n";
  }
  // Some documents are checked: a folder of unrelated texts must not pass for a check.
  std::set<std::string> quoted;
  for (const auto& claim : catalog.claims())
    for (const auto& source : claim.sources) quoted.insert(source.document);
  EXPECT_LT(without_text.size(), quoted.size()) << "no quote of any document is in " << where;
}

TEST(QuoteCheck, NamesDocumentsWithoutATextAndChecksTheOthers) {
  TempDir dir;
  write_two_documents(dir);
  // doc-b's only quote is in no file: it has no text there; doc-a's edited quote is still a problem.
  std::vector<std::string> without_text;
  const auto problems = termsuite::check_quotes(
      quoting({{"doc-a", "Terminating a process"}, {"doc-a", "has the following result:"}, {"doc-b", "no such words"}}),
      dir.path(), &without_text);
  EXPECT_EQ(without_text, std::vector<std::string>{"doc-b"});
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("has the following result:"), std::string::npos) << problems[0];
}

// ---- the scanner ----------------------------------------------------------------------------------

TEST(SuiteScanner, FindsTestsAndTheirClaim) {
  const auto refs = termsuite::scan_suite_source(R"cpp(
#include "fixture.hpp"
// TEST_F(Commented, Out) { claim("no.such"); }
/* TEST_F(Block, Comment) { claim("no.such"); } */
#define TEST_F_LIKE(a, b) TEST_F(a, b)
TEST_F(ExitCode, ReturnFromMain) {
  claim("exit.code.return-from-main");
  const char* brace = "} { TEST_F(In, String) { claim(\"x.y\"); }";
  auto raw = R"raw(})raw";
  if (brace) { EXPECT_EQ(1'000, 1000); }
}

TEST(Plain, Test)
{
  claim("exit" ".still-active");
}

TEST_F(Two, Claims) {
  claim("a.b");
  claim("c.d");
}

TEST_F(No, Claim) { EXPECT_TRUE(true); }

TEST_F(Late, Claim) {
  int x = 0;
  claim("exit.code.x");
}
)cpp",
                                                 "inline.cpp");
  ASSERT_EQ(refs.size(), 5u);
  EXPECT_EQ(refs[0].test_name, "ExitCode.ReturnFromMain");
  EXPECT_EQ(refs[0].claim_id, "exit.code.return-from-main");
  EXPECT_EQ(refs[0].claim_count, 1u);
  EXPECT_TRUE(refs[0].claim_is_first_statement);
  EXPECT_EQ(refs[0].line, 6u);
  EXPECT_EQ(refs[0].file, fs::path("inline.cpp"));

  EXPECT_EQ(refs[1].test_name, "Plain.Test");
  EXPECT_EQ(refs[1].claim_id, "exit.still-active");
  EXPECT_EQ(refs[1].line, 13u);

  EXPECT_EQ(refs[2].test_name, "Two.Claims");
  EXPECT_EQ(refs[2].claim_count, 2u);
  EXPECT_EQ(refs[2].claim_id, "a.b");

  EXPECT_EQ(refs[3].test_name, "No.Claim");
  EXPECT_EQ(refs[3].claim_count, 0u);
  EXPECT_TRUE(refs[3].claim_id.empty());

  EXPECT_EQ(refs[4].test_name, "Late.Claim");
  EXPECT_EQ(refs[4].claim_count, 1u);
  EXPECT_FALSE(refs[4].claim_is_first_statement);
}

TEST(SuiteScanner, ChecksAFolderAgainstACatalog) {
  TempDir dir;
  dir.write("exit_code.cpp", R"cpp(
TEST_F(ExitCode, Good) { claim("exit.code.a"); }
TEST_F(ExitCode, Unlisted) { claim("exit.code.a"); }
TEST_F(ExitCode, Unknown) { claim("exit.code.zzz"); }
TEST_F(ExitCode, Misfiled) { claim("exit.code.a"); }
TEST_F(ExitCode, Nothing) { }
TEST_F(ExitCode, Both) { claim("exit.code.a"); claim("exit.code.b"); }
)cpp");
  dir.write("more/deeper.cpp", "TEST_F(ExitCode, Good) { claim(\"exit.code.a\"); }\n");
  dir.write("notes.txt", "TEST_F(Not, Scanned) { claim(\"exit.code.a\"); }\n");

  const auto refs = termsuite::scan_suite_sources(dir.path());
  ASSERT_EQ(refs.size(), 7u);
  EXPECT_EQ(refs.back().file.filename(), "deeper.cpp");

  const auto catalog =
      ClaimsCatalog::parse(catalog_of(claim_object("exit.code.a", R"("ExitCode.Good", "ExitCode.Missing")") + ", " +
                                      claim_object("exit.code.b", R"("ExitCode.Misfiled")")),
                           "fixture.json");

  const auto problems = termsuite::check_suite_against_catalog(catalog, refs);
  EXPECT_TRUE(contains(problems, "ExitCode.Unlisted is not in the catalog's tests list of \"exit.code.a\""))
      << join(problems);
  EXPECT_TRUE(contains(problems, "ExitCode.Unknown names claim \"exit.code.zzz\", which the catalog does not have"))
      << join(problems);
  EXPECT_TRUE(contains(problems, "ExitCode.Misfiled names claim \"exit.code.a\" but the catalog lists it under "
                                 "\"exit.code.b\""))
      << join(problems);
  EXPECT_TRUE(contains(problems, "ExitCode.Nothing names no claim")) << join(problems);
  EXPECT_TRUE(contains(problems, "ExitCode.Both names 2 claims")) << join(problems);
  EXPECT_TRUE(contains(problems, "ExitCode.Good is defined twice")) << join(problems);
  EXPECT_TRUE(contains(problems, "catalog: exit.code.a lists ExitCode.Missing, which no suite source defines"))
      << join(problems);
  EXPECT_FALSE(contains(problems, "Not.Scanned")) << join(problems);
  EXPECT_EQ(problems.size(), 7u) << join(problems);

  EXPECT_THROW(termsuite::scan_suite_sources(dir.path() / "absent"), CatalogError);
}

// ---- the real tree ----------------------------------------------------------------------------------

TEST(ClaimsCatalogFile, SuiteSourcesAgreeWithTheCatalog) {
  const auto catalog = ClaimsCatalog::load(TERMSUITE_CLAIMS_CATALOG);
  const auto tests = termsuite::scan_suite_sources(TERMSUITE_SUITE_DIR);
  const auto problems = termsuite::check_suite_against_catalog(catalog, tests);
  EXPECT_TRUE(problems.empty()) << tests.size() << " test(s) found in " << TERMSUITE_SUITE_DIR << "; "
                                << problems.size() << " disagreement(s) with " << TERMSUITE_CLAIMS_CATALOG << ":"
                                << join(problems);
}
