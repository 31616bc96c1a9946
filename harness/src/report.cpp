#include "termsuite/report.hpp"

#include <fmt/format.h>

namespace termsuite {

std::optional<std::uint64_t> Event::number(std::string_view key) const {
  if (kind != Kind::record || !fields.is_object()) return std::nullopt;
  auto it = fields.find(std::string(key));
  if (it == fields.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

std::optional<std::string> Event::text(std::string_view key) const {
  if (kind != Kind::record || !fields.is_object()) return std::nullopt;
  auto it = fields.find(std::string(key));
  if (it == fields.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<bool> Event::flag(std::string_view key) const {
  if (kind != Kind::record || !fields.is_object()) return std::nullopt;
  auto it = fields.find(std::string(key));
  if (it == fields.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::string Event::describe() const {
  switch (kind) {
    case Kind::record: return fmt::format("{} (pid {}, tid {}, seq {})", name, pid, tid, seq);
    case Kind::malformed: return fmt::format("malformed record ({}): {:.120}", problem, raw);
    case Kind::truncated: return fmt::format("truncated record ({}): {:.120}", problem, raw);
  }
  return "?";
}

namespace {
Event bad(Event::Kind kind, std::string_view line, std::string problem) {
  Event e;
  e.kind = kind;
  e.raw = std::string(line);
  e.problem = std::move(problem);
  return e;
}

bool unsigned_field(const nlohmann::json& j, const char* key, std::uint64_t max, std::uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  out = it->get<std::uint64_t>();
  return out <= max;
}
}  // namespace

Event parse_record(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad(Event::Kind::malformed, line, "not JSON");
  if (!j.is_object()) return bad(Event::Kind::malformed, line, "not a JSON object");
  std::uint64_t v = 0, pid = 0, tid = 0, seq = 0;
  if (!unsigned_field(j, "v", 0xffffffff, v) || v != 1)
    return bad(Event::Kind::malformed, line, "missing or unknown version \"v\"");
  if (!unsigned_field(j, "pid", 0xffffffff, pid)) return bad(Event::Kind::malformed, line, "bad \"pid\"");
  if (!unsigned_field(j, "tid", 0xffffffff, tid)) return bad(Event::Kind::malformed, line, "bad \"tid\"");
  if (!unsigned_field(j, "seq", UINT64_MAX, seq)) return bad(Event::Kind::malformed, line, "bad \"seq\"");
  auto ev = j.find("ev");
  if (ev == j.end() || !ev->is_string() || ev->get<std::string>().empty())
    return bad(Event::Kind::malformed, line, "missing event name \"ev\"");
  Event e;
  e.kind = Event::Kind::record;
  e.pid = static_cast<std::uint32_t>(pid);
  e.tid = static_cast<std::uint32_t>(tid);
  e.seq = seq;
  e.name = ev->get<std::string>();
  e.raw = std::string(line);
  e.fields = std::move(j);
  return e;
}

std::vector<Event> RecordSplitter::feed(std::string_view bytes) {
  std::vector<Event> out;
  pending_.append(bytes);
  std::size_t start = 0;
  for (;;) {
    auto nl = pending_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(pending_.data() + start, nl - start);
    if (!line.empty()) out.push_back(parse_record(line));
    start = nl + 1;
  }
  pending_.erase(0, start);
  return out;
}

std::optional<Event> RecordSplitter::finish() {
  if (pending_.empty()) return std::nullopt;
  Event e = bad(Event::Kind::truncated, pending_, "stream ended inside a record");
  pending_.clear();
  return e;
}

}  // namespace termsuite
