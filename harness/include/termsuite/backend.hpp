#pragma once
// What the suite's main() asks of the backend a suite binary is linked with: live (Windows, or
// Wine), sim (the simulator) or posix (native POSIX actors).
#include <optional>
#include <string>
#include <string_view>

#include "termsuite/platform.hpp"
#include "termsuite/preflight.hpp"

namespace termsuite {

// "live", "sim" or "posix": the backend field of each test's result.
std::string_view backend_name();
// The platform the backend runs on ({"id": "sim"} for the simulator).
Platform backend_platform();
// A path as this process can open it: under Wine, a Unix path such as the one CMake compiled
// in becomes its DOS name (Z:\\...); elsewhere the path is returned as it is.
std::string backend_path(std::string_view path);
// What this machine does to the backend's processes, measured by this process (the preflight's
// Windows side, preflight.hpp): the live backend's; none for the simulator and the POSIX backend.
std::optional<preflight::WindowsFacts> backend_machine_facts();

}  // namespace termsuite
