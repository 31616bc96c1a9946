// Ending another process gracefully with a private message. "Terminating a Process": "Have both processes call
// the RegisterWindowMessage function to create a private message. One process can terminate the
// other process by broadcasting a private message using the BroadcastSystemMessage function ...
// BSF_IGNORECURRENTTASK, // do not send message to this process ... The process receiving the
// private message calls ExitProcess to terminate its execution."
#include "termsuite/claim_test.hpp"
#include "termsuite/gui_verbs.hpp"

namespace termsuite {
namespace {

class Graceful : public ClaimTest {
 protected:
  // Both sides listen for the message; the sender broadcasts it, then dispatches whatever was
  // queued to it (drain): reaching `ready` proves it did not get its own message, since the
  // message would have ended it first.
  void broadcast_between_two(std::string_view broadcast_verb) {
    // A message name nobody else uses: the name of a fresh harness event is unique to the run.
    const std::string message = sys().create_event("private-message").name;
    // Two listeners: the broadcast reaches every other top-level window, not only the first.
    auto listener = start_gui({"listen-private", message, "ready"});
    auto second = start_gui({"listen-private", message, "ready"});
    ASSERT_TRUE(ready(listener));
    ASSERT_TRUE(ready(second));
    auto sender = start_gui({"listen-private", message, std::string(broadcast_verb), message, "drain", "ready"});
    auto broadcast = expect_event(sender, "broadcast");
    ASSERT_TRUE(broadcast) << "the sender did not broadcast";
    EXPECT_NE(broadcast->number("result").value_or(0), 0u) << "BroadcastSystemMessage failed: " << broadcast->describe();

    ASSERT_TRUE(ends(listener.process, "the listener"));
    EXPECT_EQ(hex(sys().exit_code(listener.process)), hex(gui_verbs::kPrivateMessageExitCode));
    ASSERT_TRUE(drained(listener));
    EXPECT_EQ(records(listener, "private-message").size(), 1u) << "the listener did not report the message";
    ASSERT_TRUE(ends(second.process, "the second listener"));
    EXPECT_EQ(hex(sys().exit_code(second.process)), hex(gui_verbs::kPrivateMessageExitCode));

    EXPECT_TRUE(ready(sender)) << "the sender did not get past dispatching its own queue";
    EXPECT_TRUE(still_running(sender.process)) << "the sender ended: exit code " << hex(sys().exit_code(sender.process));
    EXPECT_TRUE(records(sender, "private-message").empty()) << "the sender received its own message";
  }
};

TEST_F(Graceful, PostedPrivateMessageEndsTheListenerNotTheSender) {
  claim("graceful.private-message");
  broadcast_between_two("broadcast-private");  // BSF_IGNORECURRENTTASK | BSF_POSTMESSAGE
}

TEST_F(Graceful, SentPrivateMessageEndsTheListenerNotTheSender) {
  claim("graceful.private-message");
  broadcast_between_two("broadcast-private-send");  // BSF_IGNORECURRENTTASK, sent as "Terminating a Process" does
}

}  // namespace
}  // namespace termsuite
