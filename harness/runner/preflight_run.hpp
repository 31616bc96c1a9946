#pragma once
// The preflight on the runners' side (preflight.hpp): the suite binary answers for the Win32 side
// (a {"preflight": ...} line of --termsuite-preflight and --termsuite-describe), the Linux runner
// adds its own checks, the settings a finding asks for are applied for the run (run_settings.hpp),
// and the findings go to the run's preflight file (which the suite processes read), its summary
// and its results.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/platform.hpp"
#include "termsuite/preflight.hpp"

namespace termsuite::runner {

struct WineUnderTest;  // wine_under_test.hpp

// The suite's answer: its platform line and its preflight line, from its output (anything Wine
// printed around them is skipped). EnvError naming `what` when either is missing or unreadable.
struct SuiteAnswer {
  Platform platform;
  preflight::Report report;
};
SuiteAnswer read_suite_answer(std::string_view output, std::string_view what);
// Just the preflight line; EnvError when it is missing or unreadable.
preflight::Report read_preflight_line(std::string_view output, std::string_view what);

// The Linux runner's own facts: the Wine it tests, its wineserver, the X display (Linux only).
preflight::HostFacts host_facts(const WineUnderTest& wine);

// The file the suite processes read (TERMSUITE_PREFLIGHT): the run's findings, after its settings.
void write_preflight_file(const std::filesystem::path& file, const preflight::Report& report);

// One line per finding that changed the run (neutralised, skip), under a "preflight:" heading;
// nothing when there is none.
void print_changes(const std::vector<preflight::Finding>& findings);

}  // namespace termsuite::runner
