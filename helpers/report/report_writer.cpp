#include <termsuite/report_writer.hpp>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>

// No locks anywhere in this file: a record may be written from DllMain while the process exits,
// after ExitProcess has terminated every other thread wherever it was. A lock held by one of
// them would hang (or, on Windows, end) the process and lose the DETACH record. Function-local
// statics are avoided for the same reason (their guard is a lock).

namespace termsuite::report {
namespace {

using json = nlohmann::ordered_json;

std::atomic<bool> g_resolved{false};
std::atomic<HANDLE> g_channel{nullptr};
std::atomic<LONG*> g_seq{nullptr};
LONG g_local_seq = 0;  // used only if the per-process counter cannot be mapped

bool parse_handle(const char* text, HANDLE& out) {
  if (text == nullptr || *text == '\0') return false;
  std::uintptr_t value = 0;
  const char* end = text + std::char_traits<char>::length(text);
  auto [ptr, ec] = std::from_chars(text, end, value, 10);
  if (ec != std::errc{} || ptr != end || value == 0) return false;
  out = reinterpret_cast<HANDLE>(value);
  return true;
}

// A handle value from the environment may be stale (inherited variable, handle not inherited).
bool handle_is_open(HANDLE h) {
  DWORD flags = 0;
  return h != nullptr && h != INVALID_HANDLE_VALUE && GetHandleInformation(h, &flags);
}

HANDLE from_environment() {
  char text[32] = {};
  DWORD n = GetEnvironmentVariableA(kEnvVar, text, sizeof text);
  HANDLE h = nullptr;
  if (n == 0 || n >= sizeof text || !parse_handle(text, h) || !handle_is_open(h)) return nullptr;
  return h;
}

void set_channel(HANDLE h) {
  g_channel.store(h);
  g_resolved.store(true);
}

// Lazy resolution for code that never called init (a DLL). Racing threads compute the same value.
HANDLE resolve() {
  if (g_resolved.load()) return g_channel.load();
  HANDLE h = from_environment();
  if (h == nullptr) h = GetStdHandle(STD_OUTPUT_HANDLE);
  set_channel(h);
  return h;
}

// "seq" counts records per process, not per module: the EXE and every DLL carry their own copy
// of this library, so the counter lives in a small named section shared by all of them.
LONG* sequence_counter() {
  if (LONG* p = g_seq.load()) return p;
  char name[64];
  std::snprintf(name, sizeof name, "Local\\termsuite.report.seq.%lu",
                static_cast<unsigned long>(GetCurrentProcessId()));
  LONG* p = &g_local_seq;
  // The section handle is kept open for the life of the process on purpose.
  if (HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0,
                                          sizeof(LONG), name)) {
    if (void* view = MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(LONG))) {
      p = static_cast<LONG*>(view);
    }
  }
  LONG* expected = nullptr;
  if (!g_seq.compare_exchange_strong(expected, p)) {
    if (p != &g_local_seq) UnmapViewOfFile(p);  // another thread won; same section, other view
    p = expected;
  }
  return p;
}

json header(std::string_view ev, LONG seq) {
  json record = json::object();
  record["v"] = kFormatVersion;
  record["pid"] = GetCurrentProcessId();
  record["tid"] = GetCurrentThreadId();
  record["seq"] = seq;
  record["ev"] = ev;
  return record;
}

std::string serialise(const json& record) {
  // Invalid UTF-8 (an ANSI argv) is replaced rather than thrown on.
  return record.dump(-1, ' ', false, json::error_handler_t::replace) + '\n';
}

}  // namespace

void init(int& argc, char**& argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "--report") {
    HANDLE h = nullptr;
    if (parse_handle(argv[2], h)) {
      set_channel(h);
      SetEnvironmentVariableA(kEnvVar, argv[2]);
      for (int i = 3; i <= argc; ++i) argv[i - 2] = argv[i];  // argv[argc] is the null pointer
      argc -= 2;
      return;
    }
    // A malformed value is left in argv: the actor's parser reports it as a usage error.
  }
  HANDLE h = from_environment();
  set_channel(h != nullptr ? h : GetStdHandle(STD_OUTPUT_HANDLE));
}

HANDLE channel() noexcept { return resolve(); }

void emit(std::string_view ev, const json& fields) noexcept {
  try {
    const LONG seq = InterlockedIncrement(sequence_counter()) - 1;
    json record = header(ev, seq);
    if (fields.is_object()) {
      for (const auto& [key, value] : fields.items()) record[key] = value;
    } else if (!fields.is_null()) {
      record["value"] = fields;
    }
    std::string line = serialise(record);
    if (line.size() >= kMaxRecordBytes) {
      json small = header(ev, seq);
      small["truncated"] = true;
      small["bytes"] = line.size();
      line = serialise(small);
    }
    DWORD written = 0;
    WriteFile(resolve(), line.data(), static_cast<DWORD>(line.size()), &written, nullptr);
  } catch (...) {
    // Out of memory or a bad field: nothing sensible to report it to.
  }
}

}  // namespace termsuite::report

extern "C" DWORD WINAPI termsuite_sign_of_life(void* context) {
  auto* sign = static_cast<termsuite::report::SignOfLife*>(context);
  termsuite::report::emit(sign->ev, {{"during", sign->during}});
  SetEvent(sign->event);
  CloseHandle(sign->event);
  HeapFree(GetProcessHeap(), 0, sign);
  return 0;
}
