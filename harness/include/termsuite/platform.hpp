#pragma once
// Which platform a run happened on. Detected inside the Windows process (live backend):
// Windows build number via RtlGetVersion, Wine's version via ntdll's wine_get_version.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace termsuite {

struct Platform {
  std::string id;       // "wine-8.0-x86_64", "windows-10.0.19045-x86_64", "sim"
  std::string os;       // "windows" (also under Wine: what the process sees), "sim"
  std::string version;  // Windows version the process sees, e.g. "10.0.19045"
  std::string wine;     // Wine version, empty on Windows
  std::string flavour;  // a Wine build that is not Wine's own release, e.g. "staging"; mostly empty
  std::string host;     // Wine's host system, e.g. "Linux 6.1.0"; empty on Windows. Where the run
                        // happened, not what it measured: never in the stable results file
  std::string arch;     // "x86_64", "x86", "arm64"

  nlohmann::ordered_json to_json() const;
  static Platform from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
};

// "wine-<version>[-<flavour>]-<arch>" under Wine, "windows-<version>-<arch>" on Windows, "sim".
std::string make_platform_id(const Platform& p);

// The flavour of a Wine build from its build id (ntdll's wine_get_build_id, the line `wine
// --version` prints): "staging" for Wine Staging, whose patch set appends " (Staging)" to it
// (wine-staging, patches/Staging/0002-winelib-Append-Staging-at-the-end-of-the-version-s.patch,
// https://github.com/wine-staging/wine-staging). A packager's note ("wine-8.0 (Debian
// 8.0~repack-4)") is no flavour: the same Wine, packaged. Empty for Wine's own builds.
std::string wine_flavour(std::string_view build_id);

// Why `id` cannot name a platform (it names the files results/<id>.json and
// results/expectations/<id>.json), or empty when it can: 1 to 64 characters of lowercase letters,
// digits, '.', '_' and '-', starting with a letter and ending with a letter or digit.
std::string platform_id_problem(std::string_view id);

}  // namespace termsuite
