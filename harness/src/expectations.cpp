#include "termsuite/expectations.hpp"

#include <charconv>
#include <fstream>
#include <limits>
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

// "10.0.22631" -> {10, 0, 22631}: `min_parts` to 3 decimal numbers separated by dots.
std::optional<VersionNumbers> parse_version(std::string_view text, std::size_t min_parts) {
  VersionNumbers v{};
  std::size_t n = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (;;) {
    if (n == v.size() || p == end || *p < '0' || *p > '9') return std::nullopt;
    auto [next, ec] = std::from_chars(p, end, v[n]);
    if (ec != std::errc()) return std::nullopt;
    ++n;
    p = next;
    if (p == end) break;
    if (*p != '.') return std::nullopt;
    ++p;
  }
  if (n < min_parts) return std::nullopt;
  return v;
}

std::string version_text(const VersionNumbers& v) { return fmt::format("{}.{}.{}", v[0], v[1], v[2]); }

// {"min": ..., "max": ...}: at least one bound, min <= max.
template <typename T, typename ParseBound, typename Show>
Range<T> parse_range(const nlohmann::json& j, std::string_view origin, const std::string& where, ParseBound parse_bound,
                     Show show) {
  if (!j.is_object()) fail(origin, fmt::format("{} must be an object with \"min\" and/or \"max\"", where));
  Range<T> r;
  for (auto& [key, value] : j.items()) {
    if (key == "min") r.min = parse_bound(value, fmt::format("{}.min", where));
    else if (key == "max") r.max = parse_bound(value, fmt::format("{}.max", where));
    else fail(origin, fmt::format("{}: unknown key \"{}\" (a range has \"min\" and \"max\")", where, key));
  }
  if (!r.min && !r.max) fail(origin, fmt::format("{} is an empty condition: give \"min\", \"max\" or both", where));
  if (r.min && r.max && *r.max < *r.min)
    fail(origin, fmt::format("{} is empty: min {} is above max {}", where, show(*r.min), show(*r.max)));
  return r;
}

Condition parse_condition(const nlohmann::json& j, std::string_view origin, const std::string& where) {
  if (!j.is_object()) fail(origin, fmt::format("{}: \"when\" must be an object", where));
  if (j.empty()) fail(origin, fmt::format("{}: \"when\" is empty (leave it out for every platform)", where));
  auto version_bound = [&](std::size_t min_parts, const char* form) {
    return [&origin, min_parts, form](const nlohmann::json& v, const std::string& at) {
      if (!v.is_string()) fail(origin, fmt::format("{} must be a string of the form {}", at, form));
      auto parsed = parse_version(v.get<std::string>(), min_parts);
      if (!parsed) fail(origin, fmt::format("{} \"{}\" is not a version of the form {}", at, v.get<std::string>(), form));
      return *parsed;
    };
  };
  auto build_bound = [&origin](const nlohmann::json& v, const std::string& at) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max())
      fail(origin, fmt::format("{} must be a build number (a non-negative integer), not {}", at, v.dump()));
    return v.get<std::uint32_t>();
  };
  auto one_of = [&](const nlohmann::json& v, const std::string& at, std::initializer_list<std::string_view> allowed) {
    std::string list;
    for (auto a : allowed) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", a);
    if (!v.is_string()) fail(origin, fmt::format("{} must be one of {}", at, list));
    auto s = v.get<std::string>();
    for (auto a : allowed)
      if (s == a) return s;
    fail(origin, fmt::format("{} must be one of {}, not \"{}\"", at, list, s));
  };
  Condition c;
  for (auto& [key, value] : j.items()) {
    std::string at = fmt::format("{}: when.{}", where, key);
    if (key == "os") c.os = one_of(value, at, {"windows", "wine", "linux"});
    else if (key == "arch") c.arch = one_of(value, at, {"x86_64", "x86", "arm64"});
    else if (key == "version")
      c.version = parse_range<VersionNumbers>(value, origin, at, version_bound(3, "major.minor.build"), version_text);
    else if (key == "wine")
      c.wine = parse_range<VersionNumbers>(value, origin, at, version_bound(2, "major.minor[.patch]"), version_text);
    else if (key == "build")
      c.build = parse_range<std::uint32_t>(value, origin, at, build_bound, [](std::uint32_t b) { return b; });
    else
      fail(origin, fmt::format("{}: unknown key \"{}\" in \"when\" (os, version, build, wine, arch)", where, key));
  }
  if (c.os == "windows" && c.wine) fail(origin, fmt::format("{}: \"when\" can never hold: os \"windows\" with a Wine version", where));
  return c;
}
}  // namespace

bool Condition::matches(const Platform& p) const {
  const bool under_wine = !p.wine.empty();
  if (os) {
    if (*os == "wine" && !under_wine) return false;
    if (*os == "windows" && (under_wine || p.os != "windows")) return false;
    if (*os == "linux" && p.os != "linux") return false;
  }
  if (arch && *arch != p.arch) return false;
  if (version || build) {
    auto v = parse_version(p.version, 3);  // a platform without a Windows version matches no range
    if (!v) return false;
    if (version && !version->contains(*v)) return false;
    if (build && !build->contains((*v)[2])) return false;
  }
  if (wine) {
    auto w = under_wine ? parse_version(p.wine, 2) : std::nullopt;  // "9.0-rc1" matches no range
    if (!w || !wine->contains(*w)) return false;
  }
  return true;
}

std::string expectations_family(const Platform& p) {
  if (p.arch.empty()) return {};
  if (!p.wine.empty()) return fmt::format("wine-{}", p.arch);
  if (p.os == "windows") return fmt::format("windows-{}", p.arch);
  if (p.os == "linux") return fmt::format("linux-{}", p.arch);  // the POSIX suite's, on any kernel
  return {};
}

Expectations Expectations::parse(std::string_view text, std::string_view origin, std::string_view file_platform) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) fail(origin, "not valid JSON");
  if (!j.is_object()) fail(origin, "the top level must be an object");
  for (auto& [key, _] : j.items())
    if (key != "platform" && key != "deviations" && key != "comment" && key != "explore")
      fail(origin, fmt::format("unknown key \"{}\"", key));
  Expectations e;
  e.origin_ = std::string(origin);
  e.platform_ = string_field(j, "platform", origin, "top level");
  if (!file_platform.empty() && e.platform_ != file_platform)
    fail(origin, fmt::format("is for platform \"{}\", not \"{}\"", e.platform_, file_platform));
  auto devs = j.find("deviations");
  if (devs == j.end() || !devs->is_array()) fail(origin, "\"deviations\" must be an array");
  for (std::size_t i = 0; i < devs->size(); ++i) {
    const auto& d = (*devs)[i];
    std::string where = fmt::format("deviation #{}", i + 1);
    if (!d.is_object()) fail(origin, where + " must be an object");
    for (auto& [key, _] : d.items())
      if (key != "test" && key != "claim" && key != "expect" && key != "reason" && key != "when")
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
    if (auto w = d.find("when"); w != d.end()) dev.when = parse_condition(*w, origin, where);
    for (const auto& earlier : e.entries_) {
      if (earlier.test != dev.test) continue;
      if (!earlier.when && !dev.when) fail(origin, fmt::format("{} is listed twice", dev.test));
      if (!earlier.when) fail(origin, fmt::format("{} is listed again after an entry without \"when\", which always applies first", dev.test));
      if (earlier.when == dev.when) fail(origin, fmt::format("{} is listed twice with the same \"when\"", dev.test));
    }
    e.entries_.push_back(std::move(dev));
  }
  for (const auto& dev : e.entries_)
    if (!dev.when) e.deviations_.push_back(dev);
  if (auto ex = j.find("explore"); ex != j.end()) {
    if (!ex->is_array()) fail(origin, "\"explore\" must be an array");
    for (std::size_t i = 0; i < ex->size(); ++i) {
      const auto& f = (*ex)[i];
      std::string where = fmt::format("explore finding #{}", i + 1);
      if (!f.is_object()) fail(origin, where + " must be an object");
      for (auto& [key, _] : f.items())
        if (key != "signature" && key != "claim" && key != "reason" && key != "scenario")
          fail(origin, fmt::format("{}: unknown key \"{}\"", where, key));
      ExploreFinding found{string_field(f, "signature", origin, where), string_field(f, "claim", origin, where),
                           string_field(f, "reason", origin, where)};
      for (const auto& earlier : e.explore_)
        if (earlier.signature == found.signature) fail(origin, fmt::format("{}: \"{}\" is listed twice", where, found.signature));
      e.explore_.push_back(std::move(found));
    }
  }
  e.from_file_ = true;
  return e;
}

void Expectations::select(const Platform& p) {
  deviations_.clear();
  for (const auto& dev : entries_) {
    if (dev.when && !dev.when->matches(p)) continue;
    if (find(dev.test)) continue;  // an earlier entry for this test applies
    deviations_.push_back(dev);
  }
}

Expectations Expectations::load_for(const std::filesystem::path& dir, const Platform& platform) {
  std::error_code ec;
  auto file = dir / (platform.id + ".json");
  std::string file_platform = platform.id;
  if (!std::filesystem::exists(file, ec)) {
    auto family = expectations_family(platform);
    auto family_file = dir / (family + ".json");
    if (family.empty() || !std::filesystem::exists(family_file, ec)) {
      Expectations e;
      e.platform_ = platform.id;
      e.origin_ = file.string();
      return e;
    }
    file = family_file;
    file_platform = family;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ExpectationsError(fmt::format("{}: cannot be read", file.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  auto e = parse(ss.str(), file.string(), file_platform);
  e.select(platform);
  return e;
}

const Deviation* Expectations::find(std::string_view test) const {
  for (const auto& d : deviations_)
    if (d.test == test) return &d;
  return nullptr;
}

}  // namespace termsuite
