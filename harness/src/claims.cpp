#include "termsuite/claims.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

namespace termsuite {
namespace {

using nlohmann::json;

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// "Suite.Name": two C identifiers joined by one dot.
bool is_test_name(std::string_view name) {
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || name.find('.', dot + 1) != std::string_view::npos) return false;
  for (auto part : {name.substr(0, dot), name.substr(dot + 1)}) {
    if (part.empty() || !is_ident_start(part.front())) return false;
    if (!std::all_of(part.begin(), part.end(), is_ident_char)) return false;
  }
  return true;
}

// "area.word-word.more": lowercase words of [a-z0-9-] joined by dots, at least two of them.
bool is_claim_id(std::string_view id) {
  if (id.empty() || id.front() == '.' || id.back() == '.' || id.find('.') == std::string_view::npos ||
      id.find("..") != std::string_view::npos)
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

// A document id: lowercase words of [a-z0-9] joined by single dashes, like "terminating-a-process".
bool is_document_id(std::string_view id) {
  if (id.empty() || id.front() == '-' || id.back() == '-' || id.find("--") != std::string_view::npos) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// An address: http(s)://, then no whitespace.
bool is_url(std::string_view url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) return false;
  const auto rest = url.substr(url.find("://") + 3);
  return !rest.empty() && std::none_of(rest.begin(), rest.end(), [](char c) { return is_space(c); });
}

class CatalogParser {
 public:
  explicit CatalogParser(std::string_view origin) : origin_(origin) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw CatalogError(one_line(origin_ + ": " + what));
  }

  const json& member(const json& object, const char* key, const std::string& where) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(where + ": field \"" + key + "\" is missing");
    return *it;
  }

  std::string string_of(const json& object, const char* key, const std::string& where) const {
    const json& value = member(object, key, where);
    if (!value.is_string()) fail(where + ": field \"" + key + "\" must be a string");
    auto text = value.get<std::string>();
    if (collapse_whitespace(text).empty()) fail(where + ": field \"" + key + "\" is empty");
    return text;
  }

  // An optional string field: empty when absent; when present it must be a non-empty string.
  std::string optional_string_of(const json& object, const char* key, const std::string& where) const {
    if (object.find(key) == object.end()) return {};
    return string_of(object, key, where);
  }

  bool bool_of(const json& object, const char* key, const std::string& where) const {
    const json& value = member(object, key, where);
    if (!value.is_boolean()) fail(where + ": field \"" + key + "\" must be true or false");
    return value.get<bool>();
  }

  const json& array_of(const json& object, const char* key, const std::string& where) const {
    const json& value = member(object, key, where);
    if (!value.is_array()) fail(where + ": field \"" + key + "\" must be an array");
    return value;
  }

  void require_object(const json& value, const std::string& where) const {
    if (!value.is_object()) fail(where + " must be an object");
  }

  // Entry `i` of table `table` (an object): its "id", valid by `valid` (else `rule` says what an
  // id must be) and not seen before in `index`. `where` becomes "table[i] (id)".
  std::string id_of(const json& item, const char* table, std::size_t i, bool (*valid)(std::string_view),
                    const char* rule, std::map<std::string, std::size_t, std::less<>>& index, std::string& where) const {
    where = std::string(table) + "[" + std::to_string(i) + "]";
    require_object(item, where);
    std::string id = string_of(item, "id", where);
    where += " (" + id + ")";
    if (!valid(id)) fail(where + ": id must be " + rule);
    if (const auto [it, added] = index.emplace(id, i); !added)
      fail(where + ": duplicate id (also " + table + "[" + std::to_string(it->second) + "])");
    return id;
  }

 private:
  std::string origin_;
};

std::string read_file(const std::filesystem::path& file, bool& ok) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    ok = false;
    return {};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ok = !in.bad();
  return text;
}

// ---- a small C++ tokenizer, enough to find TEST_F bodies and claim("...") calls --------------

enum class Tok { Ident, String, Number, Char, Punct };

struct Token {
  Tok kind;
  std::string text;  // identifier, punctuator, or the (decoded) contents of a string literal
  std::size_t line;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    bool line_start = true;  // only whitespace since the last newline
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\n') {
        ++line_;
        ++i_;
        line_start = true;
        continue;
      }
      if (is_space(c)) {
        ++i_;
        continue;
      }
      if (c == '/' && peek(1) == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
        continue;
      }
      if (c == '/' && peek(1) == '*') {
        i_ += 2;
        while (i_ < s_.size() && !(s_[i_] == '*' && peek(1) == '/')) advance();
        i_ = std::min(i_ + 2, s_.size());
        continue;
      }
      if (c == '#' && line_start) {  // a preprocessor directive, with its continuation lines
        skip_directive();
        continue;
      }
      line_start = false;
      const std::size_t line = line_;
      if (is_ident_start(c)) {
        const std::size_t begin = i_;
        while (i_ < s_.size() && is_ident_char(s_[i_])) ++i_;
        const std::string ident(s_.substr(begin, i_ - begin));
        if (peek(0) == '"' && (ident == "R" || ident == "LR" || ident == "uR" || ident == "UR" ||
                               ident == "u8R")) {
          out.push_back({Tok::String, raw_string(), line});
        } else if (peek(0) == '"' && (ident == "L" || ident == "u" || ident == "U" || ident == "u8")) {
          out.push_back({Tok::String, quoted('"'), line});
        } else if (peek(0) == '\'' && (ident == "L" || ident == "u" || ident == "U" || ident == "u8")) {
          out.push_back({Tok::Char, quoted('\''), line});
        } else {
          out.push_back({Tok::Ident, ident, line});
        }
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
        out.push_back({Tok::Number, number(), line});
        continue;
      }
      if (c == '"') {
        out.push_back({Tok::String, quoted('"'), line});
        continue;
      }
      if (c == '\'') {
        out.push_back({Tok::Char, quoted('\''), line});
        continue;
      }
      out.push_back({Tok::Punct, std::string(1, c), line});
      ++i_;
    }
    return out;
  }

 private:
  char peek(std::size_t ahead) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }

  void advance() {
    if (s_[i_] == '\n') ++line_;
    ++i_;
  }

  void skip_directive() {
    while (i_ < s_.size() && s_[i_] != '\n') {
      if (s_[i_] == '\\' && peek(1) == '\n') {
        ++i_;
        advance();  // the escaped newline
        continue;
      }
      if (s_[i_] == '/' && peek(1) == '*') {  // a block comment may span lines
        i_ += 2;
        while (i_ < s_.size() && !(s_[i_] == '*' && peek(1) == '/')) advance();
        i_ = std::min(i_ + 2, s_.size());
        continue;
      }
      ++i_;
    }
  }

  // At the opening quote; returns the decoded contents, leaves i_ after the closing quote. An
  // unterminated literal ends at the newline.
  std::string quoted(char quote) {
    std::string text;
    ++i_;
    while (i_ < s_.size() && s_[i_] != quote && s_[i_] != '\n') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        const char e = s_[i_ + 1];
        if (e == '\n') {
          ++line_;
        } else {
          text += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        }
        i_ += 2;
        continue;
      }
      text += s_[i_++];
    }
    if (i_ < s_.size() && s_[i_] == quote) ++i_;
    return text;
  }

  // At the opening quote of R"delim( ... )delim".
  std::string raw_string() {
    ++i_;
    const std::size_t open = s_.find('(', i_);
    if (open == std::string_view::npos) {
      i_ = s_.size();
      return {};
    }
    // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on ")" + std::string(...).
    std::string close(1, ')');
    close.append(s_.substr(i_, open - i_));
    close.push_back('"');
    const std::size_t begin = open + 1;
    std::size_t end = s_.find(close, begin);
    if (end == std::string_view::npos) end = s_.size();
    std::string text(s_.substr(begin, end - begin));
    line_ += static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    i_ = std::min(end + close.size(), s_.size());
    return text;
  }

  // A pp-number, including digit separators (1'000) and exponent signs (1e+5, 0x1p-3).
  std::string number() {
    const std::size_t begin = i_;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (is_ident_char(c) || c == '.') {
        ++i_;
      } else if (c == '\'' && is_ident_char(peek(1))) {
        i_ += 2;
      } else if ((c == '+' || c == '-') && i_ > begin &&
                 (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E' || s_[i_ - 1] == 'p' || s_[i_ - 1] == 'P')) {
        ++i_;
      } else {
        break;
      }
    }
    return std::string(s_.substr(begin, i_ - begin));
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::size_t line_ = 1;
};

bool is_punct(const std::vector<Token>& t, std::size_t i, char c) {
  return i < t.size() && t[i].kind == Tok::Punct && t[i].text.size() == 1 && t[i].text[0] == c;
}

bool is_ident(const std::vector<Token>& t, std::size_t i) {
  return i < t.size() && t[i].kind == Tok::Ident;
}

// At `claim`: matches claim ( "..." "..." ) and returns the index after ')' (0 if no match).
std::size_t match_claim_call(const std::vector<Token>& t, std::size_t i, std::string& id) {
  if (!is_ident(t, i) || t[i].text != "claim" || !is_punct(t, i + 1, '(')) return 0;
  std::size_t j = i + 2;
  std::string text;
  bool any = false;
  while (j < t.size() && t[j].kind == Tok::String) {
    text += t[j].text;
    any = true;
    ++j;
  }
  if (!any || !is_punct(t, j, ')')) return 0;
  id = std::move(text);
  return j + 1;
}

}  // namespace

// ---- the catalog --------------------------------------------------------------------------------

ClaimsCatalog ClaimsCatalog::parse(std::string_view json_text, std::string_view origin) {
  const CatalogParser p(origin);
  json doc;
  try {
    doc = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {
    p.fail(std::string("invalid JSON: ") + e.what());
  }
  p.require_object(doc, "the top level");
  const json& version = p.member(doc, "version", "the top level");
  if (!version.is_number_integer() || version.get<long long>() != 2)
    p.fail("the top level: \"version\" must be 2 (sources cite the \"documents\" table; every claim has a \"grade\")");

  ClaimsCatalog catalog;

  // The documents the claims quote.
  const json& documents = p.array_of(doc, "documents", "the top level");
  std::map<std::string, std::size_t, std::less<>> index_of_document;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const json& item = documents[i];
    std::string where;
    ClaimDocument document;
    document.id = p.id_of(item, "documents", i, is_document_id,
                          "lowercase words of [a-z0-9] joined by dashes, like \"terminating-a-process\"",
                          index_of_document, where);
    document.title = p.string_of(item, "title", where);
    document.by = p.optional_string_of(item, "by", where);
    const json& url = p.member(item, "url", where);
    if (!url.is_null()) {
      if (!url.is_string() || !is_url(url.get<std::string>()))
        p.fail(where + ": field \"url\" must be an http(s) address, or null when none is known");
      document.url = url.get<std::string>();
    }
    document.translation_of = p.optional_string_of(item, "translation_of", where);
    catalog.documents_.push_back(std::move(document));
  }
  for (std::size_t i = 0; i < catalog.documents_.size(); ++i) {
    const ClaimDocument& document = catalog.documents_[i];
    if (document.translation_of.empty()) continue;
    const std::string where = "documents[" + std::to_string(i) + "] (" + document.id + ")";
    const ClaimDocument* original = catalog.find_document(document.translation_of);
    if (original == nullptr || original == &document || !original->translation_of.empty())
      p.fail(where + ": \"translation_of\" must name another document of the table that is an original");
  }

  const json& list = p.array_of(doc, "claims", "the top level");
  std::map<std::string, std::size_t, std::less<>> index_of_id;
  std::map<std::string, std::string, std::less<>> claim_of_test;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& item = list[i];
    std::string where;
    Claim claim;
    claim.id = p.id_of(item, "claims", i, is_claim_id,
                       "lowercase words of [a-z0-9-] joined by dots, like \"exit.code.x\"", index_of_id, where);
    claim.area = p.string_of(item, "area", where);
    if (claim.area != claim.id.substr(0, claim.id.find('.')))
      p.fail(where + ": area \"" + claim.area + "\" is not the id's first component");
    claim.statement = p.string_of(item, "statement", where);
    const json& grade = p.member(item, "grade", where);
    const auto parsed_grade =
        grade.is_string() ? parse_evidence_grade(grade.get<std::string>()) : std::optional<EvidenceGrade>();
    if (!parsed_grade)
      p.fail(where + ": field \"grade\" must be \"documented\", \"windows-observed\", \"clones-agree\" or \"unverified\"");
    claim.grade = *parsed_grade;
    claim.sim_only = p.bool_of(item, "sim_only", where);

    const json& sources = p.array_of(item, "sources", where);
    if (sources.empty()) p.fail(where + ": \"sources\" is empty; every claim quotes at least one document");
    for (std::size_t k = 0; k < sources.size(); ++k) {
      const std::string at = where + ": sources[" + std::to_string(k) + "]";
      p.require_object(sources[k], at);
      ClaimSource source{p.string_of(sources[k], "document", at), p.string_of(sources[k], "quote", at)};
      const ClaimDocument* cited = catalog.find_document(source.document);
      if (cited == nullptr) p.fail(at + ": document \"" + source.document + "\" is not in the \"documents\" table");
      if (!cited->translation_of.empty())
        p.fail(at + ": document \"" + source.document + "\" is a translation of \"" + cited->translation_of +
               "\"; quote the original");
      claim.sources.push_back(std::move(source));
    }

    const json& evidence = p.array_of(item, "evidence", where);
    for (std::size_t k = 0; k < evidence.size(); ++k) {
      const std::string at = where + ": evidence[" + std::to_string(k) + "]";
      p.require_object(evidence[k], at);
      claim.evidence.push_back({p.string_of(evidence[k], "ref", at), p.string_of(evidence[k], "says", at)});
    }

    const json& tests = p.array_of(item, "tests", where);
    for (std::size_t k = 0; k < tests.size(); ++k) {
      const std::string at = where + ": tests[" + std::to_string(k) + "]";
      if (!tests[k].is_string()) p.fail(at + " must be a string");
      auto name = tests[k].get<std::string>();
      if (!is_test_name(name)) p.fail(at + ": \"" + name + "\" is not a GoogleTest name \"Suite.Name\"");
      const auto [it, fresh] = claim_of_test.emplace(name, claim.id);
      if (!fresh) {
        if (it->second == claim.id) p.fail(at + ": test " + name + " is listed twice");
        p.fail(at + ": test " + name + " is listed under two claims: " + it->second + " and " + claim.id);
      }
      claim.tests.push_back(std::move(name));
    }
    if (item.contains("contrasts")) {
      claim.contrasts = p.string_of(item, "contrasts", where);
      if (!is_posix_claim(claim)) p.fail(where + ": only a POSIX claim (area \"posix\") names a claim it \"contrasts\" with");
      claim.difference = p.string_of(item, "difference", where);  // what the pair shows to differ
    } else if (is_posix_claim(claim)) {
      p.fail(where + ": a POSIX claim must name the Windows claim it \"contrasts\" with");
    } else if (item.contains("difference")) {
      p.fail(where + ": only a POSIX claim that \"contrasts\" with a Windows claim says their \"difference\"");
    }
    catalog.claims_.push_back(std::move(claim));
  }
  for (std::size_t i = 0; i < catalog.claims_.size(); ++i) {
    const Claim& c = catalog.claims_[i];
    if (c.contrasts.empty()) continue;
    const Claim* other = catalog.find(c.contrasts);
    if (other == nullptr || is_posix_claim(*other))
      p.fail("claims[" + std::to_string(i) + "] (" + c.id + "): \"contrasts\" must name a Windows claim of the catalog, not \"" +
             c.contrasts + "\"");
  }
  return catalog;
}

bool is_posix_claim(const Claim& c) { return c.area == "posix"; }

bool is_posix_platform(const Platform& p) { return !p.os.empty() && p.os != "windows" && p.os != "sim"; }

bool claim_applies(const Claim& c, const Platform& p) { return is_posix_claim(c) == is_posix_platform(p); }

ClaimsCatalog ClaimsCatalog::load(const std::filesystem::path& file) {
  bool ok = true;
  const std::string text = read_file(file, ok);
  if (!ok) throw CatalogError(one_line(file.string() + ": cannot be read"));
  return parse(text, file.string());
}

const Claim* ClaimsCatalog::find(std::string_view id) const {
  const auto it = std::find_if(claims_.begin(), claims_.end(), [&](const Claim& c) { return c.id == id; });
  return it == claims_.end() ? nullptr : &*it;
}

const Claim* ClaimsCatalog::claim_of_test(std::string_view test_name) const {
  for (const Claim& c : claims_)
    if (std::find(c.tests.begin(), c.tests.end(), test_name) != c.tests.end()) return &c;
  return nullptr;
}

const std::vector<Claim>& ClaimsCatalog::claims() const { return claims_; }

const ClaimDocument* ClaimsCatalog::find_document(std::string_view id) const {
  const auto it =
      std::find_if(documents_.begin(), documents_.end(), [&](const ClaimDocument& d) { return d.id == id; });
  return it == documents_.end() ? nullptr : &*it;
}

const std::vector<ClaimDocument>& ClaimsCatalog::documents() const { return documents_; }

std::string_view to_string(EvidenceGrade grade) {
  switch (grade) {
    case EvidenceGrade::documented: return "documented";
    case EvidenceGrade::windows_observed: return "windows-observed";
    case EvidenceGrade::clones_agree: return "clones-agree";
    case EvidenceGrade::unverified: return "unverified";
  }
  return "?";
}

std::optional<EvidenceGrade> parse_evidence_grade(std::string_view text) {
  for (const auto grade :
       {EvidenceGrade::documented, EvidenceGrade::windows_observed, EvidenceGrade::clones_agree, EvidenceGrade::unverified})
    if (text == to_string(grade)) return grade;
  return std::nullopt;
}

// ---- the quotes against the documents' texts -------------------------------------------------------

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::vector<std::filesystem::path> quote_sources_dirs(const char* from_environment,
                                                     const std::vector<std::filesystem::path>& fallbacks) {
  std::vector<std::filesystem::path> dirs;
  if (from_environment != nullptr && *from_environment != '\0') {
    std::string_view list = from_environment;
    while (!list.empty()) {
      const auto colon = list.find(':');
      const auto one = list.substr(0, colon);
      if (!one.empty()) dirs.emplace_back(std::string(one));
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
    return dirs;
  }
  for (const auto& fallback : fallbacks) {
    std::error_code ec;
    if (!fallback.empty() && std::filesystem::is_directory(fallback, ec)) dirs.push_back(fallback);
  }
  return dirs;
}

namespace {

struct SourceText {
  std::string name;       // the file's name in the folder
  std::string collapsed;  // its text, whitespace-collapsed
};

std::string quote_head(const std::string& quote) { return quote.size() > 90 ? quote.substr(0, 90) + "..." : quote; }

std::string file_list(const std::vector<SourceText>& texts, const std::set<std::size_t>& files) {
  std::string out;
  for (const std::size_t f : files) out += (out.empty() ? "" : ", ") + texts[f].name;
  return out;
}

// Can every document of `docs` have a file of its own among its candidates? (A small backtracking
// search: a catalog cites a handful of documents.)
bool assign_files(const std::vector<std::set<std::size_t>>& candidates, const std::vector<std::size_t>& docs,
                  std::size_t next, std::set<std::size_t>& taken) {
  if (next == docs.size()) return true;
  for (const std::size_t f : candidates[docs[next]]) {
    if (!taken.insert(f).second) continue;
    if (assign_files(candidates, docs, next + 1, taken)) return true;
    taken.erase(f);
  }
  return false;
}

}  // namespace

std::vector<std::string> check_quotes(const ClaimsCatalog& catalog, const std::filesystem::path& sources_dir,
                                      std::vector<std::string>* without_text) {
  return check_quotes(catalog, std::vector<std::filesystem::path>{sources_dir}, without_text);
}

std::vector<std::string> check_quotes(const ClaimsCatalog& catalog, const std::vector<std::filesystem::path>& sources_dirs,
                                      std::vector<std::string>* without_text) {
  namespace fs = std::filesystem;
  std::vector<std::string> problems;
  std::string dir;
  for (const auto& d : sources_dirs) dir += (dir.empty() ? "" : " and ") + d.string();
  if (sources_dirs.empty()) return {"no folder of the documents' texts was given"};

  std::vector<fs::path> files;
  for (const auto& folder : sources_dirs) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return {folder.string() + ": not a folder (the documents' texts were expected there)"};
    std::vector<fs::path> here;
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string upper = it->path().filename().string();
      std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
      if (upper.rfind("README", 0) == 0) continue;  // describes the folder, is none of the documents
      here.push_back(it->path());
    }
    if (ec) return {folder.string() + ": cannot be listed: " + ec.message()};
    std::sort(here.begin(), here.end());
    files.insert(files.end(), here.begin(), here.end());
  }
  std::vector<SourceText> texts;
  for (const auto& file : files) {
    bool ok = true;
    std::string text = read_file(file, ok);
    if (!ok) {
      problems.push_back(file.string() + ": cannot be read");
      continue;
    }
    texts.push_back({file.filename().string(), collapse_whitespace(text)});
  }
  if (texts.empty()) {
    problems.push_back(dir + ": holds no text file of the documents");
    return problems;
  }

  // Where each quote is found, by document.
  struct Found {
    std::string claim_id, head;
    std::set<std::size_t> files;
  };
  const auto& documents = catalog.documents();
  std::vector<std::vector<Found>> found(documents.size());
  std::vector<std::pair<std::size_t, std::string>> nowhere;  // (document, problem), in claim order
  for (const Claim& claim : catalog.claims()) {
    for (const ClaimSource& source : claim.sources) {
      const ClaimDocument* document = catalog.find_document(source.document);
      const std::string title = document != nullptr ? document->title : source.document;
      const std::string quote = collapse_whitespace(source.quote);
      if (document == nullptr || quote.empty()) {
        problems.push_back(claim.id + ": a quote from \"" + title + "\" is empty or cites no known document");
        continue;
      }
      Found f{claim.id, quote_head(quote), {}};
      for (std::size_t t = 0; t < texts.size(); ++t)
        if (texts[t].collapsed.find(quote) != std::string::npos) f.files.insert(t);
      const auto d = static_cast<std::size_t>(document - documents.data());
      if (f.files.empty()) {
        nowhere.emplace_back(d, claim.id + ": quote from \"" + title + "\" is in no file of " + dir + ": \"" +
                                    f.head + "\"");
        continue;
      }
      found[d].push_back(std::move(f));
    }
  }
  // A document none of whose quotes is anywhere has no text in the folder: named in
  // *without_text when asked, instead of a problem per quote.
  // A file named after the document (<document-id>.txt) is its text, whatever its quotes say: a
  // quote missing from it is a problem even if every quote of the document is.
  const auto has_named_text = [&](std::size_t d) {
    return std::any_of(texts.begin(), texts.end(), [&](const SourceText& t) { return t.name == documents[d].id + ".txt"; });
  };
  std::set<std::size_t> absent;
  for (const auto& [d, problem] : nowhere)
    if (without_text != nullptr && found[d].empty() && !has_named_text(d)) absent.insert(d);
  for (const std::size_t d : absent) without_text->push_back(documents[d].id);
  for (const auto& [d, problem] : nowhere)
    if (absent.count(d) == 0) problems.push_back(problem);

  // One file must hold every quote of a document.
  std::vector<std::set<std::size_t>> candidates(documents.size());
  std::vector<std::size_t> matched;  // documents with a candidate file
  for (std::size_t d = 0; d < documents.size(); ++d) {
    if (found[d].empty()) continue;
    std::set<std::size_t> common = found[d].front().files;
    for (const Found& f : found[d]) {
      std::set<std::size_t> both;
      std::set_intersection(common.begin(), common.end(), f.files.begin(), f.files.end(),
                            std::inserter(both, both.end()));
      common = std::move(both);
    }
    if (!common.empty()) {
      candidates[d] = std::move(common);
      matched.push_back(d);
      continue;
    }
    // The file most of its quotes agree on; the others are the odd ones out.
    std::vector<std::size_t> votes(texts.size(), 0);
    for (const Found& f : found[d])
      for (const std::size_t t : f.files) ++votes[t];
    const std::size_t best =
        static_cast<std::size_t>(std::max_element(votes.begin(), votes.end()) - votes.begin());
    std::string odd;
    for (const Found& f : found[d]) {
      if (f.files.count(best) != 0) continue;
      odd += (odd.empty() ? "" : "; ") + f.claim_id + "'s \"" + f.head + "\" is only in " + file_list(texts, f.files);
    }
    problems.push_back("document \"" + documents[d].title + "\" (" + documents[d].id +
                       "): its quotes are not all in one file: " + std::to_string(votes[best]) + " of " +
                       std::to_string(found[d].size()) + " are in " + texts[best].name + ", but " + odd);
  }

  // Each document needs a file of its own: among documents that share candidate files, look for an
  // assignment; a group with none has a quote cited to the wrong document.
  std::vector<std::size_t> group(documents.size());
  for (std::size_t d = 0; d < group.size(); ++d) group[d] = d;
  const auto root = [&](std::size_t d) {
    while (group[d] != d) d = group[d] = group[group[d]];
    return d;
  };
  for (const std::size_t a : matched)
    for (const std::size_t b : matched) {
      std::vector<std::size_t> shared;
      std::set_intersection(candidates[a].begin(), candidates[a].end(), candidates[b].begin(), candidates[b].end(),
                            std::back_inserter(shared));
      if (a < b && !shared.empty()) group[root(b)] = root(a);
    }
  std::map<std::size_t, std::vector<std::size_t>> groups;
  for (const std::size_t d : matched) groups[root(d)].push_back(d);
  for (const auto& [first, members] : groups) {
    std::set<std::size_t> taken;
    if (members.size() < 2 || assign_files(candidates, members, 0, taken)) continue;
    std::string which;
    for (const std::size_t d : members)
      which += (which.empty() ? "" : "; ") + documents[d].id + " only in " + file_list(texts, candidates[d]);
    problems.push_back("documents cannot each have a file of their own, so a quote is cited to the wrong document: " +
                       which);
  }
  return problems;
}

// ---- the suite's sources ----------------------------------------------------------------------------

std::vector<SuiteTestRef> scan_suite_source(std::string_view source, const std::filesystem::path& file) {
  const std::vector<Token> t = Lexer(source).run();
  std::vector<SuiteTestRef> found;
  std::size_t i = 0;
  while (i < t.size()) {
    const bool is_test_macro = is_ident(t, i) && (t[i].text == "TEST_F" || t[i].text == "TEST");
    if (!is_test_macro || !is_punct(t, i + 1, '(') || !is_ident(t, i + 2) || !is_punct(t, i + 3, ',') ||
        !is_ident(t, i + 4) || !is_punct(t, i + 5, ')') || !is_punct(t, i + 6, '{')) {
      ++i;
      continue;
    }
    SuiteTestRef ref;
    ref.test_name = t[i + 2].text + "." + t[i + 4].text;
    ref.file = file;
    ref.line = t[i].line;

    const std::size_t body = i + 7;
    std::size_t end = body;  // the body's closing brace (or the end of the tokens)
    for (int depth = 1; end < t.size(); ++end) {
      if (is_punct(t, end, '{')) ++depth;
      if (is_punct(t, end, '}') && --depth == 0) break;
    }
    for (std::size_t k = body; k < end; ++k) {
      std::string id;
      if (const std::size_t after = match_claim_call(t, k, id); after != 0 && after <= end) {
        if (ref.claim_count++ == 0) {
          ref.claim_id = id;
          ref.claim_is_first_statement = (k == body) && is_punct(t, after, ';');
        }
        k = after - 1;
      }
    }
    found.push_back(std::move(ref));
    i = end + 1;
  }
  return found;
}

std::vector<SuiteTestRef> scan_suite_sources(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw CatalogError(one_line(dir.string() + ": not a folder"));
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".cpp") files.push_back(it->path());
  }
  if (ec) throw CatalogError(one_line(dir.string() + ": cannot be listed: " + ec.message()));
  std::sort(files.begin(), files.end());

  std::vector<SuiteTestRef> found;
  for (const auto& file : files) {
    bool ok = true;
    const std::string text = read_file(file, ok);
    if (!ok) throw CatalogError(one_line(file.string() + ": cannot be read"));
    auto refs = scan_suite_source(text, file);
    found.insert(found.end(), std::make_move_iterator(refs.begin()), std::make_move_iterator(refs.end()));
  }
  return found;
}

std::vector<std::string> check_suite_against_catalog(const ClaimsCatalog& catalog,
                                                     const std::vector<SuiteTestRef>& tests) {
  std::vector<std::string> problems;
  std::map<std::string, const SuiteTestRef*> first_definition;
  for (const SuiteTestRef& ref : tests) {
    const std::string at = ref.file.generic_string() + ":" + std::to_string(ref.line) + ": " + ref.test_name;
    const auto [previous, fresh] = first_definition.emplace(ref.test_name, &ref);
    if (!fresh) {
      problems.push_back(at + " is defined twice (also " + previous->second->file.generic_string() + ":" +
                         std::to_string(previous->second->line) + ")");
      continue;
    }
    if (ref.claim_count == 0) {
      problems.push_back(at + " names no claim (its first statement should be claim(\"<claim id>\");)");
      continue;
    }
    if (ref.claim_count > 1) {
      problems.push_back(at + " names " + std::to_string(ref.claim_count) + " claims; a test checks exactly one");
      continue;
    }
    if (!ref.claim_is_first_statement)
      problems.push_back(at + ": claim(\"" + ref.claim_id + "\"); is not the first statement of the body");
    const Claim* named = catalog.find(ref.claim_id);
    const Claim* listed = catalog.claim_of_test(ref.test_name);
    if (named == nullptr) {
      problems.push_back(at + " names claim \"" + ref.claim_id + "\", which the catalog does not have");
    } else if (listed == nullptr) {
      problems.push_back(at + " is not in the catalog's tests list of \"" + ref.claim_id + "\"");
    } else if (listed != named) {
      problems.push_back(at + " names claim \"" + ref.claim_id + "\" but the catalog lists it under \"" +
                         listed->id + "\"");
    }
  }
  for (const Claim& claim : catalog.claims()) {
    for (const std::string& name : claim.tests) {
      if (first_definition.find(name) == first_definition.end())
        problems.push_back("catalog: " + claim.id + " lists " + name + ", which no suite source defines");
    }
  }
  return problems;
}

}  // namespace termsuite
