#pragma once
// A new platform (another Wine, a build of one) starts from an existing platform's baseline:
// `conform --expectations-from ID` copies results/expectations/ID.json to <new-id>.json when the
// new platform has none yet, so its first run shows only what changed.
#include <filesystem>
#include <string>

namespace termsuite::runner {

// Throws EnvError (one line) unless `from` is a platform id with an expectations file in `dir`.
void check_expectations_source(const std::filesystem::path& dir, const std::string& from);

// Writes dir/<id>.json from dir/<from>.json ("platform" rewritten, a comment saying where it came
// from) unless it exists. Returns true when it wrote it. ExpectationsError if <from>.json is not
// sound.
bool start_expectations_from(const std::filesystem::path& dir, const std::string& from, const std::string& id);

}  // namespace termsuite::runner
