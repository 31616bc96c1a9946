// The Linux runner's own preflight facts (preflight_run.hpp): which Wine, which wineserver, and
// whether the X display it would use answers, as WineEnv::up then acts on them; whether the Wine
// has its preloader, and if not, address randomisation turned off for the run (address_space.hpp).
#include <cstdlib>

#include "address_space.hpp"
#include "display_check.hpp"
#include "preflight_run.hpp"
#include "supervise.hpp"
#include "wine_under_test.hpp"

namespace termsuite::runner {

preflight::HostFacts host_facts(const WineUnderTest& wine) {
  preflight::HostFacts h;
  h.wine_launcher = wine.launcher.string();
  h.wine_version = wine.version;
  h.wine_chosen_by = wine.chosen_by;
  h.wineserver = wine.server.string();
  const char* display = std::getenv("DISPLAY");
  h.display = display ? display : "";
  h.display_answers = !h.display.empty() && display_answers(h.display);
  h.xvfb = find_program("Xvfb");
  const auto& space = fix_wine_address_space(wine);
  h.preloader = space.preloader.string();
  switch (space.randomisation) {
    case AddressSpace::Randomisation::kept: break;
    case AddressSpace::Randomisation::off_for_run: h.randomisation = "off-for-run"; break;
    case AddressSpace::Randomisation::already_off: h.randomisation = "already-off"; break;
    case AddressSpace::Randomisation::refused: h.randomisation = "refused: " + space.error; break;
  }
  return h;
}

}  // namespace termsuite::runner
