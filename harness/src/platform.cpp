#include "termsuite/platform.hpp"

#include <fmt/format.h>

namespace termsuite {

nlohmann::ordered_json Platform::to_json() const {
  nlohmann::ordered_json j;
  j["id"] = id;
  j["os"] = os;
  j["version"] = version;
  j["wine"] = wine;
  if (!flavour.empty()) j["flavour"] = flavour;  // absent for Wine's own builds: their files stay as they were
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
  p.flavour = j.value("flavour", "");
  p.host = j.value("host", "");
  p.arch = j.at("arch").get<std::string>();
  return p;
}

std::string make_platform_id(const Platform& p) {
  if (p.os == "sim") return "sim";
  if (!p.wine.empty())
    return p.flavour.empty() ? fmt::format("wine-{}-{}", p.wine, p.arch)
                             : fmt::format("wine-{}-{}-{}", p.wine, p.flavour, p.arch);
  return fmt::format("{}-{}-{}", p.os, p.version, p.arch);
}

std::string wine_flavour(std::string_view build_id) {
  // The notes are the parenthesised words after the version: "wine-9.0 (Staging)".
  for (auto open = build_id.find('('); open != std::string_view::npos; open = build_id.find('(', open + 1)) {
    auto close = build_id.find(')', open);
    if (close == std::string_view::npos) break;
    if (build_id.substr(open + 1, close - open - 1) == "Staging") return "staging";
  }
  return {};
}

std::string platform_id_problem(std::string_view id) {
  constexpr std::string_view kRule = "a platform id is 1 to 64 lowercase letters, digits, '.', '_' or '-', "
                                     "starting with a letter and ending with a letter or digit (e.g. wine-8.0-x86_64)";
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool ok = !id.empty() && id.size() <= 64 && lower(id.front()) && (lower(id.back()) || digit(id.back()));
  for (char c : id) ok = ok && (lower(c) || digit(c) || c == '.' || c == '_' || c == '-');
  if (ok && id.find("..") != std::string_view::npos) ok = false;
  return ok ? std::string() : fmt::format("'{}' is not a platform id: {}", id, kRule);
}

}  // namespace termsuite
