#pragma once
// termsuite expectations update: a platform's expectations file brought in line with its last full
// run (results/<platform-id>.json):
//   - every entry that applies to the platform and whose test now passes (pass, xpass) is removed;
//   - a test that fails or times out with no entry applying gets one, reason "UNTRIAGED: <detail>"
//     (in a family file, limited by a "when" to this platform's Windows build or Wine version);
//   - an entry that applies but expects the other outcome (fail vs timeout) takes the observed one,
//     its reason becoming "UNTRIAGED: <detail> (the entry said '<expect>': <old reason>)";
//   - everything else stays as it is: reasons, the comment, the order, the entries whose "when"
//     does not hold here, the entries for tests the results do not have, and the entry of a test that
//     came out inconclusive (the run could show neither the deviation nor its absence).
// The output is deterministic (the same inputs give the same bytes), and the gate fails every
// UNTRIAGED deviation until someone writes its reason.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/results.hpp"

namespace termsuite::runner {

struct ExpectationsUpdate {
  std::string text;                  // the new file
  std::vector<std::string> changes;  // one line per entry removed, added or changed
  std::vector<std::string> notes;    // what was left alone, and why
  std::size_t untriaged = 0;         // entries with an UNTRIAGED reason in the new file
};

// `existing`: the file's text (empty: there is none yet). `file_platform`: the id or family the
// file is for. `family`: the file serves several platforms (new entries get a "when").
// Throws ExpectationsError for a malformed file, std::runtime_error for what cannot be done.
ExpectationsUpdate update_expectations(std::string_view existing, std::string_view origin, std::string_view file_platform,
                                       bool family, const RunResults& results);

struct UpdateOptions {
  std::string platform;                    // empty: the one platform results file in results_dir
  std::filesystem::path results_dir;       // <platform-id>.json
  std::filesystem::path expectations_dir;  // <platform-id>.json or the family file
};
int expectations_update_command(const UpdateOptions& o);  // 0, or throws (exit 2)

}  // namespace termsuite::runner
