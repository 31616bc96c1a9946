#pragma once
// Whether the X display a user's DISPLAY names answers: a DISPLAY that is set but dead (a stale
// `ssh -X`, a CI that exports one) would make every GUI test fail for a reason that is the
// machine's, not the platform's. Connecting to the X server's socket is enough to tell; no Xlib.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace termsuite::runner {

// Where an X server for DISPLAY listens: "[host]:n[.screen]". An empty host or "unix" means the
// local socket /tmp/.X11-unix/X<n>; any other host, TCP port 6000+n on it.
struct DisplayAddress {
  std::string unix_socket;  // set for a local display
  std::string host;         // set for a TCP display
  int port = 0;
};
std::optional<DisplayAddress> parse_display(std::string_view display);  // nullopt: not a DISPLAY

// Connects to the display's socket within `budget`. False if DISPLAY is malformed, nothing
// listens there, or the connection does not complete in time.
bool display_answers(std::string_view display, std::chrono::milliseconds budget = std::chrono::milliseconds(3000));

}  // namespace termsuite::runner
