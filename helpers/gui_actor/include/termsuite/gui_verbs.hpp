#pragma once
// The GUI actor's verb language (actor-gui), parsed into a list of steps. Portable, like
// termsuite/verbs.hpp: the GUI actor runs the steps on Windows, and the simulator can interpret
// the same list in its model (windows, message queues, taskkill). Reference: docs/actors.md,
// "GUI actor".
//
//   actor-gui [--report H] VERB...
//
//   window KIND [TITLE]        KIND: polite | stubborn | hidden-polite | hidden-stubborn
//   listen-private NAME        RegisterWindowMessage(NAME); on arrival: report, ExitProcess(0x77)
//   broadcast-private NAME     BroadcastSystemMessage, BSF_IGNORECURRENTTASK | BSF_POSTMESSAGE
//   broadcast-private-send NAME  the same, sent: BSF_IGNORECURRENTTASK | BSF_FORCEIFHUNG
//   drain                      dispatch what is already queued (a marker posted to itself)
//   cbt-hook                   a WH_CBT hook on the actor's own thread, reporting every call
//   ready | mark NAME | no-window | exit N | exit-process N | spawn-gui [ VERB... ]
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace termsuite::gui_verbs {

enum class Op {
  Window,           // window KIND [TITLE]
  ListenPrivate,    // listen-private NAME
  BroadcastPrivate, // broadcast-private NAME, broadcast-private-send NAME (see `mode`)
  Drain,            // drain
  Ready,            // ready
  Mark,             // mark NAME
  NoWindow,         // no-window: block forever, windowless (must be the last verb)
  Exit,             // exit N: the C runtime's exit(N)
  ExitProcess,      // exit-process N: ExitProcess(N)
  SpawnGui,         // spawn-gui [ VERB... ]: start another actor-gui with the block's verbs
  CbtHook,          // cbt-hook: SetWindowsHookEx(WH_CBT) on the main thread; each call reported
};

enum class WindowKind { Polite, Stubborn, HiddenPolite, HiddenStubborn };
enum class BroadcastMode { Post, Send };

// WM_QUIT's code when a polite window was the actor's last window: the actor's exit code.
inline constexpr std::uint32_t kQuitCode = 0x55;
// ExitProcess's code when a registered private message arrives (listen-private).
inline constexpr std::uint32_t kPrivateMessageExitCode = 0x77;

struct Step;
using Program = std::vector<Step>;

struct Step {
  Op op{};
  WindowKind window{};            // window
  BroadcastMode mode{};           // broadcast-private(-send)
  std::string name;               // window: the title ("" = default_title); listen/broadcast: the
                                  // message name; mark: the name
  std::uint32_t number = 0;       // exit, exit-process
  Program body;                   // spawn-gui: the child's verbs, parsed (checked up front)
  std::vector<std::string> args;  // spawn-gui: the block's tokens, handed to the child verbatim
};

struct UsageError {
  std::string message;
};

std::string_view kind_name(WindowKind kind);  // "polite", "stubborn", "hidden-polite", ...
std::string_view mode_name(BroadcastMode mode);  // "post", "send"
bool is_visible(WindowKind kind);              // polite, stubborn
bool closes_on_wm_close(WindowKind kind);      // polite, hidden-polite
std::string default_title(WindowKind kind);    // "termsuite actor-gui <kind>"

// True if `token` is a verb of this language (a window TITLE cannot be one: it would be read as
// the next verb).
bool is_verb(std::string_view token);

// Parses a whole argv (without the program name), nested spawn-gui blocks included. Throws
// UsageError naming the argument (counted from 1, after --report).
Program parse(std::vector<std::string> tokens);

}  // namespace termsuite::gui_verbs
