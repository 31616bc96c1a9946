#include "preflight_run.hpp"

#include <fstream>

#include <fmt/format.h>

#include "supervise.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

// The line of `output` that starts with `prefix` (a JSON object's first key), parsed.
nlohmann::json json_line(std::string_view output, std::string_view prefix, std::string_view what) {
  std::size_t at = 0;
  while ((at = output.find(prefix, at)) != std::string_view::npos) {
    if (at == 0 || output[at - 1] == '\n') break;
    ++at;
  }
  if (at == std::string_view::npos) throw EnvError(fmt::format("the {} printed no {}...}} line", what, prefix));
  auto line = output.substr(at, output.find('\n', at) - at);
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw EnvError(fmt::format("the {}'s {}...}} line is not JSON", what, prefix));
  return j;
}

}  // namespace

preflight::Report read_preflight_line(std::string_view output, std::string_view what) {
  auto j = json_line(output, "{\"preflight\"", what);
  try {
    return preflight::Report::from_json(j.at("preflight"));
  } catch (const std::exception& e) {
    throw EnvError(fmt::format("the {}'s preflight line is unreadable: {}", what, e.what()));
  }
}

SuiteAnswer read_suite_answer(std::string_view output, std::string_view what) {
  SuiteAnswer a;
  auto j = json_line(output, "{\"platform\"", what);
  try {
    a.platform = Platform::from_json(j.at("platform"));
  } catch (const std::exception& e) {
    throw EnvError(fmt::format("the {}'s platform line is unreadable: {}", what, e.what()));
  }
  a.report = read_preflight_line(output, what);
  return a;
}

void write_preflight_file(const fs::path& file, const preflight::Report& report) {
  fs::create_directories(file.parent_path());
  nlohmann::ordered_json j;
  j["preflight"] = report.to_json();
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (!out) throw EnvError(fmt::format("cannot write {}", file.string()));
}

void print_changes(const std::vector<preflight::Finding>& findings) {
  auto changed = preflight::changed_the_run(findings);
  if (changed.empty()) return;
  fmt::print("\n  preflight (what this machine changed; termsuite doctor shows every check):\n");
  for (const auto& f : changed) fmt::print("  {}\n", preflight::format_line(f));
}

}  // namespace termsuite::runner
