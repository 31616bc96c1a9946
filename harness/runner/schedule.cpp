#include "schedule.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace termsuite::runner {

Timings load_timings(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  Timings t;
  if (j.is_discarded() || !j.is_object()) return t;
  for (const auto& [name, seconds] : j.items())
    if (seconds.is_number() && seconds.get<double>() >= 0) t[name] = seconds.get<double>();
  return t;
}

Timings updated_timings(Timings previous, const std::vector<TestResult>& tests) {
  for (const auto& r : tests)
    if (r.seconds > 0) previous[r.name] = r.seconds;
  return previous;
}

bool save_timings(const fs::path& file, const Timings& timings) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [name, seconds] : timings) j[name] = std::round(seconds * 1000) / 1000;
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << j.dump(1) << "\n";
  return static_cast<bool>(out);
}

bool runs_alone(const std::string& name, const std::vector<std::string>& names, const Timings& timings,
                const std::set<std::string>& may_run_long) {
  if (!may_run_long.contains(name)) return false;
  const auto it = timings.find(name);
  if (it == timings.end()) return true;  // from the first run on
  double longest_other = 0;
  for (const auto& other : names)
    if (!may_run_long.contains(other))
      if (auto t = timings.find(other); t != timings.end()) longest_other = std::max(longest_other, t->second);
  return it->second > longest_other;
}

namespace {
std::vector<std::vector<std::string>> deal(const std::vector<std::string>& names, int shards, const Timings& timings);
}  // namespace

std::vector<std::vector<std::string>> plan_shards(const std::vector<std::string>& names, int shards,
                                                  const Timings& timings, const std::set<std::string>& may_run_long) {
  std::vector<std::string> dealt, alone;
  for (const auto& name : names) (runs_alone(name, names, timings, may_run_long) ? alone : dealt).push_back(name);
  auto plan = deal(dealt, shards, timings);
  for (auto& name : alone) plan.push_back({std::move(name)});
  return plan;
}

namespace {
std::vector<std::vector<std::string>> deal(const std::vector<std::string>& names, int shards, const Timings& timings) {
  const auto n = static_cast<std::size_t>(std::max(1, shards));
  std::vector<std::vector<std::size_t>> picked(n);  // indexes into names, per shard
  std::vector<double> known;
  for (const auto& name : names)
    if (auto it = timings.find(name); it != timings.end()) known.push_back(it->second);
  if (known.empty()) {
    for (std::size_t i = 0; i < names.size(); ++i) picked[i % n].push_back(i);
  } else {
    std::sort(known.begin(), known.end());
    const double median = known.size() % 2 ? known[known.size() / 2]
                                           : (known[known.size() / 2 - 1] + known[known.size() / 2]) / 2;
    std::vector<double> cost(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto it = timings.find(names[i]);
      cost[i] = it != timings.end() ? it->second : median;
    }
    std::vector<std::size_t> order(names.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Longest first; equal lengths in listing order, so the plan is the same every time.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });
    std::vector<double> load(n, 0.0);
    for (std::size_t i : order) {
      // The least loaded shard; of equal ones, the one with fewer tests, then the first.
      std::size_t best = 0;
      for (std::size_t s = 1; s < n; ++s)
        if (load[s] < load[best] || (load[s] == load[best] && picked[s].size() < picked[best].size())) best = s;
      load[best] += cost[i];
      picked[best].push_back(i);
    }
  }
  std::vector<std::vector<std::string>> plan;
  for (auto& indexes : picked) {
    if (indexes.empty()) continue;
    std::sort(indexes.begin(), indexes.end());
    auto& list = plan.emplace_back();
    for (std::size_t i : indexes) list.push_back(names[i]);
  }
  return plan;
}
}  // namespace

std::vector<double> planned_seconds(const std::vector<std::vector<std::string>>& plan, const Timings& timings) {
  std::vector<double> out;
  for (const auto& list : plan) {
    double s = 0;
    for (const auto& name : list)
      if (auto it = timings.find(name); it != timings.end()) s += it->second;
    out.push_back(s);
  }
  return out;
}

std::string exact_filter(const std::vector<std::string>& names) {
  std::string f;
  for (const auto& name : names) {
    if (!f.empty()) f += ':';
    f += name;
  }
  return f;
}

}  // namespace termsuite::runner
