#pragma once
// The report channel's records, as the harness reads them.
//
// An actor writes one record per event: one line of JSON, written with one synchronous write
// before its next step, so the record survives TerminateProcess. Fields:
//   {"v":1,"pid":N,"tid":N,"seq":N,"ev":"name", ...event fields}
// See docs/actors.md. The reader never throws on bad input: a line that is not a record is
// kept as a malformed event, and bytes left without a newline at end of stream are a
// truncated event, so a test can assert on them and a report can show them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace termsuite {

struct Event {
  enum class Kind { record, malformed, truncated };
  Kind kind = Kind::record;
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::uint64_t seq = 0;
  std::string name;        // "ev"; empty unless kind == record
  nlohmann::json fields;   // the whole record object (record), or null
  std::string raw;         // the line as received, without its newline
  std::string problem;     // why it is malformed/truncated

  bool is(std::string_view ev) const { return kind == Kind::record && name == ev; }
  // A numeric field of the record, if present and an unsigned integer.
  std::optional<std::uint64_t> number(std::string_view key) const;
  // A string field, if present and a string.
  std::optional<std::string> text(std::string_view key) const;
  // A boolean field, if present and true or false (a JSON boolean, not a number or a string).
  std::optional<bool> flag(std::string_view key) const;
  std::string describe() const;  // one line for messages
};

// Parses one line (without its trailing newline).
Event parse_record(std::string_view line);

// Splits a byte stream into records. Feed bytes as they arrive; complete lines come out.
class RecordSplitter {
 public:
  std::vector<Event> feed(std::string_view bytes);
  // End of stream: any bytes left without a newline become one truncated event.
  std::optional<Event> finish();

 private:
  std::string pending_;
};

}  // namespace termsuite
