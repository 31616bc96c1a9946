#pragma once
// Which platform a run happened on. Detected inside the Windows process (live backend):
// Windows build number via RtlGetVersion, Wine's version via ntdll's wine_get_version.
#include <string>

#include <nlohmann/json.hpp>

namespace termsuite {

struct Platform {
  std::string id;       // "wine-8.0-x86_64", "windows-10.0.19045-x86_64", "sim"
  std::string os;       // "windows" (also under Wine: what the process sees), "sim"
  std::string version;  // Windows version the process sees, e.g. "10.0.19045"
  std::string wine;     // Wine version, empty on Windows
  std::string host;     // Wine's host system, e.g. "Linux 6.1.0"; empty on Windows. Where the run
                        // happened, not what it measured: never in the stable results file
  std::string arch;     // "x86_64", "x86", "arm64"

  nlohmann::ordered_json to_json() const;
  static Platform from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
};

std::string make_platform_id(const Platform& p);

}  // namespace termsuite
