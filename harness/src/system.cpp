#include "termsuite/system.hpp"

namespace termsuite {

std::string_view to_string(WaitResult r) {
  switch (r) {
    case WaitResult::signaled: return "signaled";
    case WaitResult::timeout: return "timeout";
    case WaitResult::abandoned: return "abandoned";
    case WaitResult::failed: return "failed";
  }
  return "?";
}

}  // namespace termsuite
