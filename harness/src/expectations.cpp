#include "termsuite/expectations.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace termsuite {

namespace {
[[noreturn]] void fail(std::string_view origin, std::string_view what) {
  throw ExpectationsError(fmt::format("{}: {}", origin, what));
}

std::string string_field(const nlohmann::json& obj, const char* key, std::string_view origin, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get<std::string>().empty())
    fail(origin, fmt::format("{}: \"{}\" must be a non-empty string", where, key));
  return it->get<std::string>();
}
}  // namespace

Expectations Expectations::parse(std::string_view text, std::string_view origin, std::string_view platform_id) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) fail(origin, "not valid JSON");
  if (!j.is_object()) fail(origin, "the top level must be an object");
  for (auto& [key, _] : j.items())
    if (key != "platform" && key != "deviations" && key != "comment") fail(origin, fmt::format("unknown key \"{}\"", key));
  Expectations e;
  e.origin_ = std::string(origin);
  e.platform_ = string_field(j, "platform", origin, "top level");
  if (!platform_id.empty() && e.platform_ != platform_id)
    fail(origin, fmt::format("is for platform \"{}\", not \"{}\"", e.platform_, platform_id));
  auto devs = j.find("deviations");
  if (devs == j.end() || !devs->is_array()) fail(origin, "\"deviations\" must be an array");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < devs->size(); ++i) {
    const auto& d = (*devs)[i];
    std::string where = fmt::format("deviation #{}", i + 1);
    if (!d.is_object()) fail(origin, where + " must be an object");
    for (auto& [key, _] : d.items())
      if (key != "test" && key != "claim" && key != "expect" && key != "reason")
        fail(origin, fmt::format("{}: unknown key \"{}\"", where, key));
    Deviation dev;
    dev.test = string_field(d, "test", origin, where);
    where = fmt::format("deviation for {}", dev.test);
    dev.claim = string_field(d, "claim", origin, where);
    dev.reason = string_field(d, "reason", origin, where);
    auto expect = string_field(d, "expect", origin, where);
    if (expect == "fail") dev.expect = Outcome::fail;
    else if (expect == "timeout") dev.expect = Outcome::timeout;
    else fail(origin, fmt::format("{}: \"expect\" must be \"fail\" or \"timeout\", not \"{}\"", where, expect));
    if (!seen.insert(dev.test).second) fail(origin, fmt::format("{} is listed twice", dev.test));
    e.deviations_.push_back(std::move(dev));
  }
  e.from_file_ = true;
  return e;
}

Expectations Expectations::load_for(const std::filesystem::path& dir, std::string_view platform_id) {
  auto file = dir / (std::string(platform_id) + ".json");
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    Expectations e;
    e.platform_ = std::string(platform_id);
    e.origin_ = file.string();
    return e;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ExpectationsError(fmt::format("{}: cannot be read", file.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), file.string(), platform_id);
}

const Deviation* Expectations::find(std::string_view test) const {
  for (const auto& d : deviations_)
    if (d.test == test) return &d;
  return nullptr;
}

}  // namespace termsuite
