#pragma once
// The corpse finder: processes that have exited but whose objects are still held by a handle,
// and who holds them (Raymond Chen, "Why are there all these processes lingering near death, and
// what is keeping them alive?"). See docs/corpses.md.
//
// A scan reads the system handle list (NtQuerySystemInformation, SystemExtendedHandleInformation
// or SystemHandleInformation), keeps the handles whose object is a process or a thread, duplicates
// each one out of its holder and asks the object which process it is (for a thread: the thread's
// process) and whether that process has exited. Under Wine, whose server crashes on that list
// while a process has no handle yet, it probes each process's handle table instead. Every call
// into another process or one of its handles is given a bounded time. What it cannot establish is
// listed as unknown, with the step that failed and the error: it never guesses.
#include <windows.h>

#include "termsuite/win32.hpp"

#include <cstdint>
#include <utility>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace termsuite::corpses {

// An owned Win32 handle (termsuite/win32.hpp).
using Owned = termsuite::win32::OwnedHandle;


enum class HandleKind { process, thread };
const char* kind_name(HandleKind k);  // "PROCESS" or "THREAD"

// One handle that keeps a corpse: who holds it, its value in the holder, and what it is.
struct Holder {
  std::uint32_t pid = 0;
  std::string image;        // full image path, UTF-8; empty when unknown (image_error says why)
  std::string image_error;  // empty when the image is known
  std::uint64_t handle = 0;  // the handle's value in the holder
  HandleKind kind = HandleKind::process;
  std::optional<std::uint32_t> thread_id;  // THREAD handles: the thread it names
  std::optional<bool> thread_exited;       // THREAD handles: the thread object is signaled
  std::uint32_t granted_access = 0;        // as the system handle list reports it
};

// An exited process whose object is still referenced by at least one handle.
struct Corpse {
  std::uint32_t pid = 0;
  std::string image;
  std::string image_error;
  std::optional<std::uint32_t> exit_code;  // absent when GetExitCodeProcess failed (exit_code_error)
  std::string exit_code_error;
  std::vector<Holder> holders;  // by holder pid, then handle value
};

// Something the scan could not determine. `handles` are the holder's handle values it concerns
// (empty: the holder as a whole, e.g. it could not be opened).
struct Unknown {
  std::uint32_t holder_pid = 0;
  std::string holder_image;
  std::string kind;  // "process", "thread", or "process-or-thread" (type undetermined)
  std::vector<std::uint64_t> handles;
  std::uint64_t count = 0;  // how many handles of the list this covers
  std::string what;         // the step that failed, e.g. "OpenProcess(PROCESS_DUP_HANDLE)"
  std::uint32_t error = 0;  // GetLastError (Win32) or NTSTATUS, as `what` says
  std::string detail;       // one sentence: what is therefore not known
};

// Where the handle list came from.
struct Source {
  std::uint32_t info_class = 0;  // 64 or 16; 0 when neither answered
  std::string info_class_name;
  std::uint64_t handles = 0;  // entries in the list
  std::vector<std::string> notes;
};

// How object types were told apart.
struct Types {
  std::string method;  // "ObjectTypeIndex" or "per-handle" (NtQueryObject / GetProcessId on each duplicate)
  std::optional<std::uint32_t> process_index, thread_index;  // method ObjectTypeIndex
  std::vector<std::string> notes;
};

struct Options {
  std::optional<std::uint32_t> holder;  // only handles held by this process
  std::uint32_t info_class = 0;         // 64 or 16 only; 0: 64, falling back to 16 (never under Wine)
  bool per_handle = false;              // ask each duplicated handle its type, even if ObjectTypeIndex would do
  std::uint32_t query_budget_ms = 5000; // how long one call into another process or handle may take
};

struct Scan {
  bool available = false;      // false: the system handle information is unavailable
  std::string unavailable_reason;
  std::uint32_t scanner_pid = 0;  // this process: its own handles are never listed
  std::optional<std::uint32_t> holder_filter;
  Source source;
  Types types;
  std::uint64_t holders_examined = 0;   // processes whose process/thread handles were examined
  std::uint64_t process_handles = 0;    // process handles examined
  std::uint64_t thread_handles = 0;     // thread handles examined
  std::uint64_t live_targets = 0;       // of those, handles to a process still running
  std::uint64_t empty_tables = 0;       // probed tables (Wine) that held no handle at all
  std::vector<Corpse> corpses;          // by pid
  std::vector<Unknown> unknowns;
  double elapsed_ms = 0;
};

Scan scan(const Options& options = {});
nlohmann::ordered_json to_json(const Scan& s);
std::string to_text(const Scan& s);

}  // namespace termsuite::corpses
