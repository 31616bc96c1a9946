// The preflight's Win32 side, live (under Wine in ctest's environment, or on Windows): what the
// probe measures agrees with what this process sees by itself, the suite binary answers
// --termsuite-preflight, and a per-run setting comes back exactly as it was, when the run ends
// and when it is killed (its guard), or at the next run (its journal).
//
// The same binary plays the run whose settings are killed (--hold-setting) and that run's guard
// (settings-guard, as termsuite.exe does), so the guard is tested as conform starts it.
#include <windows.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "preflight_run.hpp"
#include "run_settings.hpp"
#include "supervise.hpp"
#include "termsuite/live.hpp"
#include "termsuite/win32.hpp"

namespace fs = std::filesystem;

namespace termsuite {
namespace {

using preflight::Verdict;

// A scratch key of the current user's hive: every test leaves it as it found it (absent). ctest
// runs these tests in parallel, one process each, so each process has a key (and a journal) of
// its own, named by its pid; the run it starts (--hold-setting) inherits the name.
constexpr const wchar_t* kParentW = L"Software\\termsuite-live-test";

const std::string& scratch_id() {
  static const std::string id = [] {
    char inherited[32] = {};
    if (GetEnvironmentVariableA("TERMSUITE_LIVE_TEST_SCRATCH", inherited, sizeof inherited) > 0) return std::string(inherited);
    auto own = std::to_string(GetCurrentProcessId());
    SetEnvironmentVariableA("TERMSUITE_LIVE_TEST_SCRATCH", own.c_str());
    return own;
  }();
  return id;
}
std::string scratch_key() { return "Software\\termsuite-live-test\\Scratch-" + scratch_id(); }
std::wstring scratch_key_w() {
  const auto narrow = scratch_key();
  return std::wstring(narrow.begin(), narrow.end());
}

fs::path exe_path() {
  wchar_t path[MAX_PATH] = {};
  GetModuleFileNameW(nullptr, path, MAX_PATH);
  return fs::path(path);
}

// The journal of these tests, apart from any run's (TERMSUITE_SETTINGS_JOURNAL).
fs::path journal() {
  wchar_t tmp[MAX_PATH] = {};
  GetTempPathW(MAX_PATH, tmp);
  return fs::path(tmp) / ("termsuite-live-test-" + scratch_id()) / "journal.json";
}

struct RegValue {
  bool key = false, value = false;
  DWORD type = 0;
  std::vector<unsigned char> data;
  bool operator==(const RegValue&) const = default;
};

RegValue read_value(const wchar_t* name) {
  RegValue v;
  HKEY k = nullptr;
  if (RegOpenKeyExW(HKEY_CURRENT_USER, scratch_key_w().c_str(), 0, KEY_QUERY_VALUE, &k) != ERROR_SUCCESS) return v;
  v.key = true;
  DWORD size = 0;
  if (RegQueryValueExW(k, name, nullptr, &v.type, nullptr, &size) == ERROR_SUCCESS) {
    v.data.resize(size);
    v.value = RegQueryValueExW(k, name, nullptr, &v.type, v.data.data(), &size) == ERROR_SUCCESS;
  }
  RegCloseKey(k);
  return v;
}

void clean_scratch() {
  RegDeleteKeyW(HKEY_CURRENT_USER, scratch_key_w().c_str());
  RegDeleteKeyW(HKEY_CURRENT_USER, kParentW);
}

std::vector<preflight::Finding> wanting(const char* value, std::uint32_t data) {
  preflight::Finding f;
  f.check = "scratch";
  f.verdict = Verdict::skip;
  f.skips = preflight::Skips::crash;
  f.setting = preflight::Setting{scratch_key(), value, data};
  return {f};
}

class Settings : public ::testing::Test {
 protected:
  void SetUp() override {
    clean_scratch();
    SetEnvironmentVariableW(L"TERMSUITE_SETTINGS_JOURNAL", journal().wstring().c_str());
  }
  void TearDown() override {
    clean_scratch();
    std::error_code ec;
    fs::remove_all(journal().parent_path(), ec);
  }
};

TEST_F(Settings, AnAbsentKeyIsAbsentAgainAfterTheRun) {
  const RegValue before = read_value(L"Probe");
  ASSERT_FALSE(before.key);
  {
    runner::RunSettings settings;
    auto findings = settings.apply(wanting("Probe", 0));
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].verdict, Verdict::neutralised) << findings[0].action;
    auto during = read_value(L"Probe");
    ASSERT_TRUE(during.value);
    EXPECT_EQ(during.type, static_cast<DWORD>(REG_DWORD));
    EXPECT_TRUE(fs::exists(journal())) << "the old state is journalled while the run lasts";
  }
  EXPECT_EQ(read_value(L"Probe"), before) << "the key the run made is gone again";
  EXPECT_FALSE(fs::exists(journal()));
}

TEST_F(Settings, AnOldValueComesBackByteForByte) {
  HKEY k = nullptr;
  ASSERT_EQ(RegCreateKeyExW(HKEY_CURRENT_USER, scratch_key_w().c_str(), 0, nullptr, 0, KEY_SET_VALUE, nullptr, &k, nullptr), ERROR_SUCCESS);
  const wchar_t old[] = L"not a number";
  RegSetValueExW(k, L"Probe", 0, REG_SZ, reinterpret_cast<const BYTE*>(old), sizeof old);
  RegSetValueExW(k, L"Neighbour", 0, REG_SZ, reinterpret_cast<const BYTE*>(old), sizeof old);
  RegCloseKey(k);
  const RegValue before = read_value(L"Probe");
  {
    runner::RunSettings settings;
    settings.apply(wanting("Probe", 0));
    EXPECT_NE(read_value(L"Probe"), before) << "the control: the run did change it";
  }
  EXPECT_EQ(read_value(L"Probe"), before);
  EXPECT_TRUE(read_value(L"Neighbour").value) << "the key stays: it held other values before the run";
}

// Keys the run's processes may write (Wine's conhost under HKCU\Console): back as they were.
TEST_F(Settings, AKeyTheRunsProcessesWriteComesBackAsItWas) {
  preflight::Finding f;
  f.check = "scratch";
  f.keeps = {scratch_key()};
  auto write = [](const wchar_t* name, DWORD data) {
    HKEY k = nullptr;
    ASSERT_EQ(RegCreateKeyExW(HKEY_CURRENT_USER, scratch_key_w().c_str(), 0, nullptr, 0, KEY_SET_VALUE, nullptr, &k, nullptr), ERROR_SUCCESS);
    RegSetValueExW(k, name, 0, REG_DWORD, reinterpret_cast<const BYTE*>(&data), sizeof data);
    RegCloseKey(k);
  };
  {
    runner::RunSettings settings;
    settings.apply({f});
    write(L"Written", 1);  // as conhost saves its defaults
    EXPECT_TRUE(read_value(L"Written").value) << "the control: the value was written";
  }
  EXPECT_FALSE(read_value(L"Written").key) << "a key that was not there before the run is gone";
  write(L"Old", 7);
  const RegValue old = read_value(L"Old");
  {
    runner::RunSettings settings;
    settings.apply({f});
    write(L"Old", 8);
    write(L"Written", 1);
  }
  EXPECT_EQ(read_value(L"Old"), old) << "a value that was there comes back";
  EXPECT_FALSE(read_value(L"Written").value) << "a value the run's processes added is gone";
}

// The run is this program with --hold-setting: it applies the setting and waits; the test kills it
// (TerminateProcess, as SIGKILL of `wine` looks to the wineserver). Its guard restores.
TEST_F(Settings, TheGuardRestoresWhenTheRunIsKilled) {
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  HANDLE held = CreateEventW(&sa, TRUE, FALSE, nullptr);  // set by the run once it holds the setting
  win32::Launch l;
  l.exe = exe_path().wstring();
  win32::append_quoted(l.command_line, l.exe);
  win32::append_quoted(l.command_line, L"--hold-setting");
  win32::append_quoted(l.command_line, std::to_wstring(reinterpret_cast<std::uintptr_t>(held)));
  l.inherit = {held};
  PROCESS_INFORMATION pi{};
  ASSERT_TRUE(win32::create_process(l, &pi)) << GetLastError();
  HANDLE either[2] = {held, pi.hProcess};
  ASSERT_EQ(WaitForMultipleObjects(2, either, FALSE, 30'000), WAIT_OBJECT_0) << "the run never held the setting";
  CloseHandle(held);
  EXPECT_TRUE(read_value(L"Probe").value) << "the control: the run did set it";
  ASSERT_TRUE(fs::exists(journal()));
  TerminateProcess(pi.hProcess, 9);
  WaitForSingleObject(pi.hProcess, 10'000);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  // The guard wakes when the run's process ends; it deletes the journal after restoring.
  HANDLE pause = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  for (int i = 0; i < 200 && fs::exists(journal()); ++i) WaitForSingleObject(pause, 50);
  CloseHandle(pause);
  EXPECT_FALSE(fs::exists(journal())) << "the guard did not restore within 10 s";
  EXPECT_FALSE(read_value(L"Probe").key) << "the setting outlived its killed run";
}

// A journal whose run is gone (its guard was killed too) is restored by the next run; one whose
// run lives stops the next run instead of saving the live run's values.
TEST_F(Settings, TheNextRunRestoresWhatADeadRunLeftAndWaitsForALiveOne) {
  {
    runner::RunSettings live;
    live.apply(wanting("Probe", 0));
    EXPECT_THROW(runner::RunSettings::recover(), runner::EnvError) << "a live run's journal";
  }
  // Forge a dead run's journal: this process's pid with another start time.
  HKEY k = nullptr;
  ASSERT_EQ(RegCreateKeyExW(HKEY_CURRENT_USER, scratch_key_w().c_str(), 0, nullptr, 0, KEY_SET_VALUE, nullptr, &k, nullptr), ERROR_SUCCESS);
  DWORD zero = 0;
  RegSetValueExW(k, L"Probe", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&zero), sizeof zero);
  RegCloseKey(k);
  fs::create_directories(journal().parent_path());
  std::ofstream(journal()) << fmt::format(
      R"({{"owner_pid": {}, "owner_start": "1", "saved": [{{"key": "{}", "value": "Probe", "data": 0, "key_existed": false,
         "value_existed": false, "type": 0, "bytes": ""}}]}})",
      GetCurrentProcessId(), [] {
        std::string escaped;
        for (char c : scratch_key()) escaped += c == '\\' ? std::string("\\\\") : std::string(1, c);
        return escaped;
      }());
  testing::internal::CaptureStdout();
  runner::RunSettings::recover();
  const auto said = testing::internal::GetCapturedStdout();
  EXPECT_NE(said.find("restored HKCU\\" + scratch_key() + "\\Probe"), std::string::npos) << said;
  EXPECT_FALSE(read_value(L"Probe").key);
  EXPECT_FALSE(fs::exists(journal()));
}

// What the probe measures agrees with what this process sees by itself.
TEST(Probe, AgreesWithThisProcess) {
  const auto f = live::probe_machine();
  const auto platform = live::detect_platform();
  EXPECT_EQ(f.version, platform.version);
  EXPECT_EQ(f.wine, platform.wine);
  // The positive control of the window check: a window of this test's own.
  HWND w = CreateWindowExW(0, L"STATIC", L"control", WS_OVERLAPPEDWINDOW, 0, 0, 10, 10, nullptr, nullptr, nullptr, nullptr);
  EXPECT_EQ(f.window_created, w != nullptr);
  if (w) DestroyWindow(w);
  EXPECT_EQ(f.c_runtime, "msvcrt.dll") << "mingw-w64 links msvcrt.dll";
  if (f.under_wine()) {
    // ctest's prefix is the runner's: made with an empty AeDebug Debugger (wine_env.cpp).
    EXPECT_TRUE(f.aedebug.present);
    EXPECT_EQ(f.aedebug.debugger.value_or("?"), "");
    EXPECT_EQ(preflight::judge_windows(f, preflight::Context::runner)[0].verdict, Verdict::ok);
  }
}

TEST(Probe, SeesTheJobThisProcessIsPutIn) {
  BOOL before = FALSE;
  IsProcessInJob(GetCurrentProcess(), nullptr, &before);
  EXPECT_EQ(live::probe_machine().in_job, before != FALSE);
  HANDLE job = CreateJobObjectW(nullptr, nullptr);
  ASSERT_TRUE(AssignProcessToJobObject(job, GetCurrentProcess())) << GetLastError();
  EXPECT_TRUE(live::probe_machine().in_job);
}

// The suite binary's answer, as the runners read it.
TEST(Probe, TheSuiteAnswersPreflight) {
  const auto suite = exe_path().parent_path() / "termsuite-live.exe";
  ASSERT_TRUE(fs::exists(suite)) << suite.string();
  const auto out = fs::temp_directory_path() / fmt::format("termsuite-preflight-{}.txt", GetCurrentProcessId());
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  HANDLE file = CreateFileW(out.wstring().c_str(), GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS, 0, nullptr);
  ASSERT_NE(file, INVALID_HANDLE_VALUE);
  win32::Launch l;
  l.exe = suite.wstring();
  win32::append_quoted(l.command_line, l.exe);
  win32::append_quoted(l.command_line, L"--termsuite-preflight");
  l.inherit = {file};
  l.use_std_handles = true;
  l.std_out = file;
  l.std_err = file;
  PROCESS_INFORMATION pi{};
  ASSERT_TRUE(win32::create_process(l, &pi)) << GetLastError();
  CloseHandle(file);
  ASSERT_EQ(WaitForSingleObject(pi.hProcess, 60'000), WAIT_OBJECT_0);
  DWORD code = 99;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  EXPECT_EQ(code, 0u);
  std::ifstream in(out, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  fs::remove(out);
  auto answer = runner::read_suite_answer(text.str(), "suite");
  EXPECT_EQ(answer.platform.id, live::detect_platform().id);
  ASSERT_TRUE(answer.report.facts);
  ASSERT_EQ(answer.report.findings.size(), 9u);
  EXPECT_EQ(answer.report.findings[0].check, "post-mortem-debugger");
  // The same machine, measured twice: the same findings.
  auto here = preflight::judge_windows(live::probe_machine(), preflight::Context::runner);
  for (std::size_t i = 0; i < here.size(); ++i) {
    if (here[i].check == "loader-threads" || here[i].check == "job") continue;  // this process's own threads and job
    EXPECT_EQ(answer.report.findings[i].to_json(), here[i].to_json()) << here[i].check;
  }
}

}  // namespace
}  // namespace termsuite

int main(int argc, char** argv) {
  using namespace termsuite;
  // The guard that RunSettings starts: this program again, as termsuite.exe starts itself.
  if (argc == 6 && std::string_view(argv[1]) == "settings-guard")
    return runner::RunSettings::guard(argv[3], std::stoull(argv[5]));
  // A run that holds the scratch setting until it is killed.
  if (argc == 3 && std::string_view(argv[1]) == "--hold-setting") {
    runner::RunSettings settings;
    settings.apply(wanting("Probe", 0));
    SetEvent(reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(std::stoull(argv[2]))));
    // The test ends it with TerminateProcess; should the test die first, it ends (and restores) by itself.
    HANDLE never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    WaitForSingleObject(never, 60'000);
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
