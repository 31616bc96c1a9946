// Objects and handles when their process dies. "Terminating a Process": "All kernel objects are
// closed." and
// "While open handles to kernel objects are closed automatically when a process terminates, the
// objects themselves exist until all open handles to them are closed. Therefore, an object will
// remain valid after a process that is using it terminates if another process has an open
// handle to it."
#include "termsuite/claim_test.hpp"

namespace termsuite {
namespace {

class Handles : public ClaimTest {};
class Objects : public ClaimTest {
 protected:
  std::string name(std::string_view hint) { return sys().create_event(hint).name + "-obj"; }
};

TEST_F(Handles, PipeWriterDeathIsEndOfFile) {
  claim("handles.closed");
  auto pipe = sys().create_pipe("eof", System::PipeUse::harness_reads);
  auto a = start({"write-pipe", pipe.name, "ready", "wait-forever"});
  ASSERT_TRUE(expect_event(a, "pipe-open")) << "the actor could not open the pipe";
  ASSERT_TRUE(ready(a));
  ASSERT_TRUE(sys().terminate(a.process, 1));
  ASSERT_TRUE(ends(a.process, "the writer"));
  auto r = sys().read_pipe(pipe.handle, Deadline::in(kExitBudget));
  if (r.io == System::PipeIo::timeout) note_timeout("the pipe's reader saw no end of file");
  EXPECT_EQ(static_cast<int>(r.io), static_cast<int>(System::PipeIo::broken))
      << "ReadFile after the only writer died: error " << r.error << " (ERROR_BROKEN_PIPE is 109)";
  EXPECT_EQ(r.error, 109u);
}

TEST_F(Handles, OwnedMutexIsAbandoned) {
  claim("handles.closed");
  const std::string mutex = sys().create_event("mutex").name + "-m";
  auto a = start({"own-mutex", mutex, "ready", "wait-forever"});
  ASSERT_TRUE(expect_event(a, "created"));
  ASSERT_TRUE(ready(a));
  auto m = sys().open_named(System::NamedType::mutex, mutex);
  ASSERT_TRUE(m.handle) << "OpenMutex failed: error " << m.error;
  EXPECT_EQ(to_string(sys().wait(m.handle, Deadline::now())), "timeout") << "the mutex was not owned by the actor";
  ASSERT_TRUE(sys().terminate(a.process, 1));
  ASSERT_TRUE(ends(a.process, "the owner"));
  // The next waiter gets it, told that it was abandoned...
  EXPECT_EQ(to_string(sys().wait(m.handle, Deadline::in(kExitBudget))), "abandoned");
  // ...and owns it now.
  EXPECT_TRUE(sys().release_mutex(m.handle)) << "the waiter does not own the abandoned mutex";
  // Abandonment is told once: released, the mutex is an ordinary free mutex again.
  EXPECT_EQ(to_string(sys().wait(m.handle, Deadline::in(kExitBudget))), "signaled")
      << "the mutex was reported abandoned again after its new owner released it";
  EXPECT_TRUE(sys().release_mutex(m.handle));
}

TEST_F(Objects, NamedEventOutlivesItsCreator) {
  claim("objects.outlive-creator");
  const auto ev = name("event");
  auto a = start({"create-event", ev, "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto held = sys().open_named(System::NamedType::event, ev);
  ASSERT_TRUE(held.handle) << "OpenEvent failed: error " << held.error;
  ASSERT_TRUE(sys().terminate(a.process, 1));
  ASSERT_TRUE(ends(a.process, "the creator"));
  // Usable by handle...
  EXPECT_TRUE(sys().set_event(held.handle));
  EXPECT_EQ(to_string(sys().wait(held.handle, Deadline::now())), "signaled");
  // ...and by name.
  auto again = sys().open_named(System::NamedType::event, ev);
  EXPECT_TRUE(again.handle) << "the event could no longer be opened by name: error " << again.error;
}

TEST_F(Objects, SectionOutlivesItsCreator) {
  claim("objects.outlive-creator");
  const auto sec = name("section");
  auto a = start({"create-section", sec, "ready", "wait-forever"});
  auto created = expect_event(a, "created");
  ASSERT_TRUE(created);
  ASSERT_TRUE(ready(a));
  auto held = sys().open_named(System::NamedType::section, sec);
  ASSERT_TRUE(held.handle) << "OpenFileMapping failed: error " << held.error;
  ASSERT_TRUE(sys().terminate(a.process, 1));
  ASSERT_TRUE(ends(a.process, "the creator"));
  EXPECT_EQ(sys().read_section(held.handle).value_or("(unreadable)"), created->text("text").value_or("?"));
  auto again = sys().open_named(System::NamedType::section, sec);
  ASSERT_TRUE(again.handle) << "the section could no longer be opened by name: error " << again.error;
  EXPECT_EQ(sys().read_section(again.handle).value_or("(unreadable)"), created->text("text").value_or("?"));
}

TEST_F(Objects, NamedObjectsDieWithTheirLastHandle) {
  claim("objects.die-with-last-handle");
  const auto ev = name("event");
  const auto sec = name("section");
  auto a = start({"create-event", ev, "create-section", sec, "ready", "wait-forever"});
  ASSERT_TRUE(ready(a));
  auto e = sys().open_named(System::NamedType::event, ev);
  auto s = sys().open_named(System::NamedType::section, sec);
  ASSERT_TRUE(e.handle && s.handle);
  ASSERT_TRUE(sys().terminate(a.process, 1));
  ASSERT_TRUE(ends(a.process, "the creator"));
  sys().close(e.handle);  // the last handles
  sys().close(s.handle);
  auto e2 = sys().open_named(System::NamedType::event, ev);
  auto s2 = sys().open_named(System::NamedType::section, sec);
  EXPECT_FALSE(e2.handle) << "the event outlived its last handle";
  EXPECT_EQ(e2.error, kErrorFileNotFound);
  EXPECT_FALSE(s2.handle) << "the section outlived its last handle";
  EXPECT_EQ(s2.error, kErrorFileNotFound);
}

}  // namespace
}  // namespace termsuite
