#pragma once
// The platforms the unit tests describe, made one way for every test file: a Windows build, Wine,
// the simulator and a POSIX system, each with its id made as the runner makes it.
#include <string>

#include "termsuite/platform.hpp"

namespace termsuite {

inline Platform windows_platform(std::string version = "10.0.22631", std::string arch = "x86_64") {
  Platform p;
  p.os = "windows";
  p.version = std::move(version);
  p.arch = std::move(arch);
  p.id = make_platform_id(p);
  return p;
}

// Wine reports the Windows version it imitates; `host` is where it ran (never in a stable file).
inline Platform wine_platform(std::string wine_version = "8.0", std::string windows_version = "6.1.7601") {
  Platform p = windows_platform(std::move(windows_version));
  p.wine = std::move(wine_version);
  p.host = "Linux 6.1";
  p.id = make_platform_id(p);
  return p;
}

inline Platform sim_platform() {
  Platform p;
  p.os = "sim";
  p.version = "termsim 1";
  p.arch = "model";
  p.id = make_platform_id(p);
  return p;
}

inline Platform linux_platform(std::string version = "6.1") {
  Platform p;
  p.os = "linux";
  p.version = std::move(version);
  p.arch = "x86_64";
  p.host = "Linux " + p.version + ".0-18-amd64";
  p.id = make_platform_id(p);
  return p;
}

}  // namespace termsuite
