#include "termsuite/matrix.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "markup.hpp"

namespace fs = std::filesystem;

namespace termsuite {

namespace {

using markup::h;
using markup::md;
using markup::md_code;

constexpr Outcome kOutcomes[] = {Outcome::pass,  Outcome::xfail,   Outcome::skip, Outcome::inconclusive,
                                 Outcome::xpass, Outcome::timeout, Outcome::fail};

// A CSS class and data-status value: the outcome's own name, or "not-run".
std::string status_key(std::optional<Outcome> s) { return s ? std::string(to_string(*s)) : "not-run"; }

std::string_view status_meaning(std::optional<Outcome> s) {
  if (!s) return "the platform has no result for this claim";
  switch (*s) {
    case Outcome::pass: return "behaves as documented";
    case Outcome::xfail: return "known deviation, listed with its reason in the platform's expectations";
    case Outcome::skip: return "the platform's configuration cannot run the test (its detail says why)";
    case Outcome::inconclusive:
      return "the test ran, but its control showed nothing on this platform, so it could not tell (its detail says why)";
    case Outcome::xpass: return "a listed deviation no longer happens: the expectations are stale";
    case Outcome::timeout: return "a wait reached its deadline where the documents promise an event";
    case Outcome::fail: return "deviates from the documents, and no expectation says so";
  }
  return "";
}

std::string_view status_symbol(std::optional<Outcome> s) {
  if (!s) return "\xE2\x9E\x96";  // heavy minus sign
  switch (*s) {
    case Outcome::pass: return "\xE2\x9C\x85";                  // white heavy check mark
    case Outcome::xfail: return "\xF0\x9F\x9F\xA1";             // large yellow circle
    case Outcome::skip: return "\xE2\x8F\xAD\xEF\xB8\x8F";      // next track
    case Outcome::inconclusive: return "\xE2\x9D\x94";         // white question mark ornament
    case Outcome::xpass: return "\xE2\x9A\xA0\xEF\xB8\x8F";     // warning sign
    case Outcome::timeout: return "\xE2\x8F\xB1\xEF\xB8\x8F";   // stopwatch
    case Outcome::fail: return "\xE2\x9D\x8C";                  // cross mark
  }
  return "?";
}

// The order of the legend and of the totals.
const std::vector<std::optional<Outcome>>& all_statuses() {
  static const std::vector<std::optional<Outcome>> v{Outcome::pass,  Outcome::xfail,        Outcome::fail, Outcome::timeout,
                                                      Outcome::xpass, Outcome::inconclusive, Outcome::skip, std::nullopt};
  return v;
}

// What each evidence grade says of a claim, for the legends.
constexpr EvidenceGrade kGrades[] = {EvidenceGrade::documented, EvidenceGrade::windows_observed, EvidenceGrade::clones_agree,
                                     EvidenceGrade::unverified};
std::string_view grade_meaning(EvidenceGrade g) {
  switch (g) {
    case EvidenceGrade::documented: return "Microsoft's documentation states it";
    case EvidenceGrade::windows_observed: return "evidence shows Windows doing it: tests that pass on Windows, conhost's source, measurements";
    case EvidenceGrade::clones_agree: return "nothing shows Windows doing it, but the other implementations (ReactOS, Wine, the .NET PAL) agree";
    case EvidenceGrade::unverified: return "none of these: the suite establishes it";
  }
  return "";
}

std::string area_of(std::string_view claim_id) {
  auto dot = claim_id.find('.');
  return std::string(claim_id.substr(0, dot));
}

bool is_simulator(const MatrixColumn& c) { return c.results.platform.id == "sim"; }

std::vector<const TestResult*> tests_of(const MatrixColumn& column, std::string_view claim_id) {
  std::vector<const TestResult*> out;
  for (const auto& t : column.results.tests)
    if (t.claim == claim_id) out.push_back(&t);
  return out;
}

// One row: a claim of the catalog, or a claim id a results file names that the catalog lacks.
struct Row {
  std::string id;
  const Claim* claim = nullptr;
};
struct Group {
  std::string area;  // empty: the claims the catalog lacks
  std::vector<Row> rows;
};

std::vector<Group> rows_by_area(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns) {
  std::vector<Group> groups;
  std::map<std::string, std::size_t> index;
  for (const auto& c : catalog.claims()) {
    auto area = area_of(c.id);
    auto [it, fresh] = index.emplace(area, groups.size());
    if (fresh) groups.push_back({area, {}});
    groups[it->second].rows.push_back({c.id, &c});
  }
  std::set<std::string> unknown;
  for (const auto& col : columns)
    for (const auto& t : col.results.tests)
      if (!catalog.find(t.claim)) unknown.insert(t.claim);
  if (!unknown.empty()) {
    Group g;
    for (const auto& id : unknown) g.rows.push_back({id, nullptr});
    groups.push_back(std::move(g));
  }
  return groups;
}

std::string platform_description(const Platform& p) {
  if (p.id == "sim" || p.os == "sim") return fmt::format("the simulator ({})", p.version);
  if (is_posix_platform(p)) {  // "Linux 6.1 · x86_64"
    std::string os = p.os;
    if (os == "linux") os = "Linux";
    return fmt::format("{} {}{}", os, p.version.empty() ? "?" : p.version, p.arch.empty() ? "" : " \xC2\xB7 " + p.arch);
  }
  std::string s;
  if (!p.wine.empty()) s = fmt::format("Wine {}{} \xC2\xB7 ", p.wine, p.flavour.empty() ? "" : " (" + p.flavour + ")");
  s += fmt::format("Windows {}", p.version.empty() ? "?" : p.version);
  if (!p.arch.empty()) s += " \xC2\xB7 " + p.arch;
  return s;
}

// A claim the platform is not asked (a POSIX claim on Windows, a Windows claim on Linux), and that
// no test of it ran there: its cell says "n/a" and it counts in no total.
bool not_asked(const MatrixColumn& column, const Row& row) {
  return row.claim && !claim_applies(*row.claim, column.results.platform) && !claim_status(column, row.id);
}

constexpr std::string_view kNotAskedWord = "n/a";
std::string not_asked_meaning(const Row& row) {
  return is_posix_claim(*row.claim) ? "a POSIX claim: Windows platforms are not asked it"
                                    : "a Windows claim: POSIX platforms are not asked it (the POSIX claims that contrast with it are)";
}

struct Totals {
  std::map<std::string, int> claims;  // status key -> claims
  std::size_t tests = 0;
};

Totals totals_of(const std::vector<Group>& groups, const MatrixColumn& column) {
  Totals t;
  for (const auto& g : groups)
    for (const auto& r : g.rows)
      if (!not_asked(column, r)) ++t.claims[status_key(claim_status(column, r.id))];
  t.tests = column.results.tests.size();
  return t;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// ---- HTML ------------------------------------------------------------------------------------

// Only web addresses become links; anything else (a javascript: URL in a tampered catalog) is text.
bool is_web_address(std::string_view url) { return url.starts_with("https://") || url.starts_with("http://"); }

std::string document_html(const ClaimDocument* d, std::string_view fallback_id) {
  if (!d) return h(fallback_id);
  std::string title = h(d->title.empty() ? d->id : d->title);
  std::string by = d->by.empty() ? std::string() : fmt::format(" title=\"{}\"", h(d->by));
  return is_web_address(d->url) ? fmt::format("<a href=\"{}\"{}>{}</a>", h(d->url), by, title)
                                : fmt::format("<cite{}>{}</cite>", by, title);
}

constexpr std::string_view kStyle = R"css(
:root{color-scheme:light;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{margin:0;padding:1rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin:0 0 .4rem}
p{margin:.3rem 0;max-width:60rem}
code{font:12px/1.3 ui-monospace,SFMono-Regular,Consolas,"Liberation Mono",monospace}
a{color:#0550ae}
.legend{display:flex;flex-wrap:wrap;gap:.3rem .6rem;list-style:none;padding:0;margin:.6rem 0 1rem}
.legend li{display:flex;align-items:center;gap:.3rem}
.legend .chip{flex:none}
.chip{display:inline-block;min-width:4.2rem;padding:.05rem .4rem;border-radius:.25rem;font-weight:600;text-align:center;border:1px solid rgba(0,0,0,.15)}
.scroll{overflow-x:auto;border:1px solid var(--line);-webkit-overflow-scrolling:touch}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{padding:.4rem .5rem;text-align:left;vertical-align:top;border-right:1px solid var(--line);border-bottom:1px solid var(--line)}
thead th{background:#f6f8fa;font-weight:normal}
th.claim,th.corner{position:sticky;left:0;z-index:2;width:26rem;min-width:16rem;max-width:26rem;background:#fff;font-weight:normal}
th.corner{background:#f6f8fa;z-index:3;font-weight:600}
tr.area th{background:#eef1f4;text-align:left;font-weight:600;text-transform:uppercase;letter-spacing:.04em;font-size:.8rem}
tr.area th span{position:sticky;left:.5rem}
.platform{min-width:11rem}
.platform .pid{font-weight:600;font-family:ui-monospace,SFMono-Regular,Consolas,"Liberation Mono",monospace;font-size:.85rem}
.platform .ver,.platform .date,.platform .totals{font-size:.8rem;color:var(--muted)}
.claim .id{font-weight:600}
.grade{display:inline-block;font-size:.72rem;padding:0 .35rem;border-radius:1rem;border:1px solid var(--line);color:var(--muted);white-space:nowrap}
.grade.g-documented{border-color:#1a7f37;color:#1a7f37}
.grade.g-windows-observed{border-color:#0969da;color:#0969da}
.grade.g-clones-agree{border-color:#8250df;color:#8250df}
.grade.g-unverified{border-color:#9a6700;color:#9a6700}
.grades{font-size:.85rem;color:var(--muted)}
td.difference{min-width:16rem;max-width:30rem;font-size:.85rem}
.statement{margin:.2rem 0}
.sources{display:flex;flex-wrap:wrap;gap:0 .6rem;align-items:baseline}
.docs{font-size:.8rem;color:var(--muted)}
details.quotes[open]{flex-basis:100%}
blockquote{margin:.3rem 0;padding:.1rem .5rem;border-left:3px solid var(--line);font-size:.82rem;color:#24292f}
blockquote footer{color:var(--muted);font-size:.75rem}
details summary{cursor:pointer;color:var(--muted);font-size:.8rem}
.cell summary{color:inherit;font-size:inherit}
.cell .status{font-weight:700}
.cell .count{font-size:.8rem;opacity:.85}
.tests{margin:.3rem 0 0;padding-left:1rem;font-size:.8rem;color:#1f2328}
.tests li{margin:.2rem 0;overflow-wrap:anywhere}
.tests .detail,.tests .reason,.tests .observed{display:block}
.tests .reason{font-style:italic}
.o{font-weight:700}
.s-pass{background:#dafbe1;color:#116329}
.s-xfail{background:#fff1c2;color:#6b4a00}
.s-fail{background:#cf222e;color:#fff}
.s-timeout{background:#8250df;color:#fff}
.s-xpass{background:#bc4c00;color:#fff}
.s-skip{background:#eaeef2;color:#424a53}
.s-inconclusive{background:#ddf4ff;color:#0a3069}
.s-not-run{background:#fff;color:#8c959f}
.s-na{background:repeating-linear-gradient(135deg,#f6f8fa,#f6f8fa 6px,#fff 6px,#fff 12px);color:#8c959f}
h2{font-size:1.15rem;margin:1.4rem 0 .4rem}
table.pairs .side{width:24rem;min-width:14rem}
td.pair{font-weight:700;white-space:nowrap}
.pair-of{font-size:.8rem;color:var(--muted)}
td.pair a{color:inherit;text-decoration:none}
td.s-fail .tests,td.s-timeout .tests,td.s-xpass .tests{background:#fff;border-radius:.2rem;padding:.2rem .2rem .2rem 1.2rem}
.o-pass{color:#116329}.o-xfail{color:#6b4a00}.o-fail{color:#cf222e}.o-timeout{color:#8250df}.o-xpass{color:#bc4c00}.o-skip{color:#57606a}.o-inconclusive{color:#0969da}
footer.page{margin-top:1rem;font-size:.8rem;color:var(--muted)}
table.explore td.pid{white-space:nowrap}
table.explore ul{margin:.2rem 0 0;padding-left:1rem;font-size:.8rem}
.f-new{background:#bc4c00;color:#fff}
.f-known{background:#fff1c2;color:#6b4a00}
.f-count{padding:0 .3rem;border-radius:.2rem;font-weight:600}
.finding{border:1px solid var(--line);border-radius:.3rem;padding:.5rem .7rem;margin:.7rem 0;max-width:64rem}
.finding h3{font-size:1rem;margin:0 0 .3rem;display:flex;flex-wrap:wrap;gap:.2rem .5rem;align-items:baseline}
.finding .signature{overflow-wrap:anywhere}
.finding .where{font-size:.8rem;font-weight:normal;color:var(--muted)}
.finding .known{font-style:italic}
pre{margin:.3rem 0;padding:.4rem .5rem;background:#f6f8fa;border:1px solid var(--line);border-radius:.25rem;overflow-x:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Consolas,"Liberation Mono",monospace}
pre.difference{white-space:pre-wrap;overflow-wrap:anywhere}
pre .d-agree{color:var(--muted)}
pre .d-model{color:#116329}
pre .d-platform{color:#cf222e}
@media (max-width:640px){
  body{padding:.5rem;font-size:13px}
  th.claim,th.corner{width:auto;min-width:9.5rem;max-width:52vw}
  .platform{min-width:8rem}
  blockquote{font-size:.78rem}
}
@media print{
  body{padding:0;font-size:9pt}
  .scroll{overflow:visible;border:0}
  th.claim,th.corner,tr.area th span{position:static}
  th.claim,th.corner{width:18rem;max-width:18rem}
  tr{break-inside:avoid}
  thead{display:table-header-group}
  details summary{display:none}
  pre{white-space:pre-wrap;overflow-wrap:anywhere}
  .finding{break-inside:avoid}
  a{color:inherit;text-decoration:none}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
)css";

// Opens every <details> before printing, so the paper shows the quotes and each test's outcome.
constexpr std::string_view kScript =
    R"js(addEventListener("beforeprint",function(){document.querySelectorAll("details").forEach(function(d){d.open=true;});});)js";

std::string claim_header_html(const ClaimsCatalog& catalog, const Row& row) {
  std::string s = fmt::format("<th scope=\"row\" class=\"claim\" id=\"claim-{}\">", h(row.id));
  s += fmt::format("<code class=\"id\">{}</code>", h(row.id.empty() ? "(no claim)" : row.id));
  if (!row.claim) {
    s += "<div class=\"statement\">not in the claims catalog</div></th>";
    return s;
  }
  const Claim& c = *row.claim;
  s += fmt::format(" <span class=\"grade g-{0}\" title=\"evidence grade\">{0}</span>", h(to_string(c.grade)));
  if (c.sim_only) s += " <span class=\"grade\">simulator only</span>";
  s += fmt::format("<div class=\"statement\">{}</div>", h(c.statement));
  // The other half of a Windows vs POSIX pair, linked both ways.
  if (!c.contrasts.empty())
    s += fmt::format("<div class=\"pair-of\">the POSIX counterpart of <a href=\"#claim-{0}\"><code>{0}</code></a>; what "
                     "differs: {1}</div>",
                     h(c.contrasts), h(c.difference));
  for (const auto& other : catalog.claims())
    if (other.contrasts == c.id)
      s += fmt::format("<div class=\"pair-of\">its POSIX counterpart: <a href=\"#claim-{0}\"><code>{0}</code></a></div>",
                       h(other.id));
  std::vector<std::string> docs;
  for (const auto& src : c.sources)
    if (std::find(docs.begin(), docs.end(), src.document) == docs.end()) docs.push_back(src.document);
  s += "<div class=\"sources\"><span class=\"docs\">";
  for (std::size_t i = 0; i < docs.size(); ++i)
    s += (i ? "; " : "") + document_html(catalog.find_document(docs[i]), docs[i]);
  s += "</span>";
  s += fmt::format("<details class=\"quotes\"><summary>{}</summary>", c.sources.size() == 1 ? "quote" : plural(c.sources.size(), "quote", "quotes"));
  for (const auto& src : c.sources) {
    const ClaimDocument* d = catalog.find_document(src.document);
    s += fmt::format("<blockquote><p>{}</p><footer>\xE2\x80\x94 <cite>{}</cite>{}</footer></blockquote>", h(src.quote),
                     h(d ? d->title : src.document), d && !d->by.empty() ? ", " + h(d->by) : std::string());
  }
  s += "</details></div></th>";
  return s;
}

std::string cell_html(const MatrixColumn& column, const Row& row) {
  const auto& pid = column.results.platform.id;
  if (not_asked(column, row))
    return fmt::format("<td class=\"cell s-na\" data-claim=\"{}\" data-platform=\"{}\" data-status=\"n-a\" title=\"{}\">"
                       "<span class=\"status\">{}</span></td>",
                       h(row.id), h(pid), h(not_asked_meaning(row)), kNotAskedWord);
  auto status = claim_status(column, row.id);
  auto key = status_key(status);
  std::string s = fmt::format("<td class=\"cell s-{}\" data-claim=\"{}\" data-platform=\"{}\" data-status=\"{}\" title=\"{}\">",
                              key, h(row.id), h(pid), key, h(status_meaning(status)));
  if (!status) return s + fmt::format("<span class=\"status\">{}</span></td>", h(status_word(status)));
  s += fmt::format("<details><summary><span class=\"status\">{}</span>", h(status_word(status)));
  auto tests = tests_of(column, row.id);
  std::map<Outcome, int> tally;
  for (auto* t : tests) ++tally[t->outcome];
  s += fmt::format(" <span class=\"count\">{}", plural(tests.size(), "test", "tests"));
  if (tally.size() > 1) {
    std::string parts;
    for (auto o : kOutcomes)
      if (tally.contains(o)) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", tally[o], status_word(o));
    s += fmt::format(" ({})", h(parts));
  }
  s += "</span></summary><ul class=\"tests\">";
  for (auto* t : tests) {
    s += fmt::format("<li data-test=\"{}\"><span class=\"o o-{}\">{}</span> <code>{}</code>", h(t->name), to_string(t->outcome),
                     h(status_word(t->outcome)), h(t->name));
    const Deviation* expected = column.expectations.find(t->name);
    if (!t->detail.empty() && !(expected && expected->reason == t->detail))  // an xfail's detail is often its reason
      s += fmt::format("<span class=\"detail\">{}</span>", h(t->detail));
    if (!t->observed.empty()) {
      s += "<span class=\"observed\">observed:";
      bool first = true;
      for (const auto& [k, v] : t->observed) {
        s += fmt::format("{} <code>{}</code> = {}", first ? "" : ";", h(k), h(v));
        first = false;
      }
      s += "</span>";
    }
    if (expected)
      s += fmt::format("<span class=\"reason\">expected {}: {}</span>", h(to_string(expected->expect)), h(expected->reason));
    s += "</li>";
  }
  s += "</ul></details></td>";
  return s;
}

// A column's total, explained for its tooltip: "1 not run" counts the claims the platform is
// asked that no test of it ran there.
std::string total_meaning(std::optional<Outcome> st, std::size_t n) {
  const auto claims = plural(n, "claim", "claims");
  if (!st) return fmt::format("{} this platform is asked with no test run here: not covered on it yet, or filtered out", claims);
  return fmt::format("{} whose status here is {}: {}", claims, status_word(st), status_meaning(st));
}

std::string platform_header_html(const MatrixColumn& column, const Totals& totals) {
  const auto& p = column.results.platform;
  std::string s = fmt::format("<th scope=\"col\" class=\"platform\" data-platform=\"{0}\" title=\"{1}\"><div class=\"pid\">{0}</div>",
                              h(p.id), h(column.file));
  // Wine answers GetVersionEx with the Windows version its prefix imitates (winecfg's "Windows
  // Version"), not a version of its own: say so where the column shows it.
  const std::string imitated =
      p.wine.empty() ? std::string()
                     : fmt::format(" title=\"{}\"", h(fmt::format("Wine reports the Windows version it imitates (its prefix's "
                                                                 "Windows version, set in winecfg): Windows {}, as Wine {}, "
                                                                 "not a run on that Windows",
                                                                 p.version.empty() ? "?" : p.version, p.wine)));
  s += fmt::format("<div class=\"ver\"{}>{}</div>", imitated, h(platform_description(p)));
  if (!column.date.empty()) s += fmt::format("<div class=\"date\">run {}</div>", h(column.date));
  std::string parts;
  for (const auto& st : all_statuses()) {
    auto it = totals.claims.find(status_key(st));
    if (it == totals.claims.end() || it->second == 0) continue;
    parts += fmt::format("{}<span class=\"o o-{}\" title=\"{}\">{} {}</span>", parts.empty() ? "" : " \xC2\xB7 ",
                         status_key(st), h(total_meaning(st, it->second)), it->second, h(status_word(st)));
  }
  s += fmt::format("<div class=\"totals\">{}<br>{}</div></th>", parts, plural(totals.tests, "test", "tests"));
  return s;
}

// ---- Markdown --------------------------------------------------------------------------------

std::string md_doc(const ClaimDocument* d, std::string_view fallback_id) {
  if (!d) return md(fallback_id);
  auto title = md(d->title.empty() ? d->id : d->title);
  if (!is_web_address(d->url)) return title;
  std::string url;
  for (char c : d->url) {  // an address in a link: no spaces, parentheses or pipes left raw
    switch (c) {
      case ' ': url += "%20"; break;
      case '(': url += "%28"; break;
      case ')': url += "%29"; break;
      case '|': url += "%7C"; break;
      case '<': url += "%3C"; break;
      case '>': url += "%3E"; break;
      default: if (static_cast<unsigned char>(c) > 0x20) url += c;
    }
  }
  return fmt::format("[{}]({})", title, url);
}

}  // namespace

std::optional<Outcome> claim_status(const MatrixColumn& column, std::string_view claim_id) {
  std::optional<Outcome> worst;
  for (const auto& t : column.results.tests)
    if (t.claim == claim_id && (!worst || severity(t.outcome) > severity(*worst))) worst = t.outcome;
  return worst;
}

std::string_view status_word(std::optional<Outcome> status) {
  if (!status) return "not run";
  switch (*status) {
    case Outcome::pass: return "pass";
    case Outcome::xfail: return "xfail";
    case Outcome::skip: return "SKIP";
    case Outcome::inconclusive: return "INCONCLUSIVE";
    case Outcome::xpass: return "XPASS";
    case Outcome::timeout: return "TIMEOUT";
    case Outcome::fail: return "FAIL";
  }
  return "?";
}

std::vector<MatrixColumn> load_matrix_columns(const fs::path& results_dir, const fs::path& expectations_dir) {
  std::error_code ec;
  if (!fs::is_directory(results_dir, ec)) throw MatrixError(fmt::format("{}: not a folder", results_dir.string()));
  std::vector<fs::path> files;
  for (fs::directory_iterator it(results_dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
  if (ec) throw MatrixError(fmt::format("{}: cannot be listed: {}", results_dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  if (files.empty()) throw MatrixError(fmt::format("{}: no results file (*.json) to report", results_dir.string()));

  std::vector<MatrixColumn> columns;
  std::map<std::string, std::string> file_of_platform;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof()) throw MatrixError(fmt::format("{}: cannot be read", file.string()));
    MatrixColumn col;
    col.file = file.filename().string();
    try {
      col.results = parse_stable_json(ss.str(), file.string());
      auto j = nlohmann::json::parse(ss.str());
      if (auto d = j.find("date"); d != j.end()) {
        if (!d->is_string()) throw std::runtime_error(fmt::format("{}: \"date\" is not a string", file.string()));
        col.date = d->get<std::string>();
      }
    } catch (const std::exception& e) {
      throw MatrixError(fmt::format("not a results file: {}", e.what()));
    }
    const auto& id = col.results.platform.id;
    if (id != "sim") {
      if (auto problem = platform_id_problem(id); !problem.empty())
        throw MatrixError(fmt::format("{}: platform id \"{}\": {}", file.string(), id, problem));
    }
    if (auto [it, fresh] = file_of_platform.emplace(id, col.file); !fresh)
      throw MatrixError(fmt::format("{}: platform {} again (already in {})", file.string(), id, it->second));
    col.expectations = Expectations::load_for(expectations_dir, col.results.platform);
    columns.push_back(std::move(col));
  }
  // Windows and Wine first, then the POSIX systems, the simulator last.
  auto rank = [](const MatrixColumn& c) { return is_simulator(c) ? 2 : is_posix_platform(c.results.platform) ? 1 : 0; };
  std::stable_sort(columns.begin(), columns.end(), [&](const MatrixColumn& a, const MatrixColumn& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return a.results.platform.id < b.results.platform.id;
  });
  return columns;
}

namespace {

// The "Windows vs POSIX" view: each POSIX claim beside the Windows claim it contrasts with, with
// the statuses of each on the platforms that are asked it.
struct Pair {
  const Claim* windows;
  const Claim* posix;
};
std::vector<Pair> contrast_pairs(const ClaimsCatalog& catalog) {
  std::vector<Pair> pairs;
  for (const auto& c : catalog.claims())
    if (!c.contrasts.empty())
      if (const Claim* w = catalog.find(c.contrasts)) pairs.push_back({w, &c});
  return pairs;
}

std::string pair_cell_html(const MatrixColumn& column, const Claim& claim) {
  auto status = claim_status(column, claim.id);
  auto key = status_key(status);
  return fmt::format("<td class=\"pair s-{0}\" data-claim=\"{1}\" data-platform=\"{2}\" data-status=\"{0}\" title=\"{3}\">"
                     "<a href=\"#claim-{1}\"><span class=\"status\">{4}</span></a></td>",
                     key, h(claim.id), h(column.results.platform.id), h(status_meaning(status)), h(status_word(status)));
}

std::string pair_side_html(const Claim& c) {
  return fmt::format("<td class=\"side\"><a href=\"#claim-{0}\"><code class=\"id\">{0}</code></a><div class=\"statement\">{1}</div></td>",
                     h(c.id), h(c.statement));
}

std::string pairs_html(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns) {
  auto pairs = contrast_pairs(catalog);
  if (pairs.empty()) return {};
  std::vector<const MatrixColumn*> windows, posix;
  for (const auto& col : columns) (is_posix_platform(col.results.platform) ? posix : windows).push_back(&col);
  std::string s = "<h2 id=\"windows-vs-posix\">Windows vs POSIX</h2>\n";
  s += fmt::format("<p>{}: each POSIX claim beside the Windows claim it is the counterpart of, the same question asked of "
                   "both systems, with its status on each platform that is asked it, and what the pair shows to differ "
                   "between the two systems.</p>\n",
                   plural(pairs.size(), "pair", "pairs"));
  s += "<div class=\"scroll\">\n<table id=\"pairs\" class=\"pairs\">\n<thead>\n<tr><th scope=\"col\" class=\"side\">Windows claim</th>";
  for (auto* col : windows) s += fmt::format("<th scope=\"col\" class=\"platform pairs\" data-platform=\"{0}\"><div class=\"pid\">{0}</div></th>", h(col->results.platform.id));
  s += "<th scope=\"col\" class=\"side\">POSIX claim</th>";
  for (auto* col : posix) s += fmt::format("<th scope=\"col\" class=\"platform pairs\" data-platform=\"{0}\"><div class=\"pid\">{0}</div></th>", h(col->results.platform.id));
  s += "<th scope=\"col\" class=\"difference\">what differs</th></tr>\n</thead>\n<tbody>\n";
  for (const auto& p : pairs) {
    s += fmt::format("<tr data-windows=\"{}\" data-posix=\"{}\">", h(p.windows->id), h(p.posix->id));
    s += pair_side_html(*p.windows);
    for (auto* col : windows) s += pair_cell_html(*col, *p.windows);
    s += pair_side_html(*p.posix);
    for (auto* col : posix) s += pair_cell_html(*col, *p.posix);
    s += fmt::format("<td class=\"difference\">{}</td>", h(p.posix->difference));
    s += "</tr>\n";
  }
  s += "</tbody>\n</table>\n</div>\n";
  return s;
}

std::string pairs_markdown(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns) {
  auto pairs = contrast_pairs(catalog);
  if (pairs.empty()) return {};
  std::vector<const MatrixColumn*> windows, posix;
  for (const auto& col : columns) (is_posix_platform(col.results.platform) ? posix : windows).push_back(&col);
  std::string s = "\n## Windows vs POSIX\n\nEach POSIX claim beside the Windows claim it is the counterpart of, with its "
                  "status on each platform that is asked it, and what the pair shows to differ between the two "
                  "systems.\n\n| Windows claim |";
  for (auto* col : windows) s += fmt::format(" {} |", md_code(col->results.platform.id));
  s += " POSIX claim |";
  for (auto* col : posix) s += fmt::format(" {} |", md_code(col->results.platform.id));
  s += " what differs |\n| --- |";
  for (std::size_t i = 0; i < windows.size() + 1 + posix.size() + 1; ++i) s += " --- |";
  s += "\n";
  auto cell = [](const MatrixColumn& col, const Claim& c) {
    auto st = claim_status(col, c.id);
    return fmt::format(" {} {} |", status_symbol(st), status_word(st));
  };
  for (const auto& p : pairs) {
    s += fmt::format("| {} {} |", md_code(p.windows->id), md(p.windows->statement));
    for (auto* col : windows) s += cell(*col, *p.windows);
    s += fmt::format(" {} {} |", md_code(p.posix->id), md(p.posix->statement));
    for (auto* col : posix) s += cell(*col, *p.posix);
    s += fmt::format(" {} |\n", md(p.posix->difference));
  }
  return s;
}

}  // namespace

std::string matrix_html(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns, const ExploreSection& explore) {
  auto groups = rows_by_area(catalog, columns);
  std::size_t claims = 0;
  for (const auto& g : groups) claims += g.rows.size();
  std::string s;
  s += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<title>termsuite conformance matrix</title>\n<style>";
  s += kStyle;
  s += "</style>\n</head>\n<body>\n<h1>termsuite conformance matrix</h1>\n";
  s += fmt::format("<p id=\"summary\">{} of the catalog (<code>docs/claims.json</code>) on {}. A claim's status on a platform is the "
                   "worst outcome of its tests there; open a cell for each test's outcome, detail, observed values and, for a "
                   "known deviation, the reason the platform's expectations give. Open a claim's quotes for the sentences it "
                   "rests on. A column's header gives the Windows version the platform reports (under Wine, the version Wine "
                   "imitates, as its prefix is set) and how many claims have each status there; \"not run\" counts the "
                   "claims it is asked that no test of it ran there.{}</p>\n",
                   plural(claims, "claim", "claims"), plural(columns.size(), "platform", "platforms"),
                   explore.empty() ? "" : " <a href=\"#explorer\">The explorer&#39;s findings</a> follow the matrix.");
  s += "<ul class=\"legend\" id=\"legend\">";
  for (const auto& st : all_statuses())
    s += fmt::format("<li><span class=\"chip s-{}\">{}</span> {}</li>", status_key(st), h(status_word(st)), h(status_meaning(st)));
  s += fmt::format("<li><span class=\"chip s-na\">{}</span> the platform is not asked this claim (a POSIX claim on Windows, a Windows "
                   "claim on a POSIX system)</li>", kNotAskedWord);
  s += "</ul>\n<p class=\"grades\" id=\"grades\">A claim's evidence grade says how well Windows' behaviour is established:";
  for (auto g : kGrades)
    s += fmt::format(" <span class=\"grade g-{0}\">{0}</span> {1}{2}", to_string(g), h(grade_meaning(g)),
                     g == EvidenceGrade::unverified ? "." : ";");
  s += "</p>\n<div class=\"scroll\">\n<table id=\"matrix\">\n<thead>\n<tr><th scope=\"col\" class=\"corner\">claim</th>";
  for (const auto& col : columns) s += platform_header_html(col, totals_of(groups, col));
  s += "</tr>\n</thead>\n";
  for (const auto& g : groups) {
    s += fmt::format("<tbody data-area=\"{}\">\n<tr class=\"area\"><th scope=\"rowgroup\" colspan=\"{}\"><span>{}</span></th></tr>\n",
                     h(g.area), columns.size() + 1, g.area.empty() ? "not in the catalog" : h(g.area));
    for (const auto& r : g.rows) {
      s += fmt::format("<tr data-claim=\"{}\">", h(r.id));
      s += claim_header_html(catalog, r);
      for (const auto& col : columns) s += cell_html(col, r);
      s += "</tr>\n";
    }
    s += "</tbody>\n";
  }
  s += "</table>\n</div>\n";
  s += pairs_html(catalog, columns);
  std::set<std::string> claim_rows;
  for (const auto& g : groups)
    for (const auto& r : g.rows) claim_rows.insert(r.id);
  s += explore_html(explore, claim_rows);
  s += fmt::format("<footer class=\"page\">Written by <code>termsuite report</code> from <code>results/*.json</code>, {}"
                   "<code>results/expectations/</code> and <code>docs/claims.json</code>; the same matrix as a table: "
                   "<a href=\"MATRIX.md\">MATRIX.md</a>.</footer>\n<script>",
                   explore.empty() ? "" : "<code>results/explore/*.json</code>, ");
  s += kScript;
  s += "</script>\n</body>\n</html>\n";
  return s;
}

std::string matrix_markdown(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns, const ExploreSection& explore) {
  auto groups = rows_by_area(catalog, columns);
  std::size_t claims = 0;
  for (const auto& g : groups) claims += g.rows.size();
  std::string s = "# termsuite conformance matrix\n\n";
  s += fmt::format("{} of the catalog (`docs/claims.json`) on {}, written by `termsuite report` from `results/*.json`. "
                   "A claim's status is the worst outcome of its tests; the count is its tests on that platform. "
                   "[report.html](report.html) has each test's outcome and detail, the reasons of the known deviations "
                   "and the quotes.{}\n\n",
                   plural(claims, "claim", "claims"), plural(columns.size(), "platform", "platforms"),
                   explore.empty() ? "" : " The explorer's findings follow the matrix.");
  s += "Legend:";
  for (const auto& st : all_statuses())
    s += fmt::format("{} {} {} ({})", st == all_statuses().front() ? "" : " \xC2\xB7", status_symbol(st), status_word(st),
                     status_meaning(st));
  s += fmt::format(" \xC2\xB7 \xC2\xB7 {} (the platform is not asked this claim: a POSIX claim on Windows, a Windows claim on a POSIX "
                   "system)", kNotAskedWord);
  s += "\n\nEvidence grades:";
  for (auto g : kGrades)
    s += fmt::format("{} {} ({})", g == kGrades[0] ? "" : " \xC2\xB7", to_string(g), grade_meaning(g));
  s += "\n\n| platform | version | claims | tests |\n| --- | --- | --- | --- |\n";
  for (const auto& col : columns) {
    auto totals = totals_of(groups, col);
    std::string parts;
    for (const auto& st : all_statuses()) {
      auto it = totals.claims.find(status_key(st));
      if (it != totals.claims.end() && it->second)
        parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", status_symbol(st), it->second);
    }
    auto version = platform_description(col.results.platform);
    if (!col.date.empty()) version += ", run " + col.date;
    s += fmt::format("| {} | {} | {} | {} |\n", md_code(col.results.platform.id), md(version), parts, totals.tests);
  }
  s += "\n| claim | grade | source |";
  for (const auto& col : columns) s += fmt::format(" {} |", md_code(col.results.platform.id));
  s += "\n| --- | --- | --- |";
  for (std::size_t i = 0; i < columns.size(); ++i) s += " --- |";
  s += "\n";
  for (const auto& g : groups) {
    s += fmt::format("| **{}** | | |", g.area.empty() ? "not in the catalog" : md(g.area));
    for (std::size_t i = 0; i < columns.size(); ++i) s += " |";
    s += "\n";
    for (const auto& r : g.rows) {
      if (r.claim) {
        std::vector<std::string> docs;
        for (const auto& src : r.claim->sources)
          if (std::find(docs.begin(), docs.end(), src.document) == docs.end()) docs.push_back(src.document);
        std::string sources;
        for (const auto& d : docs) sources += (sources.empty() ? "" : "; ") + md_doc(catalog.find_document(d), d);
        s += fmt::format("| {} {} | {} | {} |", md_code(r.id), md(r.claim->statement), to_string(r.claim->grade), sources);
      } else {
        s += fmt::format("| {} not in the catalog | | |", md_code(r.id));
      }
      for (const auto& col : columns) {
        auto st = claim_status(col, r.id);
        if (not_asked(col, r)) s += fmt::format(" \xC2\xB7 {} |", kNotAskedWord);
        else if (!st) s += fmt::format(" {} {} |", status_symbol(st), status_word(st));
        else s += fmt::format(" {} {} ({}) |", status_symbol(st), status_word(st), tests_of(col, r.id).size());
      }
      s += "\n";
    }
  }
  s += pairs_markdown(catalog, columns);
  s += explore_markdown(explore);
  return s;
}

namespace {

MatrixFiles write_both(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns, const ExploreSection& explore,
                       const fs::path& out_dir) {
  MatrixFiles files{out_dir / "report.html", out_dir / "MATRIX.md"};
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  auto write = [](const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw MatrixError(fmt::format("{}: cannot be written", p.string()));
  };
  write(files.html, matrix_html(catalog, columns, explore));
  write(files.markdown, matrix_markdown(catalog, columns, explore));
  return files;
}

}  // namespace

MatrixFiles write_matrix(const fs::path& catalog_file, const fs::path& results_dir, const fs::path& expectations_dir,
                         const fs::path& out_dir, const fs::path& repository) {
  auto catalog = ClaimsCatalog::load(catalog_file);
  auto columns = load_matrix_columns(results_dir, expectations_dir);
  return write_both(catalog, columns, load_explore_section(results_dir, repository), out_dir);
}

MatrixFiles write_matrix(const ClaimsCatalog& catalog, const std::vector<MatrixColumn>& columns, const fs::path& out_dir) {
  return write_both(catalog, columns, {}, out_dir);
}

}  // namespace termsuite
