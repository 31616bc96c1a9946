// The preflight's check list (preflight.hpp), judged natively from crafted facts: each machine the
// runners meet (a default Wine prefix with and without a display, the runner's own prefix, a
// Windows CI image with a JIT debugger, a runner job that cannot nest, ...) gives the verdict,
// the skips and the neutralisation the design promises, and the facts and findings survive the
// JSON the suite and the runners exchange.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "termsuite/preflight.hpp"
#include "termsuite/results.hpp"

namespace termsuite::preflight {
namespace {

// A default Wine 8.0 prefix as wineboot makes it (loader/wine.inf.in, [Debugger]), seen by a
// 64-bit process with a working display.
WindowsFacts wine_default_prefix() {
  WindowsFacts f;
  f.version = "6.1.7601";
  f.wine = "8.0";
  f.aedebug = AeDebug{true, "winedbg --auto %ld %ld", "1"};
  f.station_visible = true;
  f.window_created = true;
  f.threads = 1;
  f.c_runtime = "msvcrt.dll";
  f.administrators_member = true;
  return f;
}

// A Windows 11 CI image: a user session, no debugger, not in a job, the loader's pool running.
WindowsFacts windows_11() {
  WindowsFacts f;
  f.version = "10.0.22631";
  f.station_visible = true;
  f.window_created = true;
  f.delegation_console = "{B23D10C0-E52E-411E-9D5B-C09FDF709C7D}";
  f.delegation_terminal = "{B23D10C0-E52E-411E-9D5B-C09FDF709C7D}";
  f.threads = 4;
  f.c_runtime = "msvcrt.dll";
  return f;
}

const Finding& find(const std::vector<Finding>& findings, std::string_view check) {
  auto it = std::find_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.check == check; });
  if (it == findings.end()) throw std::runtime_error("no finding for " + std::string(check));
  return *it;
}

const std::vector<std::string> kCrashAv{"crash", "av"};
const std::vector<std::string> kReady{"ready", "wait-forever"};

TEST(Preflight, TheWindowsChecksAreOneListInOrder) {
  auto findings = judge_windows(windows_11(), Context::runner);
  std::vector<std::string> checks;
  for (const auto& f : findings) checks.push_back(f.check);
  EXPECT_EQ(checks, (std::vector<std::string>{"post-mortem-debugger", "error-reporting", "desktop", "console-host", "job",
                                              "loader-threads", "c-runtime", "administrator", "windows-version"}));
}

TEST(Preflight, DefaultWinePrefixWithADisplayNeedsTheCrashDialogOffForTheRun) {
  auto findings = judge_windows(wine_default_prefix(), Context::runner);
  const auto& f = find(findings, "post-mortem-debugger");
  EXPECT_EQ(f.verdict, Verdict::skip);
  EXPECT_EQ(f.skips, Skips::crash);
  ASSERT_TRUE(f.setting);
  EXPECT_EQ(f.setting->describe(), "HKCU\\Software\\Wine\\WineDbg\\ShowCrashDialog=0");
  EXPECT_NE(f.found.find("crash dialog"), std::string::npos) << f.found;
  // Until the runner applies it, a crashing actor's test skips, naming the check and the setting.
  auto why = skip_reason(findings, "console", kCrashAv);
  EXPECT_NE(why.find("preflight post-mortem-debugger"), std::string::npos) << why;
  EXPECT_NE(why.find("ShowCrashDialog"), std::string::npos) << why;
  EXPECT_EQ(skip_reason(findings, "console", kReady), "") << "an actor that does not crash is not affected";
  // Once applied, nothing skips and the finding says what the run did.
  auto applied = neutralised_by_setting(f);
  EXPECT_EQ(applied.verdict, Verdict::neutralised);
  EXPECT_NE(applied.action.find("ShowCrashDialog=0 for this run, restored"), std::string::npos) << applied.action;
  EXPECT_EQ(skip_reason({applied}, "console", kCrashAv), "");
}

TEST(Preflight, UnderWineTheKeysWinesProgramsWriteAreKept) {
  auto findings = judge_windows(wine_default_prefix(), Context::runner);
  EXPECT_EQ(find(findings, "post-mortem-debugger").keeps, std::vector<std::string>{"Software\\Wine\\WineDbg"});
  EXPECT_EQ(find(findings, "console-host").keeps, std::vector<std::string>{"Console"});
  EXPECT_EQ(changed_the_run(findings).size(), 1u) << "keeping a key changes no outcome: not in the results";
  for (const auto& f : judge_windows(windows_11(), Context::runner)) EXPECT_TRUE(f.keeps.empty()) << f.check;
}

TEST(Preflight, TheSuiteAloneSaysWhoWouldSetIt) {
  auto f = find(judge_windows(wine_default_prefix(), Context::suite_alone), "post-mortem-debugger");
  EXPECT_EQ(f.verdict, Verdict::skip);
  EXPECT_NE(f.action.find("termsuite conform sets it"), std::string::npos) << f.action;
}

TEST(Preflight, DefaultWinePrefixWithoutADisplaySkipsEveryGuiActorAndLetsWinedbgBe) {
  auto facts = wine_default_prefix();
  facts.window_created = false;
  facts.window_error = 1400;
  auto findings = judge_windows(facts, Context::runner);
  const auto& desktop = find(findings, "desktop");
  EXPECT_EQ(desktop.verdict, Verdict::skip);
  EXPECT_EQ(desktop.skips, Skips::gui);
  auto why = skip_reason(findings, "gui", {"window", "polite", "ready"});
  EXPECT_NE(why.find("preflight desktop: no window can be created"), std::string::npos) << why;
  EXPECT_NE(why.find("DISPLAY"), std::string::npos) << "the fix names the setting: " << why;
  EXPECT_EQ(skip_reason(findings, "console", kReady), "");
  EXPECT_EQ(skip_reason(findings, "gui", {"ready", "no-window"}), "") << "a GUI actor with no window needs no display";
  // winedbg's dialog cannot wait for a click without a window: crashes run. The runner still sets
  // the crash dialog off, as winetest does, so that its restore takes away winedbg's key too.
  const auto& debugger = find(findings, "post-mortem-debugger");
  EXPECT_EQ(debugger.verdict, Verdict::note);
  ASSERT_TRUE(debugger.setting);
  EXPECT_EQ(skip_reason(findings, "console", kCrashAv), "");
  EXPECT_TRUE(changed_the_run(findings).size() == 1u) << "only the desktop changed a run that applied nothing";
  auto applied = neutralised_by_setting(debugger);
  applied.applied = true;
  EXPECT_EQ(applied.verdict, Verdict::note);
  EXPECT_NE(applied.action.find("restored when it ends"), std::string::npos) << applied.action;
  EXPECT_EQ(changed_the_run({applied}).size(), 1u) << "a setting the run applied is recorded";
}

TEST(Preflight, TheRunnersOwnPrefixHasNoDebugger) {
  auto facts = wine_default_prefix();
  facts.aedebug.debugger = "";
  auto f = find(judge_windows(facts, Context::runner), "post-mortem-debugger");
  EXPECT_EQ(f.verdict, Verdict::ok);
  EXPECT_FALSE(f.setting);
}

TEST(Preflight, CrashDialogAlreadyOffIsANote) {
  auto facts = wine_default_prefix();
  facts.show_crash_dialog = 0;
  auto f = find(judge_windows(facts, Context::runner), "post-mortem-debugger");
  EXPECT_EQ(f.verdict, Verdict::note);
  EXPECT_FALSE(f.setting);
}

TEST(Preflight, AnotherDebuggerInAWinePrefixSkipsTheCrashTests) {
  auto facts = wine_default_prefix();
  facts.aedebug.debugger = "C:\\tools\\mydbg.exe -p %ld -e %ld";
  auto findings = judge_windows(facts, Context::runner);
  const auto& f = find(findings, "post-mortem-debugger");
  EXPECT_EQ(f.verdict, Verdict::skip);
  EXPECT_FALSE(f.setting) << "no per-run setting stops another debugger";
  EXPECT_NE(skip_reason(findings, "console", kCrashAv).find("mydbg.exe"), std::string::npos);
}

TEST(Preflight, WindowsJitDebuggerIsNeutralisedByTheErrorMode) {
  auto facts = windows_11();
  facts.aedebug = AeDebug{true, "\"C:\\Sysinternals\\procdump.exe\" -accepteula -j \"C:\\dumps\" %ld %ld %p", "1"};
  facts.aedebug_wow64 = AeDebug{true, "\"C:\\Sysinternals\\procdump.exe\" -accepteula -j \"C:\\dumps\" %ld %ld %p", "1"};
  auto findings = judge_windows(facts, Context::runner);
  const auto& f = find(findings, "post-mortem-debugger");
  EXPECT_EQ(f.verdict, Verdict::neutralised);
  EXPECT_NE(f.found.find("ProcDump (procdump -i)"), std::string::npos) << f.found;
  EXPECT_NE(f.found.find("Wow6432Node"), std::string::npos) << "both views are reported: " << f.found;
  EXPECT_NE(f.action.find("SEM_NOGPFAULTERRORBOX"), std::string::npos);
  EXPECT_EQ(skip_reason(findings, "console", kCrashAv), "");
  facts.aedebug = {};
  facts.aedebug_wow64 = {};
  EXPECT_EQ(find(judge_windows(facts, Context::runner), "post-mortem-debugger").verdict, Verdict::ok);
}

TEST(Preflight, ErrorReportingUiIsNeutralisedUnlessOff) {
  auto facts = windows_11();
  EXPECT_EQ(find(judge_windows(facts, Context::runner), "error-reporting").verdict, Verdict::neutralised);
  facts.wer_dont_show_ui.user = 1;
  EXPECT_EQ(find(judge_windows(facts, Context::runner), "error-reporting").verdict, Verdict::ok);
  facts.wer_dont_show_ui.policy = 0;  // the policy's copy wins
  EXPECT_EQ(find(judge_windows(facts, Context::runner), "error-reporting").verdict, Verdict::neutralised);
  facts.wer_disabled.machine = 1;
  facts.wer_local_dumps = true;
  auto f = find(judge_windows(facts, Context::runner), "error-reporting");
  EXPECT_EQ(f.verdict, Verdict::ok);
  EXPECT_NE(f.found.find("LocalDumps"), std::string::npos) << f.found;
  EXPECT_EQ(find(judge_windows(wine_default_prefix(), Context::runner), "error-reporting").verdict, Verdict::ok);
}

TEST(Preflight, AServiceSessionSkipsGuiActors) {
  auto facts = windows_11();
  facts.window_created = false;
  facts.station_visible = false;
  facts.window_error = 1400;
  auto f = find(judge_windows(facts, Context::runner), "desktop");
  EXPECT_EQ(f.verdict, Verdict::skip);
  EXPECT_NE(f.found.find("not visible"), std::string::npos) << f.found;
}

TEST(Preflight, DefaultTerminalOnWindows11IsReported) {
  auto facts = windows_11();
  EXPECT_EQ(find(judge_windows(facts, Context::runner), "console-host").verdict, Verdict::ok);
  facts.delegation_console.reset();
  facts.delegation_terminal.reset();
  auto f = find(judge_windows(facts, Context::runner), "console-host");
  EXPECT_EQ(f.verdict, Verdict::note);
  EXPECT_NE(f.fix.find("{B23D10C0-E52E-411E-9D5B-C09FDF709C7D}"), std::string::npos) << f.fix;
  facts.version = "10.0.19045";
  EXPECT_EQ(find(judge_windows(facts, Context::runner), "console-host").verdict, Verdict::ok);
  facts.version = "10.0.22631";
  facts.delegation_console = "{2EACA947-7F5F-4CFA-BA87-8F7FBEEFBE69}";
  facts.delegation_terminal = "{E12CFF52-A866-4C77-9A90-F570A7AA2C6B}";
  EXPECT_NE(find(judge_windows(facts, Context::runner), "console-host").found.find("Windows Terminal"), std::string::npos);
}

TEST(Preflight, ARunnerJobThatCannotNestSkipsEveryActor) {
  auto facts = windows_11();
  facts.in_job = true;
  facts.job_limit_flags = 0x2000;
  facts.job_ui_restrictions = 0;
  auto findings = judge_windows(facts, Context::runner);
  auto job = find(findings, "job");
  EXPECT_EQ(job.verdict, Verdict::note) << "Windows 8+ nests a job without UI limits";
  EXPECT_NE(job.found.find("breakaway not allowed"), std::string::npos) << job.found;
  EXPECT_EQ(skip_reason(findings, "console", kReady), "");

  facts.job_ui_restrictions = 0x1;  // JOB_OBJECT_UILIMIT_HANDLES
  findings = judge_windows(facts, Context::runner);
  EXPECT_EQ(find(findings, "job").verdict, Verdict::skip);
  auto why = skip_reason(findings, "console", kReady);
  EXPECT_NE(why.find("preflight job"), std::string::npos) << why;
  EXPECT_NE(why.find("UI restrictions"), std::string::npos) << why;

  facts.job_ui_restrictions = 0;
  facts.version = "6.1.7601";  // Windows 7: "A process can be associated with only a single job"
  findings = judge_windows(facts, Context::runner);
  EXPECT_EQ(find(findings, "job").verdict, Verdict::skip);
  EXPECT_NE(skip_reason(findings, "gui", kReady).find("Windows before 8"), std::string::npos);

  facts.in_job = false;
  EXPECT_EQ(find(judge_windows(facts, Context::runner), "job").verdict, Verdict::ok);
}

TEST(Preflight, UnderWineAJobIsReportedWithoutItsLimits) {
  auto facts = wine_default_prefix();
  facts.in_job = true;
  auto f = find(judge_windows(facts, Context::runner), "job");
  EXPECT_EQ(f.verdict, Verdict::note);
  EXPECT_EQ(skip_reason({f}, "console", kReady), "");
}

TEST(Preflight, ReportedOnlyChecksChangeNothing) {
  auto findings = judge_windows(windows_11(), Context::runner);
  for (const char* check : {"loader-threads", "c-runtime", "administrator"}) {
    const auto& f = find(findings, check);
    EXPECT_EQ(f.verdict, Verdict::note) << check;
    EXPECT_EQ(f.skips, Skips::none) << check;
  }
  EXPECT_NE(find(findings, "c-runtime").affects.find("Fatal.AbortRunsNoAtexitRoutine"), std::string::npos);
  auto ucrt = windows_11();
  ucrt.c_runtime = "ucrtbase.dll";
  EXPECT_NE(find(judge_windows(ucrt, Context::runner), "c-runtime").found.find("0xC0000409"), std::string::npos);
  EXPECT_EQ(find(judge_windows(wine_default_prefix(), Context::runner), "loader-threads").verdict, Verdict::ok);
}

TEST(Preflight, Windows7IsNamedWithTheExpectationsThatApply) {
  auto facts = windows_11();
  facts.version = "6.1.7601";
  auto f = find(judge_windows(facts, Context::runner), "windows-version");
  EXPECT_EQ(f.verdict, Verdict::note);
  EXPECT_NE(f.affects.find("fatal.fail-fast"), std::string::npos);
  EXPECT_EQ(find(judge_windows(windows_11(), Context::runner), "windows-version").verdict, Verdict::ok);
  EXPECT_EQ(find(judge_windows(wine_default_prefix(), Context::runner), "windows-version").verdict, Verdict::ok)
      << "Wine reports 6.1 by default; its own expectations apply";
}

TEST(Preflight, WhichActorsTakeACrashToTheDebugger) {
  EXPECT_TRUE(takes_crash_to_debugger({"crash", "av"}));
  EXPECT_TRUE(takes_crash_to_debugger({"crash", "stack-overflow"}));
  EXPECT_TRUE(takes_crash_to_debugger({"thread", "[", "wait-event", "go", "crash", "av", "]", "ready"}));
  EXPECT_FALSE(takes_crash_to_debugger({"crash", "fail-fast"})) << "a fail-fast reaches no handler and no debugger";
  EXPECT_FALSE(takes_crash_to_debugger({"unhandled-filter", "crash", "raise", "0xE0000002"}))
      << "its own filter ends the process";
  EXPECT_FALSE(takes_crash_to_debugger({"atexit", "abort"}));
  EXPECT_FALSE(takes_crash_to_debugger({"ready"}));
}

TEST(Preflight, WhichGuiActorsCreateAWindow) {
  EXPECT_TRUE(creates_window({"window", "polite", "ready"}));
  EXPECT_TRUE(creates_window({"listen-private", "m", "ready"}));
  EXPECT_TRUE(creates_window({"cbt-hook", "window", "polite", "ready"}));
  EXPECT_TRUE(creates_window({"spawn-gui", "[", "window", "polite", "]"}));
  EXPECT_FALSE(creates_window({"ready", "no-window"}));
  EXPECT_FALSE(creates_window({"spawn-gui", "[", "ready", "no-window", "]", "ready"}));
}

TEST(Preflight, HostChecks) {
  HostFacts h{"/usr/bin/wine", "wine-8.0", "PATH", "/usr/bin/wineserver", "", false, "/usr/bin/Xvfb",
              "/usr/lib/wine/wine64-preloader", ""};
  auto findings = judge_host(h);
  ASSERT_EQ(findings.size(), 4u);
  EXPECT_EQ(findings[0].check, "wine");
  EXPECT_EQ(findings[1].check, "wineserver");
  EXPECT_EQ(findings[2].check, "address-space");
  EXPECT_EQ(findings[2].verdict, Verdict::ok);
  EXPECT_EQ(find(findings, "display").verdict, Verdict::ok);
  EXPECT_NE(find(findings, "display").found.find("private Xvfb"), std::string::npos);
  h.display = ":5";
  h.display_answers = true;
  EXPECT_NE(find(judge_host(h), "display").found.find("DISPLAY=:5 answers"), std::string::npos);
  h.display_answers = false;
  h.xvfb.clear();
  auto f = find(judge_host(h), "display");
  EXPECT_EQ(f.verdict, Verdict::skip);
  EXPECT_NE(f.found.find("does not answer"), std::string::npos) << f.found;
}

// A Wine without its preloader (Debian's wine64): randomisation off for the run is a neutralised
// finding; where it was refused the run goes on, said as a note with the fix.
TEST(Preflight, AWineWithoutItsPreloader) {
  HostFacts h{"/usr/bin/wine", "wine-8.0", "PATH", "/usr/bin/wineserver", ":5", true, "", "", "off-for-run"};
  auto f = find(judge_host(h), "address-space");
  EXPECT_EQ(f.verdict, Verdict::neutralised);
  EXPECT_NE(f.found.find("0x7ffe0000"), std::string::npos) << f.found;
  EXPECT_NE(f.action.find("ADDR_NO_RANDOMIZE"), std::string::npos) << f.action;
  h.randomisation = "already-off";
  EXPECT_EQ(find(judge_host(h), "address-space").verdict, Verdict::neutralised);
  h.randomisation = "refused: Operation not permitted";
  f = find(judge_host(h), "address-space");
  EXPECT_EQ(f.verdict, Verdict::note);
  EXPECT_NE(f.found.find("Operation not permitted"), std::string::npos) << f.found;
  EXPECT_NE(f.fix.find("preloader"), std::string::npos) << f.fix;
}

TEST(Preflight, LinesSayWhatWasFoundWhatItAffectsAndTheFix) {
  auto findings = judge_windows(wine_default_prefix(), Context::runner);
  auto line = format_line(find(findings, "post-mortem-debugger"));
  EXPECT_TRUE(line.starts_with("  skip        post-mortem-debugger ")) << line;
  EXPECT_NE(line.find(" | affects: "), std::string::npos) << line;
  EXPECT_NE(line.find(" | fix: "), std::string::npos) << line;
  auto ok = format_line(find(findings, "desktop"));
  EXPECT_TRUE(ok.starts_with("  ok          desktop ")) << ok;
  EXPECT_EQ(ok.find(" | "), std::string::npos) << "an ok line is just what was found: " << ok;
  for (const auto& f : findings) EXPECT_EQ(format_line(f).find('\n'), std::string::npos) << "one line: " << f.check;
}

TEST(Preflight, FactsAndFindingsSurviveTheirJson) {
  auto facts = windows_11();
  facts.aedebug = AeDebug{true, "vsjitdebugger.exe -p %ld -e %ld", "0"};
  facts.wer_dont_show_ui = DwordSetting{1, std::nullopt, 0};
  facts.in_job = true;
  facts.job_limit_flags = 0x2800;
  facts.elevated = false;
  auto back = WindowsFacts::from_json(nlohmann::json::parse(facts.to_json().dump()));
  EXPECT_EQ(back.to_json(), facts.to_json());
  Report report{facts, judge_windows(wine_default_prefix(), Context::runner)};
  auto again = Report::from_json(nlohmann::json::parse(report.to_json().dump()));
  ASSERT_EQ(again.findings.size(), report.findings.size());
  for (std::size_t i = 0; i < report.findings.size(); ++i)
    EXPECT_EQ(again.findings[i].to_json(), report.findings[i].to_json()) << report.findings[i].check;
  EXPECT_EQ(again.facts->to_json(), facts.to_json());
}

TEST(Preflight, TheResultsFileRecordsOnlyWhatChangedTheRun) {
  RunResults r;
  r.platform.id = "wine-8.0-x86_64";
  r.platform.os = "windows";
  TestResult t;
  t.name = "ExitCode.FatalAccessViolation";
  t.claim = "exit.code.fatal-exception";
  t.backend = "live";
  t.outcome = Outcome::pass;
  r.tests.push_back(t);
  auto clean = stable_json(r);
  EXPECT_EQ(clean.find("preflight"), std::string::npos) << "a clean machine writes the same bytes as before";
  auto findings = judge_windows(wine_default_prefix(), Context::runner);
  findings[0] = neutralised_by_setting(findings[0]);
  r.preflight = changed_the_run(findings);
  ASSERT_EQ(r.preflight.size(), 1u);
  auto text = stable_json(r);
  EXPECT_NE(text.find("\"preflight\""), std::string::npos);
  auto back = parse_stable_json(text, "test");
  ASSERT_EQ(back.preflight.size(), 1u);
  EXPECT_EQ(back.preflight[0].check, "post-mortem-debugger");
  EXPECT_EQ(back.preflight[0].verdict, Verdict::neutralised);
  EXPECT_EQ(stable_json(back), text);
  EXPECT_NE(junit_xml(r).find("preflight.post-mortem-debugger"), std::string::npos);
}

}  // namespace
}  // namespace termsuite::preflight
