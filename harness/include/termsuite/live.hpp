#pragma once
// Pieces of the live backend that the suite's fixtures and tools use directly.
#include <string>

#include "termsuite/platform.hpp"

namespace termsuite::live {

// The platform this process runs on: Windows build number, and Wine's version when under Wine.
Platform detect_platform();

}  // namespace termsuite::live
