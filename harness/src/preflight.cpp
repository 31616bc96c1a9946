// The preflight's checks: one small function per check, each from facts to a Finding (what it
// found, the tests it affects, what the run does, how to change the machine). Sources of each
// rule are cited where the rule is made.
#include "termsuite/preflight.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace termsuite::preflight {

using ojson = nlohmann::ordered_json;

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::ok: return "ok";
    case Verdict::note: return "note";
    case Verdict::neutralised: return "neutralised";
    case Verdict::skip: return "skip";
  }
  return "?";
}

std::optional<Verdict> parse_verdict(std::string_view s) {
  for (auto v : {Verdict::ok, Verdict::note, Verdict::neutralised, Verdict::skip})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

namespace {

std::string_view skips_name(Skips s) {
  switch (s) {
    case Skips::none: return "none";
    case Skips::gui: return "gui";
    case Skips::crash: return "crash";
    case Skips::any: return "any";
  }
  return "none";
}

Skips parse_skips(std::string_view s) {
  for (auto k : {Skips::gui, Skips::crash, Skips::any})
    if (skips_name(k) == s) return k;
  return Skips::none;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

// "6.1.7601" -> {6, 1, 7601}; missing numbers are 0.
std::array<unsigned, 3> version_numbers(std::string_view v) {
  std::array<unsigned, 3> n{};
  std::size_t i = 0;
  for (char c : v) {
    if (c == '.') {
      if (++i == n.size()) break;
    } else if (c >= '0' && c <= '9') {
      n[i] = n[i] * 10 + static_cast<unsigned>(c - '0');
    } else {
      break;
    }
  }
  return n;
}

bool at_least(std::string_view version, unsigned major, unsigned minor) {
  auto n = version_numbers(version);
  return n[0] > major || (n[0] == major && n[1] >= minor);
}

template <typename T>
void put_optional(ojson& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
  else j[key] = nullptr;
}

template <typename T>
std::optional<T> get_optional(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

ojson aedebug_json(const AeDebug& a) {
  ojson j;
  j["present"] = a.present;
  put_optional(j, "debugger", a.debugger);
  put_optional(j, "auto", a.autostart);
  return j;
}

AeDebug aedebug_from(const nlohmann::json& j) {
  AeDebug a;
  a.present = j.at("present").get<bool>();
  a.debugger = get_optional<std::string>(j, "debugger");
  a.autostart = get_optional<std::string>(j, "auto");
  return a;
}

ojson dword_json(const DwordSetting& d) {
  ojson j;
  put_optional(j, "user", d.user);
  put_optional(j, "machine", d.machine);
  put_optional(j, "policy", d.policy);
  return j;
}

DwordSetting dword_from(const nlohmann::json& j) {
  return DwordSetting{get_optional<std::uint32_t>(j, "user"), get_optional<std::uint32_t>(j, "machine"),
                      get_optional<std::uint32_t>(j, "policy")};
}

// The value that applies: the policy, else the user's, else the machine's ("WER Settings" lists the
// HKCU and HKLM locations; that the policy copy wins is the common reading, not documented).
std::optional<std::uint32_t> effective(const DwordSetting& d) {
  if (d.policy) return d.policy;
  if (d.user) return d.user;
  return d.machine;
}

// ---------------------------------------------------------------------------------------------
// The Windows-side checks.

constexpr const char* kCrashTests =
    "the tests that crash an actor (exit.code.fatal-exception, exit.code.fatal-exception-threads, "
    "fatal.stack-overflow)";

// Who a post-mortem debugger command line is ("Enabling Postmortem Debugging",
// https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/enabling-postmortem-debugging:
// ProcDump -i registers "ProcDump.exe -accepteula -j ... %ld %ld %p", Visual Studio
// vsjitdebugger.exe, WinDbg -I "windbg -p %ld -e %ld -g").
std::string debugger_name(std::string_view command) {
  if (contains_ci(command, "procdump")) return "ProcDump (procdump -i)";
  if (contains_ci(command, "vsjitdebugger")) return "Visual Studio's just-in-time debugger";
  if (contains_ci(command, "windbg")) return "WinDbg";
  if (contains_ci(command, "winedbg")) return "winedbg";
  if (contains_ci(command, "drwtsn32")) return "Dr. Watson";
  return "a post-mortem debugger";
}

std::string describe_aedebug(const AeDebug& a, std::string_view where) {
  return fmt::format("{}AeDebug Debugger=\"{}\", Auto={}", where, a.debugger.value_or(""),
                     a.autostart ? "\"" + *a.autostart + "\"" : std::string("unset"));
}

Finding check_post_mortem_debugger(const WindowsFacts& f, Context context) {
  Finding r;
  r.check = "post-mortem-debugger";
  r.affects = kCrashTests;
  if (!f.under_wine()) {
    // On Windows the error mode decides: "SEM_NOGPFAULTERRORBOX: The system does not invoke Windows
    // Error Reporting" (SetErrorMode, https://learn.microsoft.com/en-us/windows/win32/api/errhandlingapi/nf-errhandlingapi-seterrormode),
    // and "Windows Error Reporting (WER) creates the postmortem debugger process using the values set
    // in the AeDebug registry key" (Enabling Postmortem Debugging). The harness sets it for itself
    // and its actors inherit it; each actor sets it again (Wine's winetest does the same:
    // programs/winetest/main.c, SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX)).
    std::vector<std::string> registered;
    for (const auto* a : {&f.aedebug, &f.aedebug_wow64})
      if (a->debugger && !a->debugger->empty())
        registered.push_back(fmt::format("{} ({})", describe_aedebug(*a, a == &f.aedebug ? "" : "Wow6432Node\\"),
                                         debugger_name(*a->debugger)));
    if (registered.empty()) {
      r.found = "no post-mortem debugger is registered (AeDebug Debugger unset)";
      r.affects.clear();
      return r;
    }
    r.verdict = Verdict::neutralised;
    r.found = fmt::format("{} would attach to a crashing process", fmt::join(registered, "; "));
    r.action = "the suite and its actors run with SetErrorMode(SEM_NOGPFAULTERRORBOX): Windows Error Reporting, "
               "which starts the post-mortem debugger, is not invoked for them";
    r.fix = "to debug nothing: procdump -u, or remove Debugger under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\"
            "CurrentVersion\\AeDebug (administrator)";
    return r;
  }
  // Wine 8.0, dlls/kernelbase/debug.c (start_debugger): an unhandled exception starts AeDebug's
  // Debugger, or "winedbg --auto %ld %ld" when there is none; an empty one cannot start, so the
  // process ends with its exception code. winedbg --auto shows its crash dialog, which waits for a
  // click, unless HKCU\Software\Wine\WineDbg\ShowCrashDialog is 0 or no window can be created
  // (programs/winedbg/crashdlg.c, display_crash_dialog); otherwise it writes its report into the
  // crashing process's output and ends it with the exception code (tgt_active.c).
  const auto& a = f.aedebug;
  if (a.debugger && a.debugger->empty()) {
    r.found = "AeDebug Debugger is empty: an unhandled exception ends the process with its code, no debugger starts";
    r.affects.clear();
    return r;
  }
  const bool winedbg = !a.debugger || contains_ci(*a.debugger, "winedbg");
  if (winedbg) r.keeps = {"Software\\Wine\\WineDbg"};  // made by winedbg when it starts (winedbg.c)
  const std::string which = a.debugger ? describe_aedebug(a, "") : std::string("AeDebug Debugger unset (winedbg --auto)");
  if (!winedbg) {
    r.verdict = Verdict::skip;
    r.skips = Skips::crash;
    r.found = fmt::format("{} would attach to a crashing actor", which);
    r.action = "the tests that crash an actor skip";
    r.fix = "set AeDebug Debugger to \"winedbg --auto %ld %ld\" (or empty it) in this prefix";
    return r;
  }
  if (f.show_crash_dialog && *f.show_crash_dialog == 0) {
    r.verdict = Verdict::note;
    r.found = fmt::format("{}: winedbg attaches to a crashing actor, writes its report into the actor's output (the run's "
                          "logs) and ends it with the exception code; its crash dialog is off (ShowCrashDialog=0)",
                          which);
    return r;
  }
  // winetest sets it around every run under Wine, display or not: programs/winetest/main.c,
  // disable_crash_dialog() and restore_crash_dialog()
  // (https://github.com/wine-mirror/wine/blob/wine-8.0/programs/winetest/main.c). The run does the
  // same, and its restore also takes away the HKCU\Software\Wine\WineDbg key that winedbg makes
  // when it starts (programs/winedbg/winedbg.c, dbg_load_internal_vars), so the prefix is left as
  // the run found it.
  r.setting = Setting{"Software\\Wine\\WineDbg", "ShowCrashDialog", 0};
  if (!f.window_created) {
    r.verdict = Verdict::note;
    r.found = fmt::format("{}: winedbg attaches to a crashing actor, writes its report into the actor's output (the run's "
                          "logs) and ends it with the exception code; no window can be created, so its crash dialog "
                          "cannot wait for a click",
                          which);
    r.action = "the crash tests run";
    return r;
  }
  r.found = fmt::format("{}, ShowCrashDialog {}: winedbg would wait in its crash dialog for a click", which,
                        f.show_crash_dialog ? fmt::format("={}", *f.show_crash_dialog) : std::string("unset"));
  r.fix = fmt::format("set HKCU\\{}\\{}=0 (wine reg add \"HKCU\\{}\" /v {} /t REG_DWORD /d 0)", r.setting->key,
                      r.setting->value, r.setting->key, r.setting->value);
  r.verdict = Verdict::skip;
  r.skips = Skips::crash;
  r.action = context == Context::runner ? "the tests that crash an actor skip"
                                        : "the tests that crash an actor skip (termsuite conform sets it for its run)";
  return r;
}

Finding check_error_reporting(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "error-reporting";
  if (f.under_wine()) {
    r.found = "Wine has no Windows Error Reporting";
    return r;
  }
  // "WER Settings" (https://learn.microsoft.com/en-us/windows/win32/wer/wer-settings): DontShowUI
  // "0 - UI (default) / 1 - No UI", Disabled "0 - Enabled (default) / 1 - Disabled", in HKCU and HKLM.
  const auto disabled = effective(f.wer_disabled);
  const auto no_ui = effective(f.wer_dont_show_ui);
  const std::string dumps = f.wer_local_dumps ? "; LocalDumps is configured (no dump is written for the suite's "
                                                "processes: the error mode keeps WER from being invoked)"
                                              : "";
  if (disabled && *disabled == 1) {
    r.found = "Windows Error Reporting is disabled (Disabled=1)" + dumps;
    return r;
  }
  if (no_ui && *no_ui == 1) {
    r.found = "Windows Error Reporting shows no UI (DontShowUI=1)" + dumps;
    return r;
  }
  r.verdict = Verdict::neutralised;
  r.found = fmt::format("Windows Error Reporting may show a dialog for a crashing process (DontShowUI {}){}",
                        no_ui ? fmt::format("={}", *no_ui) : std::string("unset"), dumps);
  r.affects = kCrashTests;
  r.action = "the suite and its actors run with SetErrorMode(SEM_NOGPFAULTERRORBOX) and WerSetFlags(WER_FAULT_REPORTING_NO_UI)";
  r.fix = "DontShowUI=1 under HKCU\\Software\\Microsoft\\Windows\\Windows Error Reporting";
  return r;
}

Finding check_desktop(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "desktop";
  if (f.window_created) {
    r.found = f.under_wine() ? "a window can be created (Wine's display driver works)"
                             : "a window can be created (the window station is visible)";
    return r;
  }
  // winetest, check_display_driver(): "Unable to create a window, the display driver is not
  // working." Under Wine 8.0 without a display the window station is still WSF_VISIBLE, so only
  // creating a window tells (dlls/win32u/driver.c, nodrv_CreateWindow).
  r.verdict = Verdict::skip;
  r.skips = Skips::gui;
  r.affects = "every test whose GUI actor creates a window (taskkill.gui-wm-close, taskkill.gui-ignores-close, "
              "taskkill.force, graceful.private-message, hooks.no-wh-cbt)";
  r.action = "each test skips at its first GUI actor that would create a window";
  if (f.under_wine()) {
    r.found = fmt::format("no window can be created (CreateWindow failed, error {}): the prefix's desktop has no display "
                          "driver (it was started without an X display)",
                          f.window_error);
    r.fix = "run with an X display (DISPLAY, or Xvfb); a prefix whose wineserver started without one needs "
            "`wineserver -k` first";
  } else {
    r.found = fmt::format("no window can be created (CreateWindow failed, error {}; the window station is {})", f.window_error,
                          f.station_visible ? "visible" : "not visible: a service or a non-interactive session");
    r.fix = "run in an interactive session (a CI agent as a user process, not as a service)";
  }
  return r;
}

// microsoft/terminal, src/propslib/DelegationConfig.hpp: the CLSIDs of the default terminal under
// HKCU\Console\%%Startup (DelegationConsole, DelegationTerminal).
constexpr std::string_view kConhost = "{B23D10C0-E52E-411E-9D5B-C09FDF709C7D}";
constexpr std::string_view kDefault = "{00000000-0000-0000-0000-000000000000}";
constexpr std::string_view kTerminalConsole = "{2EACA947-7F5F-4CFA-BA87-8F7FBEEFBE69}";
constexpr std::string_view kTerminalTerminal = "{E12CFF52-A866-4C77-9A90-F570A7AA2C6B}";

Finding check_console_host(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "console-host";
  if (f.under_wine()) {
    r.found = "Wine's conhost hosts new consoles (no default-terminal delegation)";
    // programs/conhost/window.c: the first console window it opens without a configured font saves
    // its defaults under HKCU\Console (save_config): the runner puts the key back as it was.
    r.keeps = {"Console"};
    return r;
  }
  auto is = [](const std::optional<std::string>& v, std::string_view clsid) { return v && lower(*v) == lower(clsid); };
  auto unset = [&](const std::optional<std::string>& v) { return !v || v->empty() || is(v, kDefault); };
  // s_GetDelegationPair: "If either are CLSID_Default ... Default"; else "If either are CLSID_Conhost
  // ... Conhost"; else custom (src/propslib/DelegationConfig.cpp).
  const bool by_default = unset(f.delegation_console) || unset(f.delegation_terminal);
  if (!by_default && (is(f.delegation_console, kConhost) || is(f.delegation_terminal, kConhost))) {
    r.found = "new consoles are hosted by conhost (default terminal: Windows Console Host)";
    return r;
  }
  const bool windows_11 = version_numbers(f.version)[2] >= 22000;
  if (by_default && !windows_11) {
    r.found = "new consoles are hosted by conhost (no default-terminal delegation before Windows 11)";
    return r;
  }
  r.verdict = Verdict::note;
  r.found = by_default ? "default terminal \"Let Windows decide\" (HKCU\\Console\\%%Startup DelegationConsole unset): "
                         "Windows 11 may hand a new console to Windows Terminal"
            : is(f.delegation_console, kTerminalConsole) || is(f.delegation_terminal, kTerminalTerminal)
                ? "default terminal: Windows Terminal (HKCU\\Console\\%%Startup DelegationConsole)"
                : fmt::format("default terminal: another terminal (HKCU\\Console\\%%Startup DelegationConsole={})",
                              f.delegation_console.value_or(""));
  r.affects = "the tests that close a console window (ctrl.close-event, taskkill.console-close): a console hosted by "
              "Windows Terminal has a PseudoConsoleWindow, which ignores WM_CLOSE";
  r.action = "each of them looks at its console's window and skips under a PseudoConsoleWindow";
  r.fix = fmt::format("make Windows Console Host the default terminal (Settings > System > For developers > Terminal, or "
                      "DelegationConsole and DelegationTerminal = {} under HKCU\\Console\\%%Startup)",
                      kConhost);
  return r;
}

// JOBOBJECT_BASIC_LIMIT_INFORMATION's flags:
// https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-jobobject_basic_limit_information
constexpr std::uint32_t kBreakawayOk = 0x800, kSilentBreakawayOk = 0x1000, kKillOnJobClose = 0x2000;

Finding check_job(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "job";
  if (!f.in_job) {
    r.found = "the suite's process is in no job";
    return r;
  }
  if (f.under_wine()) {
    // Wine 8.0's NtQueryInformationJobObject answers every limit query with zeros (dlls/ntdll/unix/sync.c),
    // but its server nests jobs and applies breakaway (server/process.c).
    r.verdict = Verdict::note;
    r.found = "the suite's process is in a job (its runner's, or a CI's); Wine 8.0 cannot report the job's limits";
    r.affects = "job.breakaway, job.silent-breakaway: a child that breaks away from a test's job stays in this job "
                "unless it allows breakaway";
    return r;
  }
  // "Nested Jobs" (https://learn.microsoft.com/en-us/windows/win32/procthread/nested-jobs): "Nested
  // jobs were introduced in Windows 8"; jobs nest "if the system can form a valid job hierarchy and
  // neither job sets UI limits"; a breakaway climbs "until it reaches a job that does not permit
  // breakaway".
  const bool nests = at_least(f.version, 6, 2);
  const bool ui_limits = f.job_ui_restrictions && *f.job_ui_restrictions != 0;
  std::string limits = f.job_limit_flags ? fmt::format("LimitFlags={:#x}", *f.job_limit_flags) : "LimitFlags unreadable";
  if (f.job_limit_flags && (*f.job_limit_flags & kKillOnJobClose)) limits += " (kill on job close)";
  const std::string ui = f.job_ui_restrictions ? fmt::format("UIRestrictionsClass={:#x}", *f.job_ui_restrictions)
                                               : "UI restrictions unreadable";
  if (!nests || ui_limits) {
    r.verdict = Verdict::skip;
    r.skips = Skips::any;
    r.found = fmt::format("the suite's process is in a job ({}, {}) that cannot hold the suite's own jobs: {}", limits, ui,
                          !nests ? "Windows before 8 nests no jobs" : "a job with UI restrictions does not nest");
    r.affects = "every test: each actor is put into a job of its test";
    r.action = "every test skips at its first actor";
    r.fix = !nests ? "run bin\\termsuite-live.exe directly, outside any job (termsuite.exe conform runs its suites in a job "
                     "of its own)"
                   : "run the suite in a job without UI restrictions (the CI runner's job)";
    return r;
  }
  const bool breakaway = f.job_limit_flags && (*f.job_limit_flags & (kBreakawayOk | kSilentBreakawayOk));
  r.verdict = Verdict::note;
  r.found = fmt::format("the suite's process is in a job ({}, {}): the suite's jobs nest inside it; {}", limits, ui,
                        breakaway ? "a child may break away from it"
                                  : "a child that breaks away from a test's job stays in it (breakaway not allowed)");
  r.affects = "job.breakaway, job.silent-breakaway (the child leaves the test's job either way)";
  return r;
}

Finding check_loader_threads(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "loader-threads";
  if (f.threads <= 1) {
    r.found = f.under_wine() ? "one thread in the suite's process: Wine has no parallel loader"
                             : "one thread in the suite's process: no loader thread pool";
    return r;
  }
  // "Why does my single-threaded program have multiple threads?" (The Old New Thing,
  // https://devblogs.microsoft.com/oldnewthing/20191115-00/?p=103102): the loader's thread pool;
  // its workers idle about 30 s ("Windows 10 Parallel Loading Breakdown", BlackBerry/Cylance).
  r.verdict = Verdict::note;
  r.found = fmt::format("{} threads in the suite's process before its first test: the loader's thread pool (Windows 10 "
                        "and later) idles about 30 s and outlives an actor's last thread of its own",
                        f.threads);
  r.affects = "exit.code.last-thread, terminate-thread.last-thread-ends-process: while pool workers live, the "
              "process's exit code is recorded, not asserted";
  r.fix = "none per process (Image File Execution Options MaxLoaderThreads is per image name, machine-wide)";
  return r;
}

Finding check_c_runtime(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "c-runtime";
  r.verdict = Verdict::note;
  const auto crt = f.c_runtime.empty() ? std::string("an unknown module") : f.c_runtime;
  // abort (https://learn.microsoft.com/en-us/cpp/c-runtime-library/reference/abort): the UCRT's
  // release abort() reports the fault (__fastfail, 0xC0000409); msvcrt.dll's calls _exit(3). Wine
  // 8.0's builtin msvcrt and ucrtbase both _exit(3) (dlls/msvcrt/exit.c).
  const bool ucrt = contains_ci(crt, "ucrtbase") || contains_ci(crt, "api-ms-win-crt");
  r.found = fmt::format("the suite and its actors use the C runtime {}{}", crt,
                        ucrt ? " (the Universal CRT: a release abort() fails fast, 0xC0000409)"
                             : contains_ci(crt, "msvcrt") ? " (the system's msvcrt.dll, as mingw-w64 links it: abort() exits with 3)"
                                                          : "");
  if (f.under_wine()) r.found += "; Wine's builtin msvcrt and ucrtbase end abort() with exit code 3";
  r.affects = "fatal.abort: Fatal.AbortRunsNoAtexitRoutine records abort()'s exit code rather than asserting it";
  return r;
}

Finding check_administrator(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "administrator";
  r.verdict = Verdict::note;
  if (!f.administrators_member) r.found = "the run is not an administrator's";
  else if (f.elevated && !*f.elevated) r.found = "the run is an administrator's, not elevated";
  else r.found = "the run has administrator rights";
  if (f.under_wine()) r.found += " (Wine runs every program as an administrator)";
  r.affects = "no test needs or refuses administrator rights; reported so results from two machines can be told apart";
  return r;
}

Finding check_windows_version(const WindowsFacts& f, Context) {
  Finding r;
  r.check = "windows-version";
  if (f.under_wine()) {
    r.found = fmt::format("Wine {} reports Windows {}; the Wine expectations apply, not the Windows ones", f.wine, f.version);
    return r;
  }
  if (at_least(f.version, 6, 2)) {
    r.found = fmt::format("Windows {}", f.version);
    return r;
  }
  r.verdict = Verdict::note;
  r.found = fmt::format("Windows {} (Windows 7 or Server 2008 R2): the expectations for Windows 6.1 in windows-x86_64.json "
                        "apply",
                        f.version);
  r.affects = "fatal.fail-fast (a fail-fast is an access violation before Windows 8), ctrl.process-group (Ctrl+C cannot "
              "be sent to a process group), job.nested-kill-on-close (no nested jobs)";
  return r;
}

using WindowsCheck = Finding (*)(const WindowsFacts&, Context);
constexpr WindowsCheck kWindowsChecks[] = {
    check_post_mortem_debugger, check_error_reporting, check_desktop,     check_console_host,   check_job,
    check_loader_threads,       check_c_runtime,       check_administrator, check_windows_version,
};

// ---------------------------------------------------------------------------------------------
// The Linux runner's checks.

Finding check_wine(const HostFacts& h) {
  Finding r;
  r.check = "wine";
  r.found = fmt::format("{} ({}), chosen by {}", h.wine_launcher, h.wine_version, h.wine_chosen_by);
  return r;
}

Finding check_wineserver(const HostFacts& h) {
  Finding r;
  r.check = "wineserver";
  r.found = fmt::format("{} (the same version); the run starts it for its own prefix", h.wineserver);
  return r;
}

// address_space.hpp: a Wine without its preloader fails a process start now and then unless the
// run's processes start without address randomisation.
}  // namespace

Finding judge_address_space(const HostFacts& h) {
  Finding r;
  r.check = "address-space";
  if (!h.preloader.empty()) {
    r.found = fmt::format("Wine's preloader {} reserves the addresses its loader needs", h.preloader);
    return r;
  }
  const std::string why =
      "this Wine has no preloader (wine64-preloader beside its loader): with address randomisation its loader's heap "
      "can cover the shared user data page at 0x7ffe0000, and that process exits before it starts (CreateProcess: "
      "error 1359)";
  r.affects = "any test, at random: about 1 Wine process start in 5000";
  if (h.randomisation == "off-for-run" || h.randomisation == "already-off") {
    r.verdict = Verdict::neutralised;
    r.found = why;
    // One text whether this runner turned it off or whoever started it already had: the two
    // runners of one run (bundle-test) must report the same finding.
    r.action = "the run's Wine processes start without address randomisation (personality ADDR_NO_RANDOMIZE, as "
               "setarch -R)";
    return r;
  }
  r.verdict = Verdict::note;
  r.found = fmt::format("{}; turning randomisation off was refused ({})", why,
                        h.randomisation.empty() ? "unknown" : h.randomisation);
  r.action = "none: a test may fail with error 1359 though the platform did nothing wrong";
  r.fix = "allow personality(ADDR_NO_RANDOMIZE) (a container's seccomp profile), or use a Wine built with its preloader";
  return r;
}

namespace {

Finding check_display(const HostFacts& h) {
  Finding r;
  r.check = "display";
  if (!h.display.empty() && h.display_answers) {
    r.found = fmt::format("DISPLAY={} answers: the run's Wine uses it", h.display);
    return r;
  }
  const std::string why = h.display.empty() ? "DISPLAY is not set" : fmt::format("DISPLAY={} does not answer", h.display);
  if (h.xvfb.empty()) {
    r.verdict = Verdict::skip;
    r.skips = Skips::gui;
    r.found = why + " and Xvfb is not on PATH";
    r.affects = "every test that starts a GUI actor";
    r.action = "conform stops: it needs a display";
    r.fix = "install xvfb (./termsuite installs it), or set DISPLAY to a working X server";
    return r;
  }
  r.found = fmt::format("{}: the run starts a private Xvfb ({})", why, h.xvfb);
  return r;
}

}  // namespace

std::string Setting::describe() const { return fmt::format("HKCU\\{}\\{}={}", key, value, data); }

ojson Finding::to_json() const {
  ojson j;
  j["check"] = check;
  j["verdict"] = std::string(to_string(verdict));
  j["found"] = found;
  j["affects"] = affects;
  j["action"] = action;
  j["fix"] = fix;
  j["skips"] = std::string(skips_name(skips));
  if (setting) j["setting"] = ojson{{"key", setting->key}, {"value", setting->value}, {"data", setting->data}};
  if (applied) j["applied"] = true;
  if (!keeps.empty()) j["keeps"] = keeps;
  return j;
}

Finding Finding::from_json(const nlohmann::json& j) {
  Finding f;
  f.check = j.at("check").get<std::string>();
  auto v = parse_verdict(j.at("verdict").get<std::string>());
  if (!v) throw nlohmann::json::other_error::create(501, "unknown verdict " + j.at("verdict").get<std::string>(), &j);
  f.verdict = *v;
  f.found = j.value("found", "");
  f.affects = j.value("affects", "");
  f.action = j.value("action", "");
  f.fix = j.value("fix", "");
  f.skips = parse_skips(j.value("skips", "none"));
  if (auto s = j.find("setting"); s != j.end() && s->is_object())
    f.setting = Setting{s->at("key").get<std::string>(), s->at("value").get<std::string>(), s->at("data").get<std::uint32_t>()};
  f.applied = j.value("applied", false);
  if (auto k = j.find("keeps"); k != j.end() && k->is_array()) f.keeps = k->get<std::vector<std::string>>();
  return f;
}

ojson WindowsFacts::to_json() const {
  ojson j;
  j["version"] = version;
  j["wine"] = wine;
  j["aedebug"] = aedebug_json(aedebug);
  j["aedebug_wow64"] = aedebug_json(aedebug_wow64);
  put_optional(j, "show_crash_dialog", show_crash_dialog);
  j["wer_dont_show_ui"] = dword_json(wer_dont_show_ui);
  j["wer_disabled"] = dword_json(wer_disabled);
  j["wer_local_dumps"] = wer_local_dumps;
  j["station_visible"] = station_visible;
  j["window_created"] = window_created;
  j["window_error"] = window_error;
  put_optional(j, "delegation_console", delegation_console);
  put_optional(j, "delegation_terminal", delegation_terminal);
  j["in_job"] = in_job;
  put_optional(j, "job_limit_flags", job_limit_flags);
  put_optional(j, "job_ui_restrictions", job_ui_restrictions);
  j["threads"] = threads;
  j["c_runtime"] = c_runtime;
  j["administrators_member"] = administrators_member;
  put_optional(j, "elevated", elevated);
  return j;
}

WindowsFacts WindowsFacts::from_json(const nlohmann::json& j) {
  WindowsFacts f;
  f.version = j.at("version").get<std::string>();
  f.wine = j.at("wine").get<std::string>();
  f.aedebug = aedebug_from(j.at("aedebug"));
  f.aedebug_wow64 = aedebug_from(j.at("aedebug_wow64"));
  f.show_crash_dialog = get_optional<std::uint32_t>(j, "show_crash_dialog");
  f.wer_dont_show_ui = dword_from(j.at("wer_dont_show_ui"));
  f.wer_disabled = dword_from(j.at("wer_disabled"));
  f.wer_local_dumps = j.at("wer_local_dumps").get<bool>();
  f.station_visible = j.at("station_visible").get<bool>();
  f.window_created = j.at("window_created").get<bool>();
  f.window_error = j.at("window_error").get<std::uint32_t>();
  f.delegation_console = get_optional<std::string>(j, "delegation_console");
  f.delegation_terminal = get_optional<std::string>(j, "delegation_terminal");
  f.in_job = j.at("in_job").get<bool>();
  f.job_limit_flags = get_optional<std::uint32_t>(j, "job_limit_flags");
  f.job_ui_restrictions = get_optional<std::uint32_t>(j, "job_ui_restrictions");
  f.threads = j.at("threads").get<std::uint32_t>();
  f.c_runtime = j.at("c_runtime").get<std::string>();
  f.administrators_member = j.at("administrators_member").get<bool>();
  f.elevated = get_optional<bool>(j, "elevated");
  return f;
}

std::vector<Finding> judge_windows(const WindowsFacts& f, Context context) {
  std::vector<Finding> out;
  for (auto check : kWindowsChecks) out.push_back(check(f, context));
  return out;
}

std::vector<Finding> judge_host(const HostFacts& h) {
  return {check_wine(h), check_wineserver(h), judge_address_space(h), check_display(h)};
}

Finding neutralised_by_setting(Finding f) {
  if (!f.setting) return f;
  const auto what = fmt::format("{} for this run, restored when it ends", f.setting->describe());
  if (f.verdict == Verdict::skip) {
    f.verdict = Verdict::neutralised;
    f.skips = Skips::none;
    f.action = what;
  } else {
    f.action = fmt::format("{}; {}", f.action, what);
  }
  return f;
}

bool takes_crash_to_debugger(const std::vector<std::string>& verbs) {
  bool crash = false;
  for (std::size_t i = 0; i < verbs.size(); ++i) {
    if (verbs[i] == "unhandled-filter") return false;  // its filter ends the process: no debugger
    if (verbs[i] == "crash" && i + 1 < verbs.size() && verbs[i + 1] != "fail-fast") crash = true;
  }
  return crash;
}

bool creates_window(const std::vector<std::string>& verbs) {
  for (const auto& v : verbs)
    if (v == "window" || v == "listen-private" || v == "cbt-hook") return true;
  return false;
}

std::string skip_reason(const std::vector<Finding>& findings, std::string_view kind,
                        const std::vector<std::string>& verbs) {
  for (const auto& f : findings) {
    if (f.verdict != Verdict::skip) continue;
    const bool applies = f.skips == Skips::any || (f.skips == Skips::gui && kind == "gui" && creates_window(verbs)) ||
                         (f.skips == Skips::crash && takes_crash_to_debugger(verbs));
    if (applies) return fmt::format("preflight {}: {}{}", f.check, f.found, f.fix.empty() ? "" : " (fix: " + f.fix + ")");
  }
  return {};
}

std::string format_line(const Finding& f) {
  std::string line = fmt::format("  {:<11} {:<20} {}", to_string(f.verdict), f.check, f.found);
  if (f.verdict == Verdict::ok) return line;
  if (!f.affects.empty()) line += " | affects: " + f.affects;
  if (!f.action.empty()) line += " | this run: " + f.action;
  if (!f.fix.empty()) line += " | fix: " + f.fix;
  return line;
}

std::vector<Finding> changed_the_run(const std::vector<Finding>& findings) {
  std::vector<Finding> out;
  for (const auto& f : findings)
    if (f.verdict == Verdict::neutralised || f.verdict == Verdict::skip || f.applied) out.push_back(f);
  return out;
}

ojson Report::to_json() const {
  ojson j;
  if (facts) j["facts"] = facts->to_json();
  ojson list = ojson::array();
  for (const auto& f : findings) list.push_back(f.to_json());
  j["findings"] = std::move(list);
  return j;
}

Report Report::from_json(const nlohmann::json& j) {
  Report r;
  if (auto f = j.find("facts"); f != j.end() && f->is_object()) r.facts = WindowsFacts::from_json(*f);
  for (const auto& f : j.at("findings")) r.findings.push_back(Finding::from_json(f));
  return r;
}

}  // namespace termsuite::preflight
