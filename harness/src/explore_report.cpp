#include "termsuite/explore_report.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "markup.hpp"
#include "termsuite/matrix.hpp"
#include "termsuite/platform.hpp"

namespace fs = std::filesystem;

namespace termsuite {

using markup::h;
using markup::md;
using markup::md_block;
using markup::md_code;
using markup::md_span;

int ExploreRun::new_findings() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const ExploreFinding& f) { return !f.known_because; }));
}

int ExploreRun::known_findings() const { return static_cast<int>(findings.size()) - new_findings(); }

namespace {

using Json = nlohmann::json;

// ---- The model, from the file ----------------------------------------------------------------

struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The member `key` of `j` (whose place in the file is `where`), of the kind `is` accepts.
const Json& member(const Json& j, const std::string& where, std::string_view key, bool (Json::*is)() const noexcept,
                   std::string_view kind) {
  const std::string name = where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
  auto it = j.find(key);
  if (it == j.end()) throw Malformed(fmt::format("no \"{}\"", name));
  if (!((*it).*is)()) throw Malformed(fmt::format("\"{}\" is not {}", name, kind));
  return *it;
}

std::string text_of(const Json& j, const std::string& where, std::string_view key) {
  return member(j, where, key, &Json::is_string, "a string").get<std::string>();
}

double number_of(const Json& j, const std::string& where, std::string_view key) {
  double v = member(j, where, key, &Json::is_number, "a number").get<double>();
  if (v < 0) throw Malformed(fmt::format("\"{}\" is negative", key));
  return v;
}

int count_of(const Json& j, const std::string& where, std::string_view key) {
  const auto& v = member(j, where, key, &Json::is_number_unsigned, "a count");
  if (v.get<std::uint64_t>() > 1'000'000'000u) throw Malformed(fmt::format("\"{}\" is out of range", key));
  return v.get<int>();
}

std::vector<std::string> texts_of(const Json& j, const std::string& where, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& v : member(j, where, key, &Json::is_array, "a list")) {
    if (!v.is_string()) throw Malformed(fmt::format("\"{}\" holds a value that is not a string", key));
    out.push_back(v.get<std::string>());
  }
  return out;
}

// A finding's scenario file, as the explorer names it: relative to its results file's folder,
// inside it, in plain characters (it is shown in commands to copy).
bool plain_relative_path(std::string_view p) {
  if (p.empty() || p.front() == '/') return false;
  if (!std::all_of(p.begin(), p.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '/';
      }))
    return false;
  for (const auto& part : fs::path(p))
    if (part == "..") return false;
  return true;
}

// A path as one word of a POSIX shell command line: quoted when it holds anything but plain
// characters.
std::string shell_word(std::string_view p) {
  if (plain_relative_path(p) || (!p.empty() && p.front() == '/' && plain_relative_path(p.substr(1)))) return std::string(p);
  std::string q = "'";
  for (char c : p) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ExploreFinding finding_of(const Json& j, int number, std::string_view explore_dir) {
  const std::string where = fmt::format("findings[{}]", number - 1);
  if (!j.is_object()) throw Malformed(fmt::format("\"{}\" is not an object", where));
  ExploreFinding f;
  f.number = number;
  f.signature = text_of(j, where, "signature");
  const auto status = text_of(j, where, "status");
  if (status == "known") f.known_because = text_of(j, where, "known_because");
  else if (status != "new") throw Malformed(fmt::format("\"{}.status\" is \"{}\", not \"new\" or \"known\"", where, status));
  f.claims = texts_of(j, where, "claims");
  f.steps = count_of(j, where, "steps");
  f.original_steps = count_of(j, where, "original_steps");
  f.confirmations = text_of(j, where, "confirmations");
  f.scenario = text_of(j, where, "scenario");
  const std::string at = where + ".first_difference";
  const auto& d = member(j, where, "first_difference", &Json::is_object, "an object");
  f.line = static_cast<std::size_t>(count_of(d, at, "line"));
  f.model = text_of(d, at, "model");
  f.live = text_of(d, at, "live");
  f.last_agreement = text_of(d, at, "last_agreement");
  const auto file = text_of(j, where, "file");
  if (!plain_relative_path(file))
    throw Malformed(fmt::format("\"{}.file\" \"{}\" is not a path inside the explorer's folder", where, file));
  f.scenario_file = explore_dir.empty() ? file : fmt::format("{}/{}", explore_dir, file);
  const auto word = shell_word(f.scenario_file);
  f.replay_model = "build/native/bin/termsim run " + word;
  f.replay_platform = "./termsuite explore --replay " + word;
  return f;
}

// ---- Shared by both renderers ----------------------------------------------------------------

std::string seconds_text(double s) { return fmt::format("{:g} s", s); }

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string budget_text(const ExploreRun& r) { return r.budget_seconds ? seconds_text(*r.budget_seconds) : "not recorded"; }

std::string scenarios_text(const ExploreRun& r) {
  return fmt::format("{} in {} ({:.0f} a minute)", r.scenarios, seconds_text(r.seconds), r.scenarios_per_minute);
}

std::string status_text(const ExploreFinding& f) { return f.known_because ? "known" : "new"; }

// The explorer counts a scenario's steps without the awaits the model adds.
std::string size_text(const ExploreFinding& f) {
  return fmt::format("{} besides the awaits, shrunk from {}; confirmed by {} re-runs",
                     plural(static_cast<std::size_t>(f.steps), "step", "steps"), f.original_steps, f.confirmations);
}

// The first difference as three labelled lines: the last line both traces agree on, then the
// model's line and the platform's.
std::vector<std::pair<std::string_view, std::string>> difference_lines(const ExploreFinding& f) {
  auto or_nothing = [](const std::string& line) { return line.empty() ? std::string("(nothing: its trace ends before)") : line; };
  return {{"agree", f.last_agreement.empty() ? std::string("(none: the traces differ from their first line)") : f.last_agreement},
          {"model", or_nothing(f.model)},
          {"platform", or_nothing(f.live)}};
}

constexpr std::string_view kIntro =
    "scenarios nobody wrote, each predicted by the simulator and played on the platform by `termsuite explore`. Where "
    "the platform's trace differs from the model's, the disagreement is played again to confirm it, shrunk to the "
    "smallest scenario that still shows it, and triaged: known when the platform's expectations already list it, else "
    "new, with the claims whose rules it is about. A new finding is a question, not a verdict: the platform deviates "
    "from the documents or the model does, and Windows decides.";

// kIntro in HTML: its code spans as <code>.
std::string intro_html() {
  std::string s, text = h(kIntro);
  bool open = false;
  for (char c : text) {
    if (c == '`') s += (open = !open) ? "<code>" : "</code>";
    else s += c;
  }
  return s;
}

// ---- HTML ------------------------------------------------------------------------------------

std::string claim_link_html(const std::string& claim, const std::set<std::string>& claim_rows) {
  if (!claim_rows.contains(claim)) return fmt::format("<code>{}</code>", h(claim));
  return fmt::format("<a href=\"#claim-{0}\"><code>{0}</code></a>", h(claim));
}

std::string run_row_html(const ExploreRun& r, const std::set<std::string>& claim_rows) {
  std::string s = fmt::format("<tr data-platform=\"{0}\"><td class=\"pid\" title=\"{1}\"><code>{0}</code></td>", h(r.platform), h(r.file));
  s += fmt::format("<td class=\"seed\">{}</td><td class=\"budget\">{}</td>", r.seed, h(budget_text(r)));
  s += fmt::format("<td class=\"scenarios\">{}</td><td class=\"disagreements\">{}</td>", h(scenarios_text(r)), r.disagreements);
  s += fmt::format("<td class=\"flaky\">{}", r.flaky);
  if (!r.flaky_signatures.empty()) {
    s += "<ul>";
    for (const auto& sig : r.flaky_signatures) s += fmt::format("<li><code>{}</code></li>", h(sig));
    s += "</ul>";
  }
  s += fmt::format("</td><td class=\"findings\"><span class=\"f-count{}\">{} new</span> \xC2\xB7 {} known</td>",
                   r.new_findings() ? " f-new" : "", r.new_findings(), r.known_findings());
  s += fmt::format("<td class=\"covered\">{} \xC2\xB7 ", plural(r.mutants_covered.size(), "mutant", "mutants"));
  if (r.claims_covered.empty()) {
    s += "0 claims</td></tr>\n";
    return s;
  }
  s += fmt::format("<details><summary>{}</summary>", plural(r.claims_covered.size(), "claim", "claims"));
  for (std::size_t i = 0; i < r.claims_covered.size(); ++i) s += (i ? ", " : "") + claim_link_html(r.claims_covered[i], claim_rows);
  s += "</details></td></tr>\n";
  return s;
}

std::string finding_html(const ExploreRun& r, const ExploreFinding& f, const std::set<std::string>& claim_rows) {
  const auto status = status_text(f);
  std::string s = fmt::format("<section class=\"finding\" id=\"finding-{0}-{1}\" data-platform=\"{0}\" data-status=\"{2}\">\n",
                              h(r.platform), f.number, status);
  s += fmt::format("<h3><span class=\"chip f-{0}\">{0}</span> <code class=\"signature\">{1}</code> <span class=\"where\">{2}, "
                   "finding {3}</span></h3>\n",
                   status, h(f.signature), h(r.platform), f.number);
  if (f.known_because) s += fmt::format("<p class=\"known\">known: {}</p>\n", h(*f.known_because));
  s += "<p class=\"claims\">";
  if (f.claims.empty()) {
    s += "claims: none named (no mutant of the model answers otherwise at that line)";
  } else {
    s += f.claims.size() == 1 ? "claim: " : "claims: ";
    for (std::size_t i = 0; i < f.claims.size(); ++i) s += (i ? ", " : "") + claim_link_html(f.claims[i], claim_rows);
  }
  s += fmt::format("</p>\n<p class=\"size\">the minimal scenario ({}):</p>\n<pre class=\"scenario\"><code>{}</code></pre>\n",
                   h(size_text(f)), h(f.scenario));
  s += fmt::format("<p>where the traces first differ, at line {}:</p>\n<pre class=\"difference\">", f.line + 1);
  for (const auto& [label, line] : difference_lines(f))
    s += fmt::format("<span class=\"d-{0}\">{1:<9} {2}</span>\n", label, std::string(label) + ":", h(line));
  s.pop_back();  // the last line's newline: the <pre> ends with the text
  s += fmt::format("</pre>\n<p class=\"replay\">replay it on the model: <code>{}</code>; on the platform: <code>{}</code> "
                   "(<code>termsuite.exe</code> on Windows)</p>\n</section>\n",
                   h(f.replay_model), h(f.replay_platform));
  return s;
}

// ---- Markdown --------------------------------------------------------------------------------

std::string finding_markdown(const ExploreRun& r, const ExploreFinding& f) {
  std::string s = fmt::format("\n### {} finding {}: {}\n\n", md_code(r.platform), f.number, status_text(f));
  s += fmt::format("Signature: {}.", md_span(f.signature));
  if (f.known_because) s += fmt::format(" Known: {}.", md(*f.known_because));
  if (f.claims.empty()) {
    s += " Claims: none named (no mutant of the model answers otherwise at that line).";
  } else {
    s += f.claims.size() == 1 ? " Claim:" : " Claims:";
    for (std::size_t i = 0; i < f.claims.size(); ++i) s += (i ? ", " : " ") + md_code(f.claims[i]);
    s += ".";
  }
  s += fmt::format("\n\nThe minimal scenario ({}):\n\n{}", md(size_text(f)), md_block(f.scenario));
  s += fmt::format("\nWhere the traces first differ, at line {}:\n\n", f.line + 1);
  std::string lines;
  for (const auto& [label, line] : difference_lines(f)) lines += fmt::format("{:<9} {}\n", std::string(label) + ":", line);
  s += md_block(lines);
  s += fmt::format("\nReplay it on the model: {}; on the platform: {} (`termsuite.exe` on Windows).\n", md_span(f.replay_model),
                   md_span(f.replay_platform));
  return s;
}

}  // namespace

ExploreRun parse_explore_run(std::string_view text, const std::string& file, std::string_view explore_dir) {
  try {
    const auto j = Json::parse(text);
    if (!j.is_object()) throw Malformed("not a JSON object");
    ExploreRun r;
    r.file = fs::path(file).filename().string();
    r.platform = text_of(j, "", "platform");
    if (auto problem = platform_id_problem(r.platform); !problem.empty()) throw Malformed(fmt::format("\"platform\": {}", problem));
    r.seed = member(j, "", "seed", &Json::is_number_unsigned, "a count").get<std::uint64_t>();
    if (j.contains("budget_seconds")) r.budget_seconds = number_of(j, "", "budget_seconds");
    r.seconds = number_of(j, "", "seconds");
    r.scenarios = count_of(j, "", "scenarios");
    r.scenarios_per_minute = number_of(j, "", "scenarios_per_minute");
    r.disagreements = count_of(j, "", "disagreements");
    r.flaky = count_of(j, "", "flaky");
    if (j.contains("flaky_signatures")) r.flaky_signatures = texts_of(j, "", "flaky_signatures");
    r.mutants_covered = texts_of(j, "", "mutants_covered");
    r.claims_covered = texts_of(j, "", "claims_covered");
    int number = 0;
    for (const auto& f : member(j, "", "findings", &Json::is_array, "a list")) r.findings.push_back(finding_of(f, ++number, explore_dir));
    return r;
  } catch (const std::exception& e) {  // Malformed, and the parser's own errors
    throw MatrixError(fmt::format("{}: not an explorer results file: {}", file, e.what()));
  }
}

ExploreSection load_explore_section(const fs::path& results_dir, const fs::path& repository) {
  ExploreSection section;
  const fs::path dir = results_dir / "explore";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return section;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
  if (ec) throw MatrixError(fmt::format("{}: cannot be listed: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  // How the commands name the folder: relative to the repository when it is inside it.
  std::string shown = dir.generic_string();
  if (!repository.empty()) {
    auto rel = fs::relative(dir, repository, ec);
    if (!ec && !rel.empty() && *rel.begin() != "..") shown = rel.generic_string();
  }
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof()) throw MatrixError(fmt::format("{}: cannot be read", file.string()));
    auto run = parse_explore_run(ss.str(), file.string(), shown);
    if (run.platform != file.stem().string())
      throw MatrixError(fmt::format("{}: not an explorer results file: its platform is {}, not its name", file.string(), run.platform));
    for (const auto& f : run.findings) {
      const auto scn = dir / fs::path(f.scenario_file).lexically_relative(shown);
      if (!fs::is_regular_file(scn, ec))
        throw MatrixError(fmt::format("{}: finding {}'s scenario file {} is missing", file.string(), f.number, scn.string()));
    }
    section.runs.push_back(std::move(run));
  }
  return section;
}

std::string explore_html(const ExploreSection& section, const std::set<std::string>& claim_rows) {
  if (section.empty()) return {};
  std::string s = "<h2 id=\"explorer\">Explorer findings</h2>\n";
  s += fmt::format("<p id=\"explorer-summary\">From <code>results/explore/*.json</code>: {}</p>\n", intro_html());
  s += "<div class=\"scroll\">\n<table id=\"explore-runs\" class=\"explore\">\n<thead>\n<tr><th scope=\"col\">platform</th>"
       "<th scope=\"col\">seed</th><th scope=\"col\">budget</th><th scope=\"col\">scenarios</th><th scope=\"col\">disagreements</th>"
       "<th scope=\"col\">flaky</th><th scope=\"col\">findings</th><th scope=\"col\" title=\"the model's mutants (each one rule "
       "wrong) that some scenario told apart from the model, and their claims\">covered</th></tr>\n</thead>\n<tbody>\n";
  for (const auto& r : section.runs) s += run_row_html(r, claim_rows);
  s += "</tbody>\n</table>\n</div>\n";
  for (const auto& r : section.runs)
    for (const auto& f : r.findings) s += finding_html(r, f, claim_rows);
  return s;
}

std::string explore_markdown(const ExploreSection& section) {
  if (section.empty()) return {};
  std::string s = fmt::format("\n## Explorer findings\n\nFrom `results/explore/*.json`: {}\n\n", kIntro);
  s += "| platform | seed | budget | scenarios | disagreements | flaky | findings | covered |\n"
       "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& r : section.runs)
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} new, {} known | {}, {} |\n", md_code(r.platform), r.seed, md(budget_text(r)),
                     md(scenarios_text(r)), r.disagreements, r.flaky, r.new_findings(), r.known_findings(),
                     plural(r.mutants_covered.size(), "mutant", "mutants"), plural(r.claims_covered.size(), "claim", "claims"));
  for (const auto& r : section.runs) {
    if (r.flaky_signatures.empty()) continue;
    s += fmt::format("\nFlaky on {} (a difference not every re-run showed again):", md_code(r.platform));
    for (std::size_t i = 0; i < r.flaky_signatures.size(); ++i) s += (i ? "; " : " ") + md_span(r.flaky_signatures[i]);
    s += "\n";
  }
  for (const auto& r : section.runs)
    for (const auto& f : r.findings) s += finding_markdown(r, f);
  return s;
}

}  // namespace termsuite
