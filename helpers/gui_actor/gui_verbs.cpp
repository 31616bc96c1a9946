#include "termsuite/gui_verbs.hpp"

#include <termsuite/verbs.hpp>  // parse_u32: numbers are read as in the console actor's language

namespace termsuite::gui_verbs {

std::string_view kind_name(WindowKind kind) {
  switch (kind) {
    case WindowKind::Polite: return "polite";
    case WindowKind::Stubborn: return "stubborn";
    case WindowKind::HiddenPolite: return "hidden-polite";
    case WindowKind::HiddenStubborn: return "hidden-stubborn";
  }
  return "?";
}

std::string_view mode_name(BroadcastMode mode) { return mode == BroadcastMode::Post ? "post" : "send"; }

bool is_visible(WindowKind kind) { return kind == WindowKind::Polite || kind == WindowKind::Stubborn; }

bool closes_on_wm_close(WindowKind kind) {
  return kind == WindowKind::Polite || kind == WindowKind::HiddenPolite;
}

std::string default_title(WindowKind kind) { return "termsuite actor-gui " + std::string(kind_name(kind)); }

namespace {

constexpr std::string_view kVerbs[] = {
    "window", "listen-private", "broadcast-private", "broadcast-private-send", "drain", "ready",
    "mark",   "no-window",      "exit",              "exit-process",           "spawn-gui",
    "cbt-hook",
};

constexpr struct {
  std::string_view name;
  WindowKind kind;
} kKinds[] = {
    {"polite", WindowKind::Polite},
    {"stubborn", WindowKind::Stubborn},
    {"hidden-polite", WindowKind::HiddenPolite},
    {"hidden-stubborn", WindowKind::HiddenStubborn},
};

class Parser {
 public:
  explicit Parser(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  Program parse_program() {
    Program program = parse_block();
    if (pos_ < tokens_.size()) fail_at(pos_, "']' without a matching '['");
    return program;
  }

 private:
  // Verbs up to the end or a ']' (left for the caller).
  Program parse_block() {
    Program block;
    bool no_window = false;
    while (pos_ < tokens_.size() && tokens_[pos_] != "]") {
      if (no_window) fail_at(pos_, "nothing runs after 'no-window' (it blocks forever): put it last");
      const std::size_t at = pos_;
      Step step = parse_step();
      if (step.op == Op::NoWindow) {
        for (const Step& earlier : block) {
          if (earlier.op == Op::Window || earlier.op == Op::ListenPrivate)
            fail_at(at, "'no-window' in a program that creates a window ('window' or 'listen-private')");
        }
        no_window = true;
      }
      block.push_back(std::move(step));
    }
    return block;
  }

  Step parse_step() {
    const std::string verb = next("a verb");
    const std::size_t at = pos_ - 1;
    Step step;
    if (verb == "window") {
      step.op = Op::Window;
      const std::string kind = next("a window kind after 'window' (polite, stubborn, hidden-polite, hidden-stubborn)");
      bool known = false;
      for (const auto& k : kKinds) {
        if (kind == k.name) step.window = k.kind, known = true;
      }
      if (!known)
        fail_at(at + 1, "unknown window kind '" + kind + "' (polite, stubborn, hidden-polite, hidden-stubborn)");
      // The optional TITLE: the next argument, unless it is a verb or a bracket.
      if (pos_ < tokens_.size() && !is_verb(tokens_[pos_]) && tokens_[pos_] != "[" && tokens_[pos_] != "]") {
        step.name = tokens_[pos_++];
      }
      return step;
    }
    if (verb == "listen-private" || verb == "broadcast-private" || verb == "broadcast-private-send") {
      step.op = verb == "listen-private" ? Op::ListenPrivate : Op::BroadcastPrivate;
      step.mode = verb == "broadcast-private-send" ? BroadcastMode::Send : BroadcastMode::Post;
      step.name = next("a message name after '" + verb + "'");
      if (step.name.empty()) fail_at(pos_ - 1, "'" + verb + "' needs a non-empty message name");
      return step;
    }
    if (verb == "mark") {
      step.op = Op::Mark;
      step.name = next("a name after 'mark'");
      return step;
    }
    if (verb == "exit" || verb == "exit-process") {
      step.op = verb == "exit" ? Op::Exit : Op::ExitProcess;
      const std::string text = next("a number after '" + verb + "'");
      auto value = termsuite::verbs::parse_u32(text);
      if (!value)
        fail_at(pos_ - 1, "'" + verb + "' needs an unsigned 32-bit number (decimal or 0x hex), got '" + text + "'");
      step.number = *value;
      return step;
    }
    if (verb == "spawn-gui") {
      step.op = Op::SpawnGui;
      if (next("'[' after 'spawn-gui'") != "[") fail_at(at, "'spawn-gui' must be followed by '['");
      const std::size_t first = pos_;
      step.body = parse_block();
      if (pos_ >= tokens_.size()) fail_at(at, "'spawn-gui [' without a matching ']'");
      step.args.assign(tokens_.begin() + first, tokens_.begin() + pos_);
      ++pos_;  // the ']'
      return step;
    }
    step.op = verb == "drain" ? Op::Drain : verb == "ready" ? Op::Ready : verb == "cbt-hook" ? Op::CbtHook : Op::NoWindow;
    if (verb == "drain" || verb == "ready" || verb == "no-window" || verb == "cbt-hook") return step;
    fail_at(at, "unknown verb '" + verb + "'");
  }

  std::string next(const std::string& what) {
    if (pos_ >= tokens_.size()) throw UsageError{"expected " + what + " at the end of the arguments"};
    return tokens_[pos_++];
  }

  [[noreturn]] static void fail_at(std::size_t index, const std::string& message) {
    throw UsageError{"argument " + std::to_string(index + 1) + ": " + message};
  }

  std::vector<std::string> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

bool is_verb(std::string_view token) {
  for (std::string_view verb : kVerbs) {
    if (token == verb) return true;
  }
  return false;
}

Program parse(std::vector<std::string> tokens) { return Parser(std::move(tokens)).parse_program(); }

}  // namespace termsuite::gui_verbs
