#pragma once
// The actors' verb language, parsed into a tree of steps. Portable: the console actor runs the
// tree on Windows, the simulator interprets the same tree in its model, so a scenario is written
// once for both. Reference: docs/actors.md.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace termsuite::verbs {

enum class Op {
  Ready, Mark, Return, ExitProcess, ExitThread, TerminateSelf, Crash,
  Thread, Spawn, SpawnLeakThread, WaitForever, WaitPid, WaitParent, WaitMain,
  ReadDevice,  // simulator only: block in I/O that a (simulated) driver completes
};
enum class CrashKind { AccessViolation, DivideByZero, Raise };

inline constexpr std::uint32_t kAccessViolation = 0xC0000005;  // STATUS_ACCESS_VIOLATION
inline constexpr std::uint32_t kIntegerDivideByZero = 0xC0000094;  // STATUS_INTEGER_DIVIDE_BY_ZERO

struct Step;
using Block = std::vector<Step>;

struct Step {
  Op op{};
  std::uint32_t number = 0;       // exit code, pid or exception code
  std::string name;               // mark
  CrashKind crash{};              // crash
  Block body;                     // thread, spawn
  std::vector<std::string> args;  // spawn: the block's tokens, handed to the child verbatim
};

struct UsageError {
  std::string message;
};

std::string_view crash_name(CrashKind k);  // "av", "div0", "raise"

// Decimal or 0x hex, unsigned 32-bit.
std::optional<std::uint32_t> parse_u32(std::string_view text);

// Parses a whole argv (without the program name). Throws UsageError naming the argument.
Block parse(std::vector<std::string> tokens);

// True if the block (or a nested one) uses `op`.
bool uses(const Block& block, Op op);

}  // namespace termsuite::verbs
