#pragma once
// Pieces of the live backend that the suite's fixtures and tools use directly.
#include <string>

#include "termsuite/platform.hpp"
#include "termsuite/preflight.hpp"

namespace termsuite::live {

// The platform this process runs on: Windows build number, and Wine's version when under Wine.
Platform detect_platform();
// The preflight's facts about this machine, measured from inside this process (creates and
// destroys one window on a thread of its own).
preflight::WindowsFacts probe_machine();

}  // namespace termsuite::live
