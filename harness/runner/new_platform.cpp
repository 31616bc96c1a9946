#include "new_platform.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "supervise.hpp"
#include "termsuite/expectations.hpp"
#include "termsuite/platform.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

void check_expectations_source(const fs::path& dir, const std::string& from) {
  if (auto problem = platform_id_problem(from); !problem.empty())
    throw EnvError(fmt::format("--expectations-from: {}", problem));
  std::error_code ec;
  if (!fs::is_regular_file(dir / (from + ".json"), ec))
    throw EnvError(fmt::format("--expectations-from {}: no such platform ({} does not exist)", from,
                               (dir / (from + ".json")).string()));
}

bool start_expectations_from(const fs::path& dir, const std::string& from, const std::string& id) {
  const auto target = dir / (id + ".json");
  std::error_code ec;
  if (fs::exists(target, ec) || from == id) return false;
  const auto source = dir / (from + ".json");
  std::ifstream in(source, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  Expectations::parse(text.str(), source.string(), from);  // sound, or ExpectationsError (exit 2)
  auto j = nlohmann::ordered_json::parse(text.str());
  const std::string was = j.value("comment", "");
  nlohmann::ordered_json out;
  out["platform"] = id;
  out["comment"] = fmt::format(
      "Begun as a copy of {}.json (termsuite conform --expectations-from {}): {}'s known deviations, assumed of {} "
      "until its runs say otherwise (a deviation it does not show fails the gate as XPASS: remove it).{}",
      from, from, from, id, was.empty() ? std::string() : fmt::format(" {}: {}", from, was));
  for (const auto& [key, value] : j.items())
    if (key != "platform" && key != "comment") out[key] = value;
  const auto tmp = dir / (id + ".json.tmp");
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o << out.dump(2) << "\n";
    if (!o) throw EnvError(fmt::format("cannot write {}", tmp.string()));
  }
  fs::rename(tmp, target);
  return true;
}

}  // namespace termsuite::runner
