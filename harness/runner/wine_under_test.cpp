#include "wine_under_test.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "supervise.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

bool executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  auto r = fs::canonical(p, ec);
  return ec ? fs::absolute(p) : r;
}

// The line of `output` that starts with `prefix` (the tools may print warnings around it).
std::string line_starting(std::string_view output, std::string_view prefix) {
  std::istringstream in{std::string(output)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with(prefix)) return line;
  }
  return {};
}

std::string first_line(std::string_view output) {
  auto nl = output.find('\n');
  return std::string(output.substr(0, nl));
}

// `program --version`, its output, within a short deadline: a Wine answers at once, without a
// prefix or a server.
Finished version_of(const fs::path& program) {
  Command c{program.string(), {"--version"}, {{"WINEDEBUG", "-all"}}, {}, {}};
  return run(c, Deadline::in(milliseconds(30'000)));
}

// "8.0" and "8.0" match; so do "9.5-123-gabcdef0" (a launcher built from git, `git describe`) and
// "9.5" (its server names the release only).
bool versions_match(const std::string& launcher, const std::string& server) {
  return launcher == server || (launcher.starts_with(server) && launcher[server.size()] == '-');
}

}  // namespace

std::optional<WineLayout> build_tree_layout(const fs::path& dir) {
  const auto server = dir / "server" / "wineserver";
  if (!executable_file(server)) return std::nullopt;
  for (const char* name : {"wine", "wine64"})
    if (executable_file(dir / name)) return WineLayout{fs::absolute(dir / name), fs::absolute(server)};
  return std::nullopt;
}

fs::path matching_server(const fs::path& launcher) {
  const auto dir = fs::absolute(launcher).parent_path();
  for (const auto& top : {dir, dir.parent_path()})  // the tree's top, or the launcher in its loader/
    if (auto tree = build_tree_layout(top)) return tree->server;
  for (const auto& beside : {dir, resolved(launcher).parent_path()})
    if (executable_file(beside / "wineserver")) return beside / "wineserver";
  return {};
}

std::string launcher_version(std::string_view line) {
  if (!line.starts_with("wine-")) return {};
  line.remove_prefix(5);
  return std::string(line.substr(0, line.find(' ')));
}

std::string server_version(std::string_view line) {
  if (!line.starts_with("Wine ")) return {};
  line.remove_prefix(5);
  return std::string(line.substr(0, line.find(' ')));
}

std::string WineUnderTest::key() const {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bits
  for (const auto& part : {resolved(launcher).string(), resolved(server).string(), version}) {
    for (unsigned char c : part) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  std::string name = "wine-" + launcher_version(version);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return fmt::format("{}-{:08x}", name, static_cast<std::uint32_t>(h ^ (h >> 32)));
}

WineUnderTest choose_wine(const std::string& path) {
  WineUnderTest w;
  std::string given = path;
  const char* env_wine = std::getenv("WINE");
  if (!given.empty()) {
    w.chosen_by = "--wine";
  } else if (env_wine && *env_wine) {
    given = env_wine;
    w.chosen_by = "WINE";
  } else {
    w.chosen_by = "PATH";
    for (const char* name : {"wine", "wine64"})
      if (given.empty()) given = find_program(name);
    if (given.empty()) throw EnvError("wine not found on PATH (./termsuite installs it; or give --wine PATH)");
  }
  const auto named = w.chosen_by == "WINE" ? fmt::format("WINE={}", given) : given;

  std::error_code ec;
  if (!fs::exists(given, ec)) throw EnvError(fmt::format("{}: no such file or folder", named));
  if (fs::is_directory(given, ec)) {
    auto tree = build_tree_layout(given);
    if (!tree)
      throw EnvError(fmt::format("{}: a folder, but not a Wine build tree (no wine and server/wineserver in it)", named));
    w.launcher = tree->launcher;
    w.server = tree->server;
  } else {
    if (!executable_file(given)) throw EnvError(fmt::format("{}: not an executable file", named));
    w.launcher = fs::absolute(given);
    w.server = matching_server(given);
  }
  if (const char* env_server = std::getenv("WINESERVER"); env_server && *env_server) {
    if (!executable_file(env_server)) throw EnvError(fmt::format("WINESERVER={}: not an executable file", env_server));
    w.server = fs::absolute(env_server);
  }
  if (w.server.empty())
    throw EnvError(fmt::format("{}: no wineserver beside it or in its build tree (set WINESERVER)", named));

  auto lv = version_of(w.launcher);
  w.version = line_starting(lv.output, "wine-");
  if (!lv.ok() || w.version.empty())
    throw EnvError(fmt::format("{} is not a Wine: `{} --version` {}", named, w.launcher.string(),
                               lv.timed_out ? "did not answer within 30 s"
                               : lv.exit_code != 0 ? fmt::format("exited with {}", lv.exit_code)
                                                   : fmt::format("printed '{}', not wine-<version>", first_line(lv.output))));
  auto sv = version_of(w.server);
  const auto server_line = line_starting(sv.output, "Wine ");
  if (!sv.ok() || server_line.empty())
    throw EnvError(fmt::format("{} is not a wineserver: `{} --version` {}", w.server.string(), w.server.string(),
                               sv.timed_out ? "did not answer within 30 s" : "printed no 'Wine <version>'"));
  if (!versions_match(launcher_version(w.version), server_version(server_line)))
    throw EnvError(fmt::format("{} is {} but its wineserver {} is {}: they must be of one build (set WINESERVER)",
                               w.launcher.string(), w.version, w.server.string(), server_line));
  return w;
}

}  // namespace termsuite::runner
