// termsuite report channel, writer side: one JSON record per line, one WriteFile per record.
//
// Every actor (and the probe DLL) reports what it does through this library, synchronously and
// before its next step, so the evidence survives TerminateProcess. See docs/actors.md.
#pragma once

#include <windows.h>

#include <nlohmann/json.hpp>

#include <string_view>

namespace termsuite::report {

// Version of the record format (the "v" field).
inline constexpr int kFormatVersion = 1;
// A record, newline included, is always shorter than this (one pipe message, one read).
inline constexpr std::size_t kMaxRecordBytes = 4000;
// Environment variable carrying the channel's handle value (decimal) to DLLs and children.
inline constexpr const char* kEnvVar = "TERMSUITE_REPORT";

// Finds the channel: `--report <decimal handle>` as argv[1], argv[2] (removed from argv), else
// the TERMSUITE_REPORT environment variable, else standard output. Exports the handle to
// TERMSUITE_REPORT when it came from argv. Call it first thing in main; emit() also works without
// it (a DLL never calls init: it finds the channel through the environment).
void init(int& argc, char**& argv);

// Writes {"v":1,"pid":..,"tid":..,"seq":..,"ev":ev, ...fields} and a newline in one WriteFile.
// `fields` must be an object; its members follow "ev" in their order. Thread-safe, lock-free,
// never throws; a failed write (harness gone) is ignored. A record that would exceed
// kMaxRecordBytes is replaced by {"truncated":true,"bytes":N} after "ev".
void emit(std::string_view ev, const nlohmann::ordered_json& fields = nlohmann::ordered_json::object()) noexcept;

// The handle records are written to (the harness's pipe, or standard output).
HANDLE channel() noexcept;

// A thread's "sign of life" for code that must outlive the module starting the thread (the probe
// DLL creates threads inside DllMain, also in a FreeLibrary-time DLL_PROCESS_DETACH, after which
// its own code is unmapped). Every module linking this library exports termsuite_sign_of_life
// (named by kSignOfLifeExport); the probe starts its threads at the main module's copy. The
// context is allocated from the process heap by the starter and owned by the thread: the thread
// emits `ev` with {"during": during}, sets `event`, closes it and frees the context.
struct SignOfLife {
  HANDLE event;
  char ev[32];
  char during[32];
};
inline constexpr const char* kSignOfLifeExport = "termsuite_sign_of_life";

}  // namespace termsuite::report

extern "C" __declspec(dllexport) DWORD WINAPI termsuite_sign_of_life(void* context);
