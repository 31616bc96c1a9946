// The Linux runner's own preflight facts (preflight_run.hpp): which Wine, which wineserver, and
// whether the X display it would use answers, as WineEnv::up then acts on them.
#include <cstdlib>

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
  return h;
}

}  // namespace termsuite::runner
