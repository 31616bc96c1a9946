#include "termsuite/verbs.hpp"

#include <charconv>
#include <cctype>

namespace termsuite::verbs {

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view crash_name(CrashKind k) {
  switch (k) {
    case CrashKind::AccessViolation: return "av";
    case CrashKind::DivideByZero: return "div0";
    case CrashKind::Raise: return "raise";
    case CrashKind::StackOverflow: return "stack-overflow";
    case CrashKind::FailFast: return "fail-fast";
  }
  return "?";
}

std::string_view ctrl_mode_name(CtrlMode m) {
  switch (m) {
    case CtrlMode::ReturnTrue: return "true";
    case CtrlMode::ReturnFalse: return "false";
    case CtrlMode::Exit: return "exit";
    case CtrlMode::Hold: return "hold";
  }
  return "?";
}

std::optional<CtrlMode> parse_ctrl_mode(std::string_view text) {
  for (CtrlMode m : {CtrlMode::ReturnTrue, CtrlMode::ReturnFalse, CtrlMode::Exit, CtrlMode::Hold})
    if (text == ctrl_mode_name(m)) return m;
  return std::nullopt;
}

std::string_view ctrl_event_name(std::uint32_t type) {
  switch (type) {
    case kCtrlCEvent: return "ctrl-c";
    case kCtrlBreakEvent: return "ctrl-break";
    case kCtrlCloseEvent: return "ctrl-close";
    case kCtrlLogoffEvent: return "ctrl-logoff";
    case kCtrlShutdownEvent: return "ctrl-shutdown";
    default: return "unknown";
  }
}

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Parses probe options from tokens[pos, end). On failure returns false with `error` and
// `error_at` (the index of the offending token). Shared by `load-probe [ .. ]` and the DLL.
bool parse_probe_options(const std::vector<std::string>& tokens, std::size_t pos, std::size_t end,
                         ProbeOptions& out, std::string& error, std::size_t& error_at) {
  auto fail = [&](std::size_t at, std::string message) {
    error = std::move(message);
    error_at = at;
    return false;
  };
  while (pos < end) {
    const std::size_t at = pos;
    const std::string& option = tokens[pos++];
    auto operand = [&]() -> const std::string* {
      if (pos >= end) return nullptr;
      return &tokens[pos++];
    };
    if (option == "attach-thread" || option == "detach-thread") {
      bool& flag = option == "attach-thread" ? out.attach_thread : out.detach_thread;
      if (flag) return fail(at, "probe option '" + option + "' given twice");
      flag = true;
    } else if (option == "block-attach" || option == "block-detach") {
      auto& slot = option == "block-attach" ? out.block_attach : out.block_detach;
      if (slot) return fail(at, "probe option '" + option + "' given twice");
      const std::string* name = operand();
      if (name == nullptr) return fail(at, "probe option '" + option + "' needs an event name");
      bool spaced = false;
      for (char c : *name) spaced = spaced || is_space(c);
      if (name->empty() || spaced)
        return fail(pos - 1, "probe option '" + option + "': the event name must be non-empty, without spaces");
      slot = *name;
    } else if (option == "slow-thread-attach") {
      if (out.slow_thread_attach_ms) return fail(at, "probe option '" + option + "' given twice");
      const std::string* ms = operand();
      if (ms == nullptr) return fail(at, "probe option 'slow-thread-attach' needs a number of milliseconds");
      auto value = parse_u32(*ms);
      if (!value)
        return fail(pos - 1, "probe option 'slow-thread-attach' needs an unsigned 32-bit number (decimal or 0x hex), got '" +
                                 *ms + "'");
      out.slow_thread_attach_ms = *value;
    } else {
      return fail(at, "unknown probe option '" + option +
                          "' (attach-thread, detach-thread, block-attach NAME, block-detach NAME, slow-thread-attach MS)");
    }
  }
  return true;
}

// Verbs with at most one operand; `crash`, `thread`, the `spawn` family, `load-probe`,
// `ctrl-handler` and `ctrl-send` are parsed by hand.
// Name: any single argument. ObjectName: a kernel object's name, non-empty (an empty name would
// make the object unnamed). PipeName: the part after \\.\pipe\, non-empty, without a backslash.
enum class Operand { None, Number, Name, ObjectName, PipeName };
struct SimpleVerb {
  std::string_view name;
  Op op;
  Operand operand;
};
constexpr SimpleVerb kSimpleVerbs[] = {
    {"ready", Op::Ready, Operand::None},
    {"mark", Op::Mark, Operand::Name},
    {"return", Op::Return, Operand::Number},
    {"exit-process", Op::ExitProcess, Operand::Number},
    {"exit-thread", Op::ExitThread, Operand::Number},
    {"terminate-self", Op::TerminateSelf, Operand::Number},
    {"terminate-thread", Op::TerminateThreadSelf, Operand::Number},
    {"become-last-thread", Op::BecomeLastThread, Operand::None},
    {"wait-forever", Op::WaitForever, Operand::None},
    {"wait-pid", Op::WaitPid, Operand::Number},
    {"wait-parent", Op::WaitParent, Operand::None},
    {"wait-main", Op::WaitMain, Operand::None},
    {"read-device", Op::ReadDevice, Operand::None},
    {"free-probe", Op::FreeProbe, Operand::None},
    {"exit", Op::Exit, Operand::Number},
    {"atexit", Op::AtExit, Operand::None},
    {"static-object", Op::StaticObject, Operand::None},
    {"thread-local-object", Op::ThreadLocalObject, Operand::None},
    {"wait-event", Op::WaitEvent, Operand::Name},
    {"guarded-wait", Op::GuardedWait, Operand::Name},
    {"create-event", Op::CreateEvent, Operand::ObjectName},
    {"create-section", Op::CreateSection, Operand::ObjectName},
    {"own-mutex", Op::OwnMutex, Operand::ObjectName},
    {"write-pipe", Op::WritePipe, Operand::PipeName},
    {"read-pipe", Op::ReadPipe, Operand::PipeName},
    {"read-pipe-overlapped", Op::ReadPipeOverlapped, Operand::PipeName},
    {"ignore-ctrl-c", Op::IgnoreCtrlC, Operand::None},
    {"accept-ctrl-c", Op::AcceptCtrlC, Operand::None},
    {"new-console", Op::NewConsole, Operand::None},
    {"console-window", Op::ConsoleWindow, Operand::None},
    {"abort", Op::Abort, Operand::None},
    {"unhandled-filter", Op::UnhandledFilter, Operand::None},
};

struct BlockVerb {
  std::string_view name;
  Op op;
};
constexpr BlockVerb kBlockVerbs[] = {
    {"thread", Op::Thread},
    {"spawn", Op::Spawn},
    {"spawn-leak-thread", Op::SpawnLeakThread},
    {"spawn-group", Op::SpawnGroup},
    {"spawn-console", Op::SpawnConsole},
    {"spawn-breakaway", Op::SpawnBreakaway},
};

class Parser {
 public:
  explicit Parser(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  Block parse_program() {
    Block program = parse_block();
    if (pos_ < tokens_.size()) fail_at(pos_, "']' without a matching '['");
    return program;
  }

 private:
  Block parse_block() {
    Block block;
    while (pos_ < tokens_.size() && tokens_[pos_] != "]") block.push_back(parse_step());
    return block;
  }

  Step parse_step() {
    const std::string verb = next("a verb");
    const std::size_t at = pos_ - 1;
    Step step;
    if (verb == "crash") {
      step.op = Op::Crash;
      const std::string kind = next("av, div0, raise, stack-overflow or fail-fast after 'crash'");
      if (kind == "av") {
        step.crash = CrashKind::AccessViolation;
        step.number = kAccessViolation;
      } else if (kind == "div0") {
        step.crash = CrashKind::DivideByZero;
        step.number = kIntegerDivideByZero;
      } else if (kind == "raise") {
        step.crash = CrashKind::Raise;
        step.number = number("crash raise");
      } else if (kind == "stack-overflow") {
        step.crash = CrashKind::StackOverflow;
        step.number = kStackOverflow;
      } else if (kind == "fail-fast") {
        step.crash = CrashKind::FailFast;
        step.number = kFailFast;
      } else {
        fail_at(at + 1, "unknown crash kind '" + kind + "' (av, div0, raise CODE, stack-overflow, fail-fast)");
      }
      return step;
    }
    if (verb == "ctrl-handler" || verb == "remove-ctrl-handler") {
      step.op = verb == "ctrl-handler" ? Op::CtrlHandler : Op::RemoveCtrlHandler;
      const std::string mode = next("a mode after '" + verb + "' (true, false, exit, hold)");
      auto parsed = parse_ctrl_mode(mode);
      if (!parsed) fail_at(at + 1, "unknown " + verb + " mode '" + mode + "' (true, false, exit, hold)");
      step.ctrl = *parsed;
      return step;
    }
    if (verb == "ctrl-send") {
      step.op = Op::CtrlSend;
      step.number = number("ctrl-send");  // TYPE
      step.group = number("ctrl-send");   // GROUP
      return step;
    }
    const BlockVerb* block_verb = nullptr;
    for (const BlockVerb& candidate : kBlockVerbs)
      if (verb == candidate.name) block_verb = &candidate;
    if (block_verb != nullptr) {
      step.op = block_verb->op;
      if (next("'[' after '" + verb + "'") != "[") fail_at(at, "'" + verb + "' must be followed by '['");
      const std::size_t first = pos_;
      step.body = parse_block();
      if (pos_ >= tokens_.size()) fail_at(at, "'" + verb + " [' without a matching ']'");
      step.args.assign(tokens_.begin() + first, tokens_.begin() + pos_);
      ++pos_;  // the ']'
      return step;
    }
    if (verb == "load-probe") {
      step.op = Op::LoadProbe;
      if (next("'[' after 'load-probe'") != "[") fail_at(at, "'load-probe' must be followed by '[' (options, then ']')");
      const std::size_t first = pos_;
      std::size_t close = first;
      while (close < tokens_.size() && tokens_[close] != "]") ++close;
      if (close >= tokens_.size()) fail_at(at, "'load-probe [' without a matching ']'");
      std::string error;
      std::size_t error_at = 0;
      if (!parse_probe_options(tokens_, first, close, step.probe, error, error_at)) fail_at(error_at, error);
      step.args.assign(tokens_.begin() + first, tokens_.begin() + close);
      pos_ = close + 1;
      return step;
    }
    for (const SimpleVerb& simple : kSimpleVerbs) {
      if (verb != simple.name) continue;
      step.op = simple.op;
      if (simple.operand == Operand::Number) step.number = number(verb);
      if (simple.operand == Operand::Name) step.name = next("a name after '" + verb + "'");
      if (simple.operand == Operand::ObjectName || simple.operand == Operand::PipeName) {
        const bool pipe = simple.operand == Operand::PipeName;
        step.name = next(std::string(pipe ? "a pipe name" : "an object name") + " after '" + verb + "'");
        if (step.name.empty()) fail_at(pos_ - 1, "'" + verb + "' needs a non-empty name");
        if (pipe && step.name.find('\\') != std::string::npos)
          fail_at(pos_ - 1, "'" + verb + "': a pipe name cannot contain '\\' (got '" + step.name + "')");
      }
      return step;
    }
    fail_at(at, "unknown verb '" + verb + "'");
  }

  std::string next(const std::string& what) {
    if (pos_ >= tokens_.size()) throw UsageError{"expected " + what + " at the end of the arguments"};
    return tokens_[pos_++];
  }

  std::uint32_t number(const std::string& verb) {
    const std::string text = next("a number after '" + verb + "'");
    if (auto value = parse_u32(text)) return *value;
    fail_at(pos_ - 1, "'" + verb + "' needs an unsigned 32-bit number (decimal or 0x hex), got '" + text + "'");
  }

  // `index` counts from 0 among the verbs; the message counts arguments from 1, after --report.
  [[noreturn]] static void fail_at(std::size_t index, const std::string& message) {
    throw UsageError{"argument " + std::to_string(index + 1) + ": " + message};
  }

  std::vector<std::string> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string section_text(std::uint32_t pid) { return "termsuite:" + std::to_string(pid); }

std::string probe_spec(const ProbeOptions& options) {
  std::string spec;
  auto add = [&](std::string_view token) {
    if (!spec.empty()) spec += ' ';
    spec += token;
  };
  if (options.attach_thread) add("attach-thread");
  if (options.detach_thread) add("detach-thread");
  if (options.block_attach) add("block-attach"), add(*options.block_attach);
  if (options.block_detach) add("block-detach"), add(*options.block_detach);
  if (options.slow_thread_attach_ms) add("slow-thread-attach"), add(std::to_string(*options.slow_thread_attach_ms));
  return spec;
}

std::optional<ProbeOptions> parse_probe_spec(std::string_view spec, std::string* error) noexcept {
  try {
    std::vector<std::string> tokens;
    std::size_t i = 0;
    while (i < spec.size()) {
      while (i < spec.size() && is_space(spec[i])) ++i;
      const std::size_t start = i;
      while (i < spec.size() && !is_space(spec[i])) ++i;
      if (i > start) tokens.emplace_back(spec.substr(start, i - start));
    }
    ProbeOptions options;
    std::string message;
    std::size_t at = 0;
    if (!parse_probe_options(tokens, 0, tokens.size(), options, message, at)) {
      if (error != nullptr) *error = message;
      return std::nullopt;
    }
    return options;
  } catch (...) {  // out of memory
    if (error != nullptr) *error = "out of memory";
    return std::nullopt;
  }
}

Block parse(std::vector<std::string> tokens) { return Parser(std::move(tokens)).parse_program(); }

bool uses(const Block& block, Op op) {
  for (const auto& s : block)
    if (s.op == op || uses(s.body, op)) return true;
  return false;
}

}  // namespace termsuite::verbs
