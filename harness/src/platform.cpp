#include "termsuite/platform.hpp"

#include <fmt/format.h>

namespace termsuite {

nlohmann::ordered_json Platform::to_json() const {
  nlohmann::ordered_json j;
  j["id"] = id;
  j["os"] = os;
  j["version"] = version;
  j["wine"] = wine;
  j["host"] = host;
  j["arch"] = arch;
  return j;
}

Platform Platform::from_json(const nlohmann::json& j) {
  Platform p;
  p.id = j.at("id").get<std::string>();
  p.os = j.at("os").get<std::string>();
  p.version = j.at("version").get<std::string>();
  p.wine = j.value("wine", "");
  p.host = j.value("host", "");
  p.arch = j.at("arch").get<std::string>();
  return p;
}

std::string make_platform_id(const Platform& p) {
  if (p.os == "sim") return "sim";
  if (!p.wine.empty()) return fmt::format("wine-{}-{}", p.wine, p.arch);
  return fmt::format("{}-{}-{}", p.os, p.version, p.arch);
}

}  // namespace termsuite
