// A controlling terminal: the actor, a session leader, makes a terminal its controlling terminal.
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "actor.hpp"

namespace termsuite::posix_actor {
namespace {

// open-ctty PATH: opens the terminal PATH without O_NOCTTY and makes it the controlling terminal
// of this process's session (ioctl TIOCSCTTY; the process must lead a session that has none).
// Reports {"ev":"ctty","fd":N,"sid":<tcgetsid>,"tpgid":<tcgetpgrp>,"pgid":<getpgrp>}. The
// descriptor stays open (it is not inherited across exec by children).
void verb_open_ctty(Verbs& v) {
  auto path = v.next("open-ctty PATH");
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) fail("open(terminal)", errno);
  if (::ioctl(fd, TIOCSCTTY, 0) != 0) fail("ioctl(TIOCSCTTY)", errno);
  record("ctty", {num("fd", fd), num("sid", ::tcgetsid(fd)), num("tpgid", ::tcgetpgrp(fd)), num("pgid", ::getpgrp())});
}

RegisterVerb r_open_ctty("open-ctty", verb_open_ctty);

}  // namespace
}  // namespace termsuite::posix_actor
