// The claims catalog check: docs/claims.json loads, holds every claim of DESIGN.md, quotes its seeds
// verbatim, and agrees with the tests written in suite/.
#include "termsuite/claims.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef TERMSUITE_CLAIMS_CATALOG
#error "TERMSUITE_CLAIMS_CATALOG (path of docs/claims.json) must be defined"
#endif
#ifndef TERMSUITE_SEEDS_DIR
#error "TERMSUITE_SEEDS_DIR (folder of the source documents) must be defined"
#endif
#ifndef TERMSUITE_SUITE_DIR
#error "TERMSUITE_SUITE_DIR (the repository's suite/ folder) must be defined"
#endif

namespace fs = std::filesystem;
using termsuite::CatalogError;
using termsuite::ClaimsCatalog;
using termsuite::SuiteTestRef;

namespace {

// The IDs of DESIGN.md's "Claims" table, in table order. IDs are stable: a claim leaves the catalog
// only by an edit here too, so an accidental deletion fails.
const std::vector<std::string> kDesignClaimIds = {
    "exit.code.return-from-main",
    "exit.code.exitprocess",
    "exit.code.terminateprocess",
    "exit.code.last-thread",
    "exit.code.fatal-exception",
    "exit.code.fatal-exception-threads",
    "exit.still-active",
    "exit.still-active-ambiguity",
    "signal.process-object",
    "threads.terminated",
    "handles.closed",
    "objects.outlive-creator",
    "objects.die-with-last-handle",
    "children.survive",
    "children.job-kill-on-close",
    "dll.exitprocess-detach",
    "dll.terminate-no-detach",
    "dll.terminate-no-handlers",
    "graceful.private-message",
    "loader.threads-deferred",
    "loader.one-thread-in-dllmain",
    "loader.exitprocess-waits",
    "shutdown.parameters",
    "hooks.no-wh-cbt",
    "corpse.thread-handle-keeps-process",
    "corpse.terminated-thread-queryable",
    "corpse.ids-unique",
    "corpse.released",
    "corpse.driver-hostage",
    "io.pending-cancelled",
    "ctrl.default-handler-exits",
    "ctrl.handler-new-thread",
    "ctrl.close-event",
    "ctrl.process-group",
    "taskkill.gui-wm-close",
    "taskkill.gui-ignores-close",
    "taskkill.windowless-needs-force",
    "taskkill.console-close",
    "taskkill.force",
    "taskkill.tree",
    "posix.contrast",
};

// 004 is the German translation of 002: the catalog quotes the original.
constexpr std::string_view kTranslationSeed = "004_14092011e0a3e9c2.txt";

// A catalog with one claim, the given tests and fields; `extra` is spliced into the claim object.
std::string one_claim(std::string_view id, std::string_view tests = "", std::string_view extra = "") {
  const std::string area(id.substr(0, id.find('.')));
  return std::string(R"({"version": 1, "claims": [{"id": ")") + std::string(id) + R"(", "area": ")" + area +
         R"(", "statement": "s", "sim_only": false, "sources": [{"seed": "002.txt", "quote": "q"}], )" +
         R"("evidence": [], "tests": [)" + std::string(tests) + "]" + std::string(extra) + "}]}";
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
  EXPECT_EQ(claim->sources.at(0).seed, "002.txt");
  EXPECT_EQ(catalog.claim_of_test("ExitCode.B"), claim);
  EXPECT_EQ(catalog.claim_of_test("ExitCode.C"), nullptr);
  EXPECT_EQ(catalog.find("exit.code.y"), nullptr);
}

TEST(ClaimsLoader, RejectsMalformedJson) {
  expect_one_line_naming(rejection(R"({"version": 1, "claims": [)", "broken.json"), "broken.json", "invalid JSON");
  expect_one_line_naming(rejection("", "empty.json"), "empty.json", "invalid JSON");
  expect_one_line_naming(rejection("[]"), "inline.json", "must be an object");
  expect_one_line_naming(rejection(R"({"version": 2, "claims": []})"), "inline.json", "version");
}

TEST(ClaimsLoader, RejectsAMissingId) {
  std::string json = one_claim("exit.code.x");
  json.replace(json.find(R"("id": "exit.code.x", )"), std::string_view(R"("id": "exit.code.x", )").size(), "");
  expect_one_line_naming(rejection(json, "noid.json"), "noid.json", "\"id\" is missing");
}

TEST(ClaimsLoader, RejectsMistypedAndMissingFields) {
  std::string json = one_claim("exit.code.x");
  json.replace(json.find("\"sim_only\": false"), std::string_view("\"sim_only\": false").size(),
               "\"sim_only\": \"no\"");
  expect_one_line_naming(rejection(json), "inline.json", "\"sim_only\" must be true or false");

  json = one_claim("exit.code.x");
  json.replace(json.find("\"tests\": []"), std::string_view("\"tests\": []").size(), "\"tets\": []");
  expect_one_line_naming(rejection(json), "inline.json", "\"tests\" is missing");

  json = one_claim("exit.code.x");
  json.replace(json.find("\"area\": \"exit\""), std::string_view("\"area\": \"exit\"").size(), "\"area\": \"exits\"");
  expect_one_line_naming(rejection(json), "inline.json", "first component");

  expect_one_line_naming(rejection(one_claim("exit.code.x", R"("NoDot")")), "inline.json", "Suite.Name");
}

TEST(ClaimsLoader, RejectsAnEmptySourcesList) {
  std::string json = one_claim("exit.code.x");
  const std::string sources = R"("sources": [{"seed": "002.txt", "quote": "q"}])";
  json.replace(json.find(sources), sources.size(), R"("sources": [])");
  expect_one_line_naming(rejection(json), "inline.json", "\"sources\" is empty");
}

TEST(ClaimsLoader, RejectsADuplicateId) {
  const std::string claim = one_claim("exit.code.x");
  const std::string object = claim.substr(claim.find("[{") + 1, claim.rfind("}]") - claim.find("[{"));
  const std::string json = R"({"version": 1, "claims": [)" + object + ", " + object + "]}";
  expect_one_line_naming(rejection(json, "dup.json"), "dup.json", "duplicate id");
}

TEST(ClaimsLoader, RejectsATestUnderTwoClaims) {
  const std::string a = one_claim("exit.code.a", R"("ExitCode.Shared")");
  const std::string b = one_claim("exit.code.b", R"("ExitCode.Shared")");
  const auto object = [](const std::string& c) { return c.substr(c.find("[{") + 1, c.rfind("}]") - c.find("[{")); };
  const std::string json = R"({"version": 1, "claims": [)" + object(a) + ", " + object(b) + "]}";
  const std::string message = rejection(json, "twice.json");
  expect_one_line_naming(message, "twice.json", "under two claims");
  EXPECT_NE(message.find("exit.code.a"), std::string::npos) << message;
  EXPECT_NE(message.find("exit.code.b"), std::string::npos) << message;

  expect_one_line_naming(rejection(one_claim("exit.code.a", R"("ExitCode.A", "ExitCode.A")")), "inline.json",
                         "listed twice");
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

// ---- the real catalog ---------------------------------------------------------------------------

TEST(ClaimsCatalogFile, LoadsAndHoldsEveryClaimOfTheDesign) {
  const auto catalog = ClaimsCatalog::load(TERMSUITE_CLAIMS_CATALOG);
  for (const auto& id : kDesignClaimIds) EXPECT_NE(catalog.find(id), nullptr) << "missing claim " << id;
  const auto* hostage = catalog.find("corpse.driver-hostage");
  ASSERT_NE(hostage, nullptr);
  EXPECT_TRUE(hostage->sim_only) << "DESIGN.md marks corpse.driver-hostage (sim)";
  for (const auto& claim : catalog.claims()) {
    for (const auto& source : claim.sources)
      EXPECT_NE(source.seed, kTranslationSeed) << claim.id << " quotes the German translation; quote 002";
  }
}

TEST(ClaimsCatalogFile, EveryQuoteIsVerbatimInItsSeed) {
  const fs::path seeds = TERMSUITE_SEEDS_DIR;
  if (!fs::is_directory(seeds)) {
    FAIL() << "the seeds (source documents) were expected in " << seeds.string()
           << " (TERMSUITE_SEEDS_DIR; by default ../shared/seeds beside the repository), and that folder is missing";
  }
  const auto catalog = ClaimsCatalog::load(TERMSUITE_CLAIMS_CATALOG);
  const auto problems = termsuite::check_quotes(catalog, seeds);
  EXPECT_TRUE(problems.empty()) << problems.size() << " quote problem(s):" << join(problems);
}

TEST(ClaimsCatalogFile, QuoteCheckCatchesAnEditedQuote) {
  TempDir dir;
  dir.write("002.txt", "Terminating a process has\n the following   results:\n- Any remaining threads.");
  const auto with_quote = [](std::string quote) {
    std::string json = one_claim("exit.x");
    json.replace(json.find("\"q\""), 3, "\"" + quote + "\"");
    return ClaimsCatalog::parse(json, "quote.json");
  };

  const auto good = with_quote("has the following results:\\n- Any");  // whitespace differs, words do not
  EXPECT_TRUE(termsuite::check_quotes(good, dir.path()).empty()) << join(termsuite::check_quotes(good, dir.path()));

  const auto problems = termsuite::check_quotes(with_quote("has the following result:"), dir.path());
  ASSERT_EQ(problems.size(), 1u) << join(problems);
  EXPECT_NE(problems[0].find("exit.x: quote is not verbatim in 002.txt"), std::string::npos) << problems[0];

  const auto elsewhere = termsuite::check_quotes(good, dir.path() / "nowhere");
  ASSERT_EQ(elsewhere.size(), 1u);
  EXPECT_NE(elsewhere[0].find("cannot be read"), std::string::npos) << elsewhere[0];
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

  const std::string a = one_claim("exit.code.a", R"("ExitCode.Good", "ExitCode.Missing")");
  const std::string b = one_claim("exit.code.b", R"("ExitCode.Misfiled")");
  const auto object = [](const std::string& c) { return c.substr(c.find("[{") + 1, c.rfind("}]") - c.find("[{")); };
  const auto catalog =
      ClaimsCatalog::parse(R"({"version": 1, "claims": [)" + object(a) + ", " + object(b) + "]}", "fixture.json");

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
