#include "compare.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

bool failing(Outcome o) { return o == Outcome::fail || o == Outcome::timeout; }

std::string_view kind_title(ChangeKind k) {
  switch (k) {
    case ChangeKind::regression: return "regressions";
    case ChangeKind::fix: return "fixes";
    case ChangeKind::added: return "new tests";
    case ChangeKind::removed: return "removed tests";
    case ChangeKind::changed: return "changed";
  }
  return "?";
}

std::string counted(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string tally(const PlatformComparison& c) {
  return fmt::format("{}, {}, {} new, {} removed, {}", counted(c.count(ChangeKind::regression), "regression", "regressions"),
                     counted(c.count(ChangeKind::fix), "fix", "fixes"), c.count(ChangeKind::added),
                     c.count(ChangeKind::removed), fmt::format("{} changed", c.count(ChangeKind::changed)));
}

std::string platform_note(const PlatformComparison& c) {
  if (c.old_platform.empty() || c.new_platform.empty() || c.old_platform == c.new_platform) return {};
  return fmt::format("the files are for different platforms: {} (old) and {} (new)", c.old_platform, c.new_platform);
}

std::string heading(const PlatformComparison& c) {
  if (c.old_platform.empty()) return fmt::format("{} (new file)", c.new_platform);
  if (c.new_platform.empty()) return fmt::format("{} (removed file)", c.old_platform);
  if (c.old_platform == c.new_platform) return c.new_platform;
  return fmt::format("{} -> {}", c.old_platform, c.new_platform);
}

std::string outcome_text(const std::optional<Outcome>& o) { return o ? std::string(to_string(*o)) : "-"; }

RunResults read_results(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) throw std::runtime_error(fmt::format("{}: no such file", p.string()));
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot be read", p.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_stable_json(ss.str(), p.string());  // throws "<path>: <what>"
}

std::map<std::string, fs::path> results_files(const fs::path& dir) {
  std::map<std::string, fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file() && e.path().extension() == ".json" && !name.starts_with(".")) files[name] = e.path();
  }
  return files;
}

}  // namespace

std::size_t PlatformComparison::count(ChangeKind k) const {
  return static_cast<std::size_t>(std::count_if(changes.begin(), changes.end(), [k](const auto& c) { return c.kind == k; }));
}

PlatformComparison compare_runs(const RunResults& old_run, const RunResults& new_run) {
  PlatformComparison out;
  out.old_platform = old_run.platform.id;
  out.new_platform = new_run.platform.id;
  out.old_tests = old_run.tests.size();
  out.new_tests = new_run.tests.size();
  using Key = std::pair<std::string, std::string>;  // name, backend
  std::map<Key, const TestResult*> olds, news;
  for (const auto& t : old_run.tests) olds[{t.name, t.backend}] = &t;
  for (const auto& t : new_run.tests) news[{t.name, t.backend}] = &t;
  std::set<Key> keys;
  for (auto& [k, _] : olds) keys.insert(k);
  for (auto& [k, _] : news) keys.insert(k);
  for (const auto& key : keys) {
    auto oi = olds.find(key);
    auto ni = news.find(key);
    const TestResult* o = oi == olds.end() ? nullptr : oi->second;
    const TestResult* n = ni == news.end() ? nullptr : ni->second;
    TestChange c;
    c.name = key.first;
    c.claim = n ? n->claim : o->claim;
    if (o) c.was = o->outcome;
    if (n) c.now = n->outcome;
    if (!o) {
      c.kind = failing(n->outcome) ? ChangeKind::regression : ChangeKind::added;
      c.detail = n->detail;
      out.changes.push_back(std::move(c));
      continue;
    }
    if (!n) {
      c.kind = ChangeKind::removed;
      c.detail = o->detail;
      out.changes.push_back(std::move(c));
      continue;
    }
    if (o->outcome != n->outcome) c.fields.push_back({"outcome", std::string(to_string(o->outcome)), std::string(to_string(n->outcome))});
    if (o->claim != n->claim) c.fields.push_back({"claim", o->claim, n->claim});
    if (o->detail != n->detail) c.fields.push_back({"detail", o->detail, n->detail});
    std::set<std::string> observed_keys;
    for (auto& [k, _] : o->observed) observed_keys.insert(k);
    for (auto& [k, _] : n->observed) observed_keys.insert(k);
    for (const auto& k : observed_keys) {
      auto a = o->observed.find(k);
      auto b = n->observed.find(k);
      std::string was = a == o->observed.end() ? "-" : a->second;
      std::string now = b == n->observed.end() ? "-" : b->second;
      if (was != now) c.fields.push_back({"observed." + k, was, now});
    }
    if (c.fields.empty()) continue;
    if (!failing(o->outcome) && failing(n->outcome)) {
      c.kind = ChangeKind::regression;
      c.detail = n->detail;
    } else if ((failing(o->outcome) || o->outcome == Outcome::xfail) &&
               (n->outcome == Outcome::pass || n->outcome == Outcome::xpass)) {
      c.kind = ChangeKind::fix;
      c.detail = o->detail;
    } else {
      c.kind = ChangeKind::changed;
      c.detail = n->detail;
    }
    out.changes.push_back(std::move(c));
  }
  std::stable_sort(out.changes.begin(), out.changes.end(),
                   [](const auto& a, const auto& b) { return std::tie(a.kind, a.name) < std::tie(b.kind, b.name); });
  return out;
}

bool any_regression(const std::vector<PlatformComparison>& cs) {
  for (const auto& c : cs)
    if (c.count(ChangeKind::regression)) return true;
  return false;
}

std::string render_text(const std::vector<PlatformComparison>& cs) {
  std::string out;
  std::size_t regressions = 0;
  for (const auto& c : cs) {
    regressions += c.count(ChangeKind::regression);
    out += fmt::format("{}: {} ({} tests before, {} now)\n", heading(c), tally(c), c.old_tests, c.new_tests);
    if (auto note = platform_note(c); !note.empty()) out += fmt::format("  note: {}\n", note);
    for (auto kind : {ChangeKind::regression, ChangeKind::fix, ChangeKind::added, ChangeKind::removed, ChangeKind::changed}) {
      if (!c.count(kind)) continue;
      out += fmt::format("  {}:\n", kind_title(kind));
      for (const auto& t : c.changes) {
        if (t.kind != kind) continue;
        std::string line = fmt::format("    {} [{}]: ", t.name, t.claim);
        switch (kind) {
          case ChangeKind::regression:
          case ChangeKind::fix:
            line += fmt::format("{} -> {}", outcome_text(t.was), outcome_text(t.now));
            if (kind == ChangeKind::fix && t.now == Outcome::xpass) line += " (its expectations entry is now stale)";
            if (!t.detail.empty()) line += fmt::format(": {}{}", kind == ChangeKind::fix ? "was: " : "", t.detail);
            break;
          case ChangeKind::added:
            line += outcome_text(t.now);
            if (!t.detail.empty()) line += ": " + t.detail;
            break;
          case ChangeKind::removed:
            line += fmt::format("was {}", outcome_text(t.was));
            if (!t.detail.empty()) line += ": " + t.detail;
            break;
          case ChangeKind::changed:
            line += outcome_text(t.now);
            break;
        }
        out += line + "\n";
        for (const auto& f : t.fields) {
          // A regression's or fix's line says its outcomes and the detail that explains it.
          if (kind != ChangeKind::changed && (f.what == "outcome" || f.what == "detail")) continue;
          if (f.what == "outcome") out += fmt::format("      outcome: {} -> {}\n", f.was, f.now);
          else out += fmt::format("      {}: \"{}\" -> \"{}\"\n", f.what, f.was, f.now);
        }
      }
    }
  }
  out += regressions ? fmt::format("result: {}\n", counted(regressions, "regression", "regressions"))
                     : "result: no regression\n";
  return out;
}

namespace {
// A table cell: no line breaks, no unescaped pipes; code spans for names.
std::string cell(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n' || ch == '\r') out += ' ';
    else out += ch;
  }
  return out;
}
std::string code(std::string_view s) { return s.empty() ? std::string() : fmt::format("`{}`", cell(s)); }
}  // namespace

std::string render_markdown(const std::vector<PlatformComparison>& cs) {
  std::size_t regressions = 0;
  for (const auto& c : cs) regressions += c.count(ChangeKind::regression);
  std::string out = fmt::format("## termsuite compare: {}\n", regressions ? counted(regressions, "regression", "regressions")
                                                                          : "no regression");
  for (const auto& c : cs) {
    out += fmt::format("\n### {}\n\n{} ({} tests before, {} now)\n", cell(heading(c)), tally(c), c.old_tests, c.new_tests);
    if (auto note = platform_note(c); !note.empty()) out += fmt::format("\n> **Note:** {}\n", cell(note));
    for (auto kind : {ChangeKind::regression, ChangeKind::fix, ChangeKind::added, ChangeKind::removed, ChangeKind::changed}) {
      if (!c.count(kind)) continue;
      std::string title(kind_title(kind));
      title[0] = static_cast<char>(title[0] - 'a' + 'A');
      out += fmt::format("\n#### {} ({})\n\n", title, c.count(kind));
      if (kind == ChangeKind::changed) {
        out += "| test | claim | what | was | now |\n| --- | --- | --- | --- | --- |\n";
        for (const auto& t : c.changes)
          if (t.kind == kind)
            for (const auto& f : t.fields)
              out += fmt::format("| {} | {} | {} | {} | {} |\n", code(t.name), code(t.claim), cell(f.what), cell(f.was), cell(f.now));
        continue;
      }
      out += "| test | claim | was | now | detail |\n| --- | --- | --- | --- | --- |\n";
      for (const auto& t : c.changes) {
        if (t.kind != kind) continue;
        std::string now = outcome_text(t.now);
        if (kind == ChangeKind::regression) now = fmt::format("**{}**", now);
        out += fmt::format("| {} | {} | {} | {} | {} |\n", code(t.name), code(t.claim), outcome_text(t.was), now, cell(t.detail));
      }
    }
  }
  return out;
}

std::vector<PlatformComparison> compare_paths(const fs::path& old_path, const fs::path& new_path) {
  std::error_code ec;
  for (const auto& p : {old_path, new_path})
    if (!fs::exists(p, ec)) throw std::runtime_error(fmt::format("{}: no such file or folder", p.string()));
  const bool old_dir = fs::is_directory(old_path, ec), new_dir = fs::is_directory(new_path, ec);
  if (old_dir != new_dir)
    throw std::runtime_error(fmt::format("{} is a {} and {} a {}: give two results files or two folders of them",
                                         old_path.string(), old_dir ? "folder" : "file", new_path.string(),
                                         new_dir ? "folder" : "file"));
  std::vector<PlatformComparison> out;
  if (!old_dir) {
    auto c = compare_runs(read_results(old_path), read_results(new_path));
    c.label = new_path.filename().string();
    out.push_back(std::move(c));
    return out;
  }
  auto olds = results_files(old_path), news = results_files(new_path);
  if (olds.empty() && news.empty())
    throw std::runtime_error(fmt::format("no results files (*.json) in {} or {}", old_path.string(), new_path.string()));
  std::set<std::string> names;
  for (auto& [n, _] : olds) names.insert(n);
  for (auto& [n, _] : news) names.insert(n);
  for (const auto& name : names) {
    RunResults o, n;
    auto oi = olds.find(name);
    auto ni = news.find(name);
    if (oi != olds.end()) o = read_results(oi->second);
    if (ni != news.end()) n = read_results(ni->second);
    auto c = compare_runs(o, n);
    c.label = name;
    if (oi == olds.end()) c.old_platform.clear();
    if (ni == news.end()) c.new_platform.clear();
    out.push_back(std::move(c));
  }
  return out;
}

int compare_command(const CompareOptions& o) {
  auto cs = compare_paths(o.old_path, o.new_path);
  auto text = o.markdown ? render_markdown(cs)
                          : fmt::format("termsuite compare: {} -> {}\n", o.old_path.string(), o.new_path.string()) +
                                render_text(cs);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return any_regression(cs) ? 1 : 0;
}

}  // namespace termsuite::runner
