// The POSIX backend's platform: what the suite's main() asks of the backend it is linked with
// (backend.hpp). The POSIX suite's actors and fixture are in helpers/posix_actor/ and
// fixtures/posix_test.cpp.
#include <sys/utsname.h>

#include <cctype>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "termsuite/backend.hpp"

namespace termsuite {

std::string_view backend_name() { return "posix"; }

// linux-<kernel major.minor>-<arch>: the kernel's release without what a distribution or a
// machine adds ("6.1.0-18-amd64" is 6.1), so the results file is the same across machines.
Platform backend_platform() {
  Platform p;
  utsname u{};
  ::uname(&u);
  std::string sys = u.sysname;
  for (auto& c : sys) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.os = sys;  // "linux"
  std::string release = u.release;
  int major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) == 2) p.version = fmt::format("{}.{}", major, minor);
  else p.version = "0.0";
  std::string machine = u.machine;
  p.arch = machine == "aarch64" ? "arm64" : machine == "i686" || machine == "i386" ? "x86" : machine;
  p.host = fmt::format("{} {}", u.sysname, u.release);
  p.id = make_platform_id(p);
  return p;
}

std::string backend_path(std::string_view path) { return std::string(path); }

std::optional<preflight::WindowsFacts> backend_machine_facts() { return std::nullopt; }

}  // namespace termsuite
