#include "expectations_update.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "results_file.hpp"
#include "termsuite/expectations.hpp"

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace termsuite::runner {

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot be read", p.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string untriaged_reason(const TestResult& t) {
  return fmt::format("{}: {}", kUntriaged, t.detail.empty() ? "no detail in the results" : t.detail);
}

// A new entry of a family file holds on this platform alone: its Windows build, or its Wine version.
ojson condition_for(const Platform& p) {
  if (!p.wine.empty()) return ojson{{"os", "wine"}, {"wine", {{"min", p.wine}, {"max", p.wine}}}};
  auto last_dot = p.version.rfind('.');
  std::uint32_t build = 0;
  try {
    build = static_cast<std::uint32_t>(std::stoul(p.version.substr(last_dot == std::string::npos ? 0 : last_dot + 1)));
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("platform {} has no Windows build number in \"{}\" to limit a new entry to",
                                         p.id, p.version));
  }
  return ojson{{"os", "windows"}, {"build", {{"min", build}, {"max", build}}}};
}

// Does entry `d` (the file's i-th) hold on `p`?
bool holds(const Deviation& d, const Platform& p) { return !d.when || d.when->matches(p); }

}  // namespace

ExpectationsUpdate update_expectations(std::string_view existing, std::string_view origin, std::string_view file_platform,
                                       bool family, const RunResults& results) {
  const Platform& platform = results.platform;
  ojson doc;
  Expectations parsed;
  if (existing.empty()) {
    doc["platform"] = std::string(file_platform);
    doc["comment"] = fmt::format(
        "Known deviations of {} from the documents, each with its reason. A test listed here that passes fails the "
        "gate (xpass): remove its entry.",
        file_platform);
    doc["deviations"] = ojson::array();
  } else {
    parsed = Expectations::parse(existing, origin, file_platform);  // ExpectationsError if malformed
    doc = ojson::parse(existing);
  }
  const auto& entries = parsed.entries();  // the same order as doc["deviations"]

  // Which entry applies to each test here: the first whose condition holds.
  std::map<std::string, std::size_t> applies;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (holds(entries[i], platform)) applies.emplace(entries[i].test, i);

  std::map<std::string, const TestResult*> by_name;
  for (const auto& t : results.tests) by_name[t.name] = &t;

  ExpectationsUpdate u;
  std::set<std::size_t> remove;
  std::vector<ojson> added;
  for (const auto& [name, t] : by_name) {
    auto a = applies.find(name);
    switch (t->outcome) {
      case Outcome::pass:
      case Outcome::xpass:
        // Every entry for the test that holds here goes, or a later one would take its place.
        for (std::size_t i = 0; i < entries.size(); ++i) {
          if (entries[i].test != name || !holds(entries[i], platform)) continue;
          remove.insert(i);
          u.changes.push_back(fmt::format("removed {}: passes now{}", name,
                                          entries[i].when ? " (the entry had a \"when\": the other platforms it held on lose it too)" : ""));
        }
        break;
      case Outcome::fail:
      case Outcome::timeout: {
        const std::string expect(to_string(t->outcome));
        if (a == applies.end()) {
          if (t->claim.empty()) {
            u.notes.push_back(fmt::format("{} {}s but its result names no claim: no entry added", name, expect));
            break;
          }
          ojson e;
          e["test"] = name;
          e["claim"] = t->claim;
          e["expect"] = expect;
          e["reason"] = untriaged_reason(*t);
          if (family) e["when"] = condition_for(platform);
          u.changes.push_back(fmt::format("added {} (expect {}): {}", name, expect, e["reason"].get<std::string>()));
          added.push_back(std::move(e));
        } else if (entries[a->second].expect != t->outcome) {
          const auto& old = entries[a->second];
          auto& e = doc["deviations"][a->second];
          e["expect"] = expect;
          e["reason"] = is_untriaged(old) ? untriaged_reason(*t)
                                          : fmt::format("{} (the entry said '{}': {})", untriaged_reason(*t),
                                                        to_string(old.expect), old.reason);
          u.changes.push_back(fmt::format("changed {}: expect {} -> {}, reason {}", name, to_string(old.expect), expect,
                                          e["reason"].get<std::string>()));
        }
        // An entry that expects this outcome already: kept (an UNTRIAGED one keeps failing the gate).
        break;
      }
      case Outcome::xfail:
        if (a == applies.end())
          u.notes.push_back(fmt::format("{} was a known deviation in the run, but no entry holds for it now: left alone", name));
        break;
      case Outcome::skip: break;
      case Outcome::inconclusive:
        // The run could neither show the deviation nor its absence: an entry stays as it is.
        if (a != applies.end())
          u.notes.push_back(fmt::format("{} was inconclusive in the run: its entry is kept as it is", name));
        break;
    }
  }

  ojson deviations = ojson::array();
  std::size_t other_platforms = 0, not_in_results = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (remove.contains(i)) continue;
    if (!holds(entries[i], platform)) ++other_platforms;
    else if (!by_name.contains(entries[i].test)) ++not_in_results;
    deviations.push_back(doc["deviations"][i]);
  }
  for (auto& e : added) deviations.push_back(std::move(e));
  doc["deviations"] = std::move(deviations);
  if (other_platforms)
    u.notes.push_back(fmt::format("{} entr{} whose \"when\" does not hold on {}: untouched", other_platforms,
                                  other_platforms == 1 ? "y" : "ies", platform.id));
  if (not_in_results)
    u.notes.push_back(fmt::format("{} entr{} for tests the results do not have: untouched", not_in_results,
                                  not_in_results == 1 ? "y" : "ies"));
  u.text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  // The new file must be one the gate reads, and must list every failure of the run.
  auto check = Expectations::parse(u.text, origin, file_platform);
  check.select(platform);
  for (const auto& [name, t] : by_name) {
    if ((t->outcome == Outcome::fail || t->outcome == Outcome::timeout) && !t->claim.empty()) {
      const auto* d = check.find(name);
      if (!d || d->expect != t->outcome)
        throw std::runtime_error(fmt::format("{}: the updated file would not list {} as '{}'", origin, name, to_string(t->outcome)));
    }
  }
  for (const auto& d : check.entries()) u.untriaged += is_untriaged(d);
  return u;
}

int expectations_update_command(const UpdateOptions& o) {
  std::error_code ec;
  fs::path results_file;
  if (!o.platform.empty()) {
    results_file = o.results_dir / (o.platform + ".json");
    if (!fs::exists(results_file, ec))
      throw std::runtime_error(fmt::format("{}: no such file (run conform first)", results_file.string()));
  } else {
    std::vector<fs::path> candidates;
    if (fs::is_directory(o.results_dir, ec))
      for (const auto& e : fs::directory_iterator(o.results_dir)) {
        const auto name = e.path().filename().string();
        if (e.is_regular_file() && e.path().extension() == ".json" && name != "sim.json" && !name.starts_with(".") &&
            !name.ends_with(".partial.json"))
          candidates.push_back(e.path());
      }
    std::sort(candidates.begin(), candidates.end());
    if (candidates.empty())
      throw std::runtime_error(fmt::format("no platform results in {} (run conform first)", o.results_dir.string()));
    if (candidates.size() > 1) {
      std::string ids;
      for (const auto& c : candidates) ids += fmt::format("{}{}", ids.empty() ? "" : ", ", c.stem().string());
      throw std::runtime_error(fmt::format("results of several platforms in {} ({}): choose one with --platform",
                                           o.results_dir.string(), ids));
    }
    results_file = candidates.front();
  }
  const auto results = parse_stable_json(read_file(results_file), results_file.string());
  const auto& platform = results.platform;
  if (platform.id == "sim" || platform.os == "sim")
    throw std::runtime_error(fmt::format("{} holds the simulator's results, which have no expectations", results_file.string()));
  if (!o.platform.empty() && platform.id != o.platform)
    throw std::runtime_error(fmt::format("{} is for platform {}, not {}", results_file.string(), platform.id, o.platform));

  // The file the gate reads for this platform: its own, else its family's, else a new own file.
  fs::path file = o.expectations_dir / (platform.id + ".json");
  std::string file_platform = platform.id;
  bool family = false;
  if (!fs::exists(file, ec)) {
    const auto fam = expectations_family(platform);
    if (!fam.empty() && fs::exists(o.expectations_dir / (fam + ".json"), ec)) {
      file = o.expectations_dir / (fam + ".json");
      file_platform = fam;
      family = true;
    }
  }
  const bool exists = fs::exists(file, ec);
  const std::string before = exists ? read_file(file) : std::string();
  if (exists && before.empty()) throw ExpectationsError(fmt::format("{}: empty file", file.string()));
  auto u = update_expectations(before, file.string(), file_platform, family, results);

  fmt::print("termsuite expectations update: {}, from {}\n", platform.id, results_file.string());
  for (const auto& c : u.changes) fmt::print("  {}\n", c);
  for (const auto& n : u.notes) fmt::print("  note: {}\n", n);
  if (u.text == before) {
    fmt::print("{} is up to date (no change)\n", file.string());
  } else {
    write_file_atomically(file, u.text);
    fmt::print("wrote {}{}\n", file.string(), exists ? "" : " (new file)");
  }
  if (u.untriaged)
    fmt::print("{} UNTRIAGED entr{}: the gate fails each until its reason is written (replace \"UNTRIAGED: ...\")\n",
               u.untriaged, u.untriaged == 1 ? "y" : "ies");
  return 0;
}

}  // namespace termsuite::runner
