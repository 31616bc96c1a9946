#include "address_space.hpp"

#include <sys/personality.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <regex>
#include <set>

namespace termsuite::runner {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPreloaders[] = {"wine64-preloader", "wine-preloader"};

fs::path preloader_in(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : kPreloaders)
    if (fs::exists(dir / name, ec)) return dir / name;
  return {};
}

// The directories of the loaders a launcher script names (`wine64=/usr/lib/wine/wine64`).
std::set<fs::path> named_loader_dirs(const fs::path& script) {
  std::set<fs::path> dirs;
  std::ifstream in(script, std::ios::binary);
  std::string text;
  text.resize(64 * 1024);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.rfind("#!", 0) != 0) return dirs;
  static const std::regex loader(R"((/[^\s"'=;:$]*)/wine(64)?\b)");
  for (std::sregex_iterator it(text.begin(), text.end(), loader), end; it != end; ++it) dirs.insert(fs::path((*it)[1].str()));
  return dirs;
}

}  // namespace

fs::path find_wine_preloader(const WineUnderTest& wine) {
  std::set<fs::path> dirs{wine.launcher.parent_path()};
  std::error_code ec;
  auto resolved = fs::canonical(wine.launcher, ec);
  if (!ec) dirs.insert(resolved.parent_path());
  for (const auto& d : named_loader_dirs(ec ? wine.launcher : resolved)) dirs.insert(d);
  for (const auto& d : dirs)
    if (auto p = preloader_in(d); !p.empty()) return p;
  return {};
}

const AddressSpace& fix_wine_address_space(const WineUnderTest& wine) {
  static std::once_flag once;
  static AddressSpace result;
  std::call_once(once, [&] {
    result.preloader = find_wine_preloader(wine);
    if (!result.preloader.empty()) return;
    std::ifstream sysctl("/proc/sys/kernel/randomize_va_space");
    int system_wide = -1;
    sysctl >> system_wide;
    const int current = ::personality(0xffffffff);
    if (system_wide == 0 || (current != -1 && (current & ADDR_NO_RANDOMIZE))) {
      result.randomisation = AddressSpace::Randomisation::already_off;
      return;
    }
    if (current == -1 || ::personality(static_cast<unsigned long>(current) | ADDR_NO_RANDOMIZE) == -1) {
      result.randomisation = AddressSpace::Randomisation::refused;
      result.error = std::strerror(errno);
      return;
    }
    result.randomisation = AddressSpace::Randomisation::off_for_run;
  });
  return result;
}

}  // namespace termsuite::runner
