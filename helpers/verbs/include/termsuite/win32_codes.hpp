#pragma once
// Win32 values the suite asserts and the simulator answers, written once for both (portable: no
// <windows.h>). The names are the SDK's, in the project's style.
#include <cstdint>

namespace termsuite {

// GetExitCodeProcess and GetExitCodeThread while the object runs ("GetExitCodeProcess function",
// Microsoft Learn): STILL_ACTIVE, which is also STATUS_PENDING.
inline constexpr std::uint32_t kStillActive = 259;  // STILL_ACTIVE

// GetLastError values ("System Error Codes (0-499)", Microsoft Learn).
inline constexpr std::uint32_t kErrorFileNotFound = 2;       // ERROR_FILE_NOT_FOUND
inline constexpr std::uint32_t kErrorAccessDenied = 5;       // ERROR_ACCESS_DENIED
inline constexpr std::uint32_t kErrorInvalidHandle = 6;      // ERROR_INVALID_HANDLE
inline constexpr std::uint32_t kErrorInvalidParameter = 87;  // ERROR_INVALID_PARAMETER

}  // namespace termsuite
