// Blocking calls that a signal may interrupt.
#include <errno.h>
#include <unistd.h>

#include "actor.hpp"

namespace termsuite::posix_actor {
namespace {

// block-read: read(2) from a pipe nobody writes (the actor holds its write end): reports
// "reading", then {"ev":"read-returned","result":N,"errno":E} when the read returns.
void verb_block_read(Verbs&) {
  int fds[2];
  if (::pipe(fds) != 0) fail("pipe", errno);
  record("reading", {num("fd", fds[0])});
  char c;
  ssize_t r = ::read(fds[0], &c, 1);
  int e = r < 0 ? errno : 0;
  record("read-returned", {num("result", r), num("errno", e)});
}

RegisterVerb r_block_read("block-read", verb_block_read);

}  // namespace
}  // namespace termsuite::posix_actor
