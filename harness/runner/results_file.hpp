#pragma once
// Writing the files a run or a tool leaves in the repository: results/<platform-id>.json,
// results/sim.json and results/expectations/<platform-id>.json are baselines, so they are replaced
// whole or not at all, and only by a run that saw every test.
#include <filesystem>
#include <string>

namespace termsuite::runner {

// Writes `text` to a temporary file in `path`'s folder, flushes it to the disk, then renames it
// over `path`: a crash or a full disk mid-write leaves the old file whole. Throws std::runtime_error
// ("cannot write <path>: <why>") and leaves no temporary file behind.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

// Where a run's stable results go. A complete run (every listed test reported, no filter) replaces
// the baseline, `results_dir/<name>.json`. A partial one (a --filter, a lost result, a timed-out
// suite, an unreadable stream) writes `run_dir/<name>.partial.json` and leaves the baseline as it
// is. Returns the path written.
struct ResultsWritten {
  std::filesystem::path path;
  bool partial = false;
};
ResultsWritten write_run_results(const std::filesystem::path& results_dir, const std::filesystem::path& run_dir,
                                 const std::string& name, const std::string& text, bool complete);

}  // namespace termsuite::runner
