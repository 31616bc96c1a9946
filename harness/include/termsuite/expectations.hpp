#pragma once
// A platform's known deviations from the documents, each with its reason (like Wine's
// todo_wine). File: results/expectations/<platform-id>.json
//   {"platform": "wine-8.0-x86_64",
//    "deviations": [{"test": "Suite.Name", "claim": "claim.id", "expect": "fail", "reason": "..."}]}
// "expect" is "fail" or "timeout". A test listed here that passes is an unexpected pass and
// fails the gate, so the file stays true.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "termsuite/outcome.hpp"

namespace termsuite {

struct Deviation {
  std::string test;
  std::string claim;
  Outcome expect = Outcome::fail;  // fail or timeout
  std::string reason;
};

class ExpectationsError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Expectations {
 public:
  // Throws ExpectationsError("<origin>: <what>") on anything malformed: bad JSON, unknown or
  // missing keys, an empty reason, an "expect" other than fail/timeout, a test listed twice,
  // or a "platform" other than `platform_id` (when given).
  static Expectations parse(std::string_view json_text, std::string_view origin, std::string_view platform_id = {});
  // The file for `platform_id` in `dir`; a missing file means "no known deviations".
  static Expectations load_for(const std::filesystem::path& dir, std::string_view platform_id);

  const Deviation* find(std::string_view test) const;
  const std::vector<Deviation>& deviations() const { return deviations_; }
  const std::string& platform() const { return platform_; }
  const std::string& origin() const { return origin_; }
  bool from_file() const { return from_file_; }

 private:
  std::string platform_;
  std::string origin_;
  bool from_file_ = false;
  std::vector<Deviation> deviations_;
};

}  // namespace termsuite
