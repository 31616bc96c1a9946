#include "termsuite/verbs.hpp"

#include <charconv>

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
  }
  return "?";
}

namespace {

// Verbs with at most one operand; `crash`, `thread` and `spawn` are parsed by hand.
enum class Operand { None, Number, Name };
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
    {"wait-forever", Op::WaitForever, Operand::None},
    {"wait-pid", Op::WaitPid, Operand::Number},
    {"wait-parent", Op::WaitParent, Operand::None},
    {"wait-main", Op::WaitMain, Operand::None},
    {"read-device", Op::ReadDevice, Operand::None},
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
      const std::string kind = next("av, div0 or raise after 'crash'");
      if (kind == "av") {
        step.crash = CrashKind::AccessViolation;
        step.number = kAccessViolation;
      } else if (kind == "div0") {
        step.crash = CrashKind::DivideByZero;
        step.number = kIntegerDivideByZero;
      } else if (kind == "raise") {
        step.crash = CrashKind::Raise;
        step.number = number("crash raise");
      } else {
        fail_at(at + 1, "unknown crash kind '" + kind + "' (av, div0, raise CODE)");
      }
      return step;
    }
    if (verb == "thread" || verb == "spawn" || verb == "spawn-leak-thread") {
      step.op = verb == "thread" ? Op::Thread : verb == "spawn" ? Op::Spawn : Op::SpawnLeakThread;
      if (next("'[' after '" + verb + "'") != "[") fail_at(at, "'" + verb + "' must be followed by '['");
      const std::size_t first = pos_;
      step.body = parse_block();
      if (pos_ >= tokens_.size()) fail_at(at, "'" + verb + " [' without a matching ']'");
      step.args.assign(tokens_.begin() + first, tokens_.begin() + pos_);
      ++pos_;  // the ']'
      return step;
    }
    for (const SimpleVerb& simple : kSimpleVerbs) {
      if (verb != simple.name) continue;
      step.op = simple.op;
      if (simple.operand == Operand::Number) step.number = number(verb);
      if (simple.operand == Operand::Name) step.name = next("a name after '" + verb + "'");
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

Block parse(std::vector<std::string> tokens) { return Parser(std::move(tokens)).parse_program(); }

bool uses(const Block& block, Op op) {
  for (const auto& s : block)
    if (s.op == op || uses(s.body, op)) return true;
  return false;
}

}  // namespace termsuite::verbs
