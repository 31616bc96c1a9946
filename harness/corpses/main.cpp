// termsuite-corpses: lists processes that have exited but whose objects are still held, and who
// holds them (Raymond Chen, "Why are there all these processes lingering near death, and what is
// keeping them alive?"). See docs/corpses.md.
//
//   termsuite-corpses [--json] [--holder PID] [--class 64|16] [--per-handle]
//
// Exit 0: the listing worked (corpses or not, unknowns or not). Exit 2: the system handle
// information is unavailable (one line on stderr says why).
#include <cstdio>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "corpses.hpp"

int main(int argc, char** argv) {
  CLI::App app{"termsuite corpses: exited processes whose objects are still held, and who holds them"};
  bool json = false;
  std::optional<std::uint32_t> holder;
  app.add_flag("--json", json, "print one JSON document instead of text");
  app.add_option("--holder", holder, "only handles held by this process id");
  std::uint32_t info_class = 0;
  app.add_option("--class", info_class,
                 "ask only this NtQuerySystemInformation class: 64 (SystemExtendedHandleInformation) or 16 "
                 "(SystemHandleInformation); default 64, then 16")
      ->check(CLI::IsMember({64u, 16u}));
  bool per_handle = false;
  app.add_flag("--per-handle", per_handle,
               "tell process and thread handles apart by duplicating every handle and asking its type "
               "(NtQueryObject), not by the list's ObjectTypeIndex (slower; for checking the tool)");
  CLI11_PARSE(app, argc, argv);

  termsuite::corpses::Options options;
  options.holder = holder;
  options.info_class = info_class;
  options.per_handle = per_handle;
  const termsuite::corpses::Scan s = termsuite::corpses::scan(options);
  if (json) fmt::print("{}\n", termsuite::corpses::to_json(s).dump(2));
  if (!s.available) {
    fmt::print(stderr, "termsuite-corpses: system handle information unavailable: {}\n", s.unavailable_reason);
    return 2;
  }
  if (!json) fmt::print("{}", termsuite::corpses::to_text(s));
  return 0;
}
