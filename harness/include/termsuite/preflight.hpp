#pragma once
// The preflight: what the machine a user brings does to the suite's processes, checked before
// the suite runs (both runners run it; `termsuite doctor` runs it alone). A verdict is about the
// platform, never the machine: a post-mortem debugger, a missing desktop or the CI runner's own
// job must never show as FAIL or TIMEOUT. So each check says what it found, which tests it
// affects and how to change it, and the run either neutralises it for its own processes or skips
// the tests it affects, naming the setting.
//
// The checks are one list of small functions over facts:
// - WindowsFacts are measured inside a Windows process (the suite binary, `termsuite-live.exe
//   --termsuite-preflight`, harness/live/preflight_probe.cpp), on Windows or under Wine;
// - HostFacts are the Linux runner's own (which Wine, which wineserver, the X display).
// Judging them is portable, so the logic is unit-tested natively (harness/tests/preflight_test.cpp).
//
// Nothing here writes a setting. The one neutralisation that needs a per-user setting (Wine's
// crash dialog, HKCU\Software\Wine\WineDbg\ShowCrashDialog, as Wine's own test runner winetest
// sets it) is applied and restored by the runner (run_settings.hpp); the others are properties
// of the suite's own processes (their error mode).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace termsuite::preflight {

// What the run does about a finding.
enum class Verdict {
  ok,           // nothing in the way
  note,         // reported only: it changes no outcome (who the run is, which C runtime, ...)
  neutralised,  // it would change outcomes; the run changes a per-process or per-run setting instead
  skip,         // it would change outcomes and cannot be neutralised: the tests it affects skip
};
std::string_view to_string(Verdict v);
std::optional<Verdict> parse_verdict(std::string_view s);

// Which actor starts a finding makes skip (ClaimTest::start asks skip_reason()).
enum class Skips {
  none,
  gui,    // every GUI actor (actor-gui) that creates a window: no window can be created
  crash,  // every actor that takes an unhandled exception to the post-mortem debugger
  any,    // every actor: the suite's actors cannot be put into its jobs
};

// A per-run setting that neutralises a finding: a REG_DWORD of the current user's hive, set for
// the run and restored afterwards (run_settings.hpp keeps the old value and restores it, even
// after the runner is killed).
struct Setting {
  std::string key;    // under HKEY_CURRENT_USER, e.g. "Software\\Wine\\WineDbg"
  std::string value;  // "ShowCrashDialog"
  std::uint32_t data = 0;
  std::string describe() const;  // HKCU\Software\Wine\WineDbg\ShowCrashDialog=0
  bool operator==(const Setting&) const = default;
};

struct Finding {
  std::string check;    // "post-mortem-debugger", "desktop", ...
  Verdict verdict = Verdict::ok;
  std::string found;    // what it found, one line
  std::string affects;  // which tests it affects, in words (empty: none)
  std::string action;   // what the run does about it (the neutralisation, or the skip)
  std::string fix;      // how to change the machine (empty: nothing to change)
  Skips skips = Skips::none;
  // A per-run setting the runner applies and restores: it neutralises a skip, or (with a note)
  // keeps the run from leaving a trace of what it finds (winedbg's own registry key).
  std::optional<Setting> setting;
  bool applied = false;  // the runner set `setting` for this run (and restores it)
  // Keys of the current user's hive that the run's processes may write although the run sets
  // nothing there (Wine's conhost saves its default settings under HKCU\Console when it first
  // opens a console window; winedbg makes HKCU\Software\Wine\WineDbg): the runner puts them
  // back as they were, with the settings.
  std::vector<std::string> keeps;

  nlohmann::ordered_json to_json() const;
  static Finding from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
};

// One "HKLM\...\AeDebug" key as the process reads it.
struct AeDebug {
  bool present = false;                  // the key exists
  std::optional<std::string> debugger;   // Debugger (REG_SZ or REG_EXPAND_SZ, expanded)
  std::optional<std::string> autostart;  // Auto, as text ("1", "0")
};

// A REG_DWORD read from both hives: the user's, the machine's, and the machine's policy.
struct DwordSetting {
  std::optional<std::uint32_t> user, machine, policy;
};

// What the Win32 side measured, inside a Windows process.
struct WindowsFacts {
  std::string version;  // the Windows version the process sees, "10.0.22631" (RtlGetVersion)
  std::string wine;     // Wine's version; empty on Windows
  // Post-mortem debugger: HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\AeDebug, and its
  // 32-bit copy under Wow6432Node (64-bit Windows).
  AeDebug aedebug, aedebug_wow64;
  // Wine: HKCU\Software\Wine\WineDbg\ShowCrashDialog (winedbg shows its dialog unless it is 0).
  std::optional<std::uint32_t> show_crash_dialog;
  // Windows Error Reporting: DontShowUI, Disabled (HKCU, HKLM, HKLM policy), and whether
  // HKLM\...\Windows Error Reporting\LocalDumps exists.
  DwordSetting wer_dont_show_ui, wer_disabled;
  bool wer_local_dumps = false;
  // The window station's WSF_VISIBLE flag, and winetest's check_display_driver: a STATIC
  // window created (and destroyed) by this process.
  bool station_visible = false;
  bool window_created = false;
  std::uint32_t window_error = 0;
  // HKCU\Console\%%Startup: DelegationConsole and DelegationTerminal (the default terminal).
  std::optional<std::string> delegation_console, delegation_terminal;
  // IsProcessInJob(self, NULL); the immediate job's LimitFlags and UI restrictions
  // (QueryInformationJobObject(NULL, ...)): unreadable under Wine, whose queries are stubs.
  bool in_job = false;
  std::optional<std::uint32_t> job_limit_flags, job_ui_restrictions;
  std::uint32_t threads = 0;  // this process's threads when the check ran (Toolhelp)
  std::string c_runtime;      // the module that provides the program's abort(): "msvcrt.dll", ...
  bool administrators_member = false;  // CheckTokenMembership(Administrators)
  std::optional<bool> elevated;        // TokenElevation

  bool under_wine() const { return !wine.empty(); }
  nlohmann::ordered_json to_json() const;
  static WindowsFacts from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
};

// What the Linux runner knows before it starts Wine.
struct HostFacts {
  std::string wine_launcher, wine_version, wine_chosen_by;  // choose_wine(): "PATH", "WINE", "--wine"
  std::string wineserver;
  std::string display;             // $DISPLAY
  bool display_answers = false;    // something listens there
  std::string xvfb;                // Xvfb on PATH (empty: none)
  std::string preloader;           // Wine's preloader beside its loader (empty: none)
  // Without a preloader, what the runner did about address randomisation (address_space.hpp):
  // "off-for-run", "already-off", or "refused: <why>".
  std::string randomisation;
};

// Who applies per-run settings. The runners do (conform, then restores); a suite binary run by
// hand has nobody to restore a setting, so what needs one skips there.
enum class Context { runner, suite_alone };

// The Windows-side checks, in order: post-mortem-debugger, error-reporting, desktop,
// console-host, job, loader-threads, c-runtime, administrator, windows-version.
std::vector<Finding> judge_windows(const WindowsFacts& f, Context context);
// The Linux runner's own checks: wine, wineserver, address-space, display.
std::vector<Finding> judge_host(const HostFacts& h);
// Its address-space check alone, which termsuite.exe under Wine also makes (from its loader's
// folder and whether setarch is there; the runner's shell starts the suite processes under it).
Finding judge_address_space(const HostFacts& h);

// The finding once the runner has applied its setting: a skip becomes neutralised; a note says it.
Finding neutralised_by_setting(Finding f);

// Why an actor of `kind` ("console", "gui") with these verbs cannot run on this machine, as the
// findings say; empty when it can. Names the check and the setting.
std::string skip_reason(const std::vector<Finding>& findings, std::string_view kind,
                        const std::vector<std::string>& verbs);
// An actor whose verbs take an unhandled exception to the system's default handling (where a
// post-mortem debugger attaches): a `crash` other than fail-fast, without a top-level filter.
bool takes_crash_to_debugger(const std::vector<std::string>& verbs);
// A GUI actor whose verbs create a window (window, listen-private's listener, cbt-hook's
// window); one started with no-window needs none (helpers/gui_actor).
bool creates_window(const std::vector<std::string>& verbs);

// One line per finding, for the doctor and the run's summary:
//   "  ok          desktop              a window can be created"
std::string format_line(const Finding& f);

// The findings that changed the run (neutralised, skipped tests, or a setting applied): what the
// results record.
std::vector<Finding> changed_the_run(const std::vector<Finding>& findings);

// The preflight as the suite prints it (--termsuite-preflight, --termsuite-describe) and the
// runner stores it (the run folder's preflight.json, TERMSUITE_PREFLIGHT): one JSON object.
struct Report {
  std::optional<WindowsFacts> facts;
  std::vector<Finding> findings;
  nlohmann::ordered_json to_json() const;
  static Report from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
};

}  // namespace termsuite::preflight
