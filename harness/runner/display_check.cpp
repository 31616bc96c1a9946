#include "display_check.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace termsuite::runner {

namespace {

// Waits for a non-blocking connect to finish, until the deadline.
bool connected(int fd, int rc, std::chrono::steady_clock::time_point deadline) {
  if (rc == 0) return true;
  if (errno != EINPROGRESS) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    int err = 0;
    socklen_t len = sizeof err;
    return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
}

}  // namespace

std::optional<DisplayAddress> parse_display(std::string_view display) {
  auto colon = display.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto host = display.substr(0, colon);
  auto rest = display.substr(colon + 1);
  rest = rest.substr(0, rest.find('.'));  // the screen does not matter
  int n = -1;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || end != rest.data() + rest.size() || n < 0 || n > 59535) return std::nullopt;
  if (host.find('/') != std::string_view::npos) return std::nullopt;  // a launchd socket path: not on Linux
  DisplayAddress a;
  if (host.empty() || host == "unix") {
    a.unix_socket = "/tmp/.X11-unix/X" + std::to_string(n);
  } else {
    // "[::1]:0" and "::1:0" are IPv6 hosts; strip the brackets.
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    a.host = std::string(host);
    a.port = 6000 + n;
  }
  return a;
}

bool display_answers(std::string_view display, std::chrono::milliseconds budget) {
  auto a = parse_display(display);
  if (!a) return false;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  if (!a->unix_socket.empty()) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (a->unix_socket.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, a->unix_socket.c_str(), a->unix_socket.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    bool ok = connected(fd, ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), deadline);
    ::close(fd);
    return ok;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(a->host.c_str(), std::to_string(a->port).c_str(), &hints, &found) != 0) return false;
  bool ok = false;
  for (auto* ai = found; ai && !ok; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    ok = connected(fd, ::connect(fd, ai->ai_addr, ai->ai_addrlen), deadline);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return ok;
}

}  // namespace termsuite::runner
