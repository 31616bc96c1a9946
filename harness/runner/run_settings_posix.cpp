// run_settings.hpp for the Linux runner: it applies no setting (its private Wine prefix is made
// without a post-mortem debugger, wine_env.cpp), so a finding that asks for one keeps its skip.
#include "run_settings.hpp"

namespace termsuite::runner {

struct RunSettings::State {};

RunSettings::RunSettings() = default;
RunSettings::~RunSettings() = default;

void RunSettings::recover() {}

std::vector<preflight::Finding> RunSettings::apply(std::vector<preflight::Finding> findings) { return findings; }

std::vector<preflight::Finding> RunSettings::as_conform_would(std::vector<preflight::Finding> findings) {
  return findings;
}

int RunSettings::guard(const std::filesystem::path&, unsigned long long) { return 2; }

}  // namespace termsuite::runner
