// run_settings.hpp on Windows (termsuite.exe, on Windows or under Wine): the current user's
// registry, a journal of the old values, and a guard process that restores them if the run
// cannot.
#include <windows.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "run_settings.hpp"
#include "supervise.hpp"
#include "termsuite/win32.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

// One setting's state before the run: enough to put it back byte for byte.
struct Saved {
  preflight::Setting setting;
  bool key_existed = false;
  bool value_existed = false;
  DWORD type = 0;
  std::vector<unsigned char> data;
};

// A key the run's processes may write (preflight::Finding::keeps), as it was before the run.
struct Kept {
  std::string key;
  bool existed = false;
  struct Value {
    std::string name;
    DWORD type = 0;
    std::vector<unsigned char> data;
  };
  std::vector<Value> values;
};

struct Journal {
  DWORD owner_pid = 0;
  std::uint64_t owner_start = 0;  // the run's creation time: tells it from a later process with its pid
  std::vector<Saved> saved;
  std::vector<Kept> kept;
};

// TERMSUITE_SETTINGS_JOURNAL names another journal (the live ctest's, so that it never meets a run's).
fs::path journal_path() {
  wchar_t buffer[MAX_PATH] = {};
  if (DWORD n = GetEnvironmentVariableW(L"TERMSUITE_SETTINGS_JOURNAL", buffer, MAX_PATH); n > 0 && n < MAX_PATH)
    return fs::path(buffer);
  DWORD n = GetEnvironmentVariableW(L"LOCALAPPDATA", buffer, MAX_PATH);
  const fs::path base = n > 0 && n < MAX_PATH ? fs::path(buffer) : fs::temp_directory_path();
  return base / "termsuite" / "run-settings.json";
}

std::string hex(const std::vector<unsigned char>& bytes) {
  std::string out;
  for (auto b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::vector<unsigned char> unhex(std::string_view s) {
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(static_cast<unsigned char>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  return out;
}

std::uint64_t creation_time(HANDLE process) {
  FILETIME c{}, e{}, k{}, u{};
  if (!GetProcessTimes(process, &c, &e, &k, &u)) return 0;
  return (static_cast<std::uint64_t>(c.dwHighDateTime) << 32) | c.dwLowDateTime;
}

std::optional<Journal> read_journal(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw EnvError(fmt::format("{} is unreadable: restore the settings it names by hand, then delete it", path.string()));
  Journal out;
  try {
    out.owner_pid = j.at("owner_pid").get<DWORD>();
    out.owner_start = std::stoull(j.at("owner_start").get<std::string>());
    for (const auto& s : j.at("saved")) {
      Saved v;
      v.setting = preflight::Setting{s.at("key").get<std::string>(), s.at("value").get<std::string>(), s.at("data").get<std::uint32_t>()};
      v.key_existed = s.at("key_existed").get<bool>();
      v.value_existed = s.at("value_existed").get<bool>();
      v.type = s.at("type").get<DWORD>();
      v.data = unhex(s.at("bytes").get<std::string>());
      out.saved.push_back(std::move(v));
    }
    if (auto kept = j.find("kept"); kept != j.end())
      for (const auto& k : *kept) {
        Kept v;
        v.key = k.at("key").get<std::string>();
        v.existed = k.at("existed").get<bool>();
        for (const auto& value : k.at("values"))
          v.values.push_back({value.at("name").get<std::string>(), value.at("type").get<DWORD>(),
                              unhex(value.at("bytes").get<std::string>())});
        out.kept.push_back(std::move(v));
      }
  } catch (const std::exception& e) {
    throw EnvError(fmt::format("{} is unreadable ({}): restore the settings it names by hand, then delete it", path.string(),
                               e.what()));
  }
  return out;
}

// Written whole to a temporary file and renamed over the journal: a run killed mid-write leaves
// the old journal or the new one, never half of one.
void write_journal(const fs::path& path, const Journal& journal) {
  nlohmann::ordered_json j;
  j["owner_pid"] = journal.owner_pid;
  j["owner_start"] = std::to_string(journal.owner_start);
  j["saved"] = nlohmann::ordered_json::array();
  for (const auto& s : journal.saved)
    j["saved"].push_back({{"key", s.setting.key}, {"value", s.setting.value}, {"data", s.setting.data},
                          {"key_existed", s.key_existed}, {"value_existed", s.value_existed}, {"type", s.type},
                          {"bytes", hex(s.data)}});
  j["kept"] = nlohmann::ordered_json::array();
  for (const auto& k : journal.kept) {
    nlohmann::ordered_json values = nlohmann::ordered_json::array();
    for (const auto& v : k.values) values.push_back({{"name", v.name}, {"type", v.type}, {"bytes", hex(v.data)}});
    j["kept"].push_back({{"key", k.key}, {"existed", k.existed}, {"values", std::move(values)}});
  }
  fs::create_directories(path.parent_path());
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) throw EnvError(fmt::format("cannot write {}", tmp.string()));
  }
  if (!MoveFileExW(tmp.wstring().c_str(), path.wstring().c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    throw EnvError(fmt::format("cannot write {}: error {}", path.string(), GetLastError()));
}

void delete_journal(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  fs::remove(path.parent_path(), ec);  // only if empty
}

bool alive(const Journal& j) {
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, j.owner_pid);
  if (!h) return false;
  const bool same = creation_time(h) == j.owner_start && WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return same;
}

Saved save(const preflight::Setting& s) {
  Saved v;
  v.setting = s;
  HKEY key = nullptr;
  if (RegOpenKeyExW(HKEY_CURRENT_USER, win32::widen(s.key).c_str(), 0, KEY_QUERY_VALUE, &key) != ERROR_SUCCESS) return v;
  v.key_existed = true;
  const auto name = win32::widen(s.value);
  DWORD type = 0, size = 0;
  if (RegQueryValueExW(key, name.c_str(), nullptr, &type, nullptr, &size) == ERROR_SUCCESS) {
    v.data.resize(size);
    if (RegQueryValueExW(key, name.c_str(), nullptr, &type, v.data.data(), &size) == ERROR_SUCCESS) {
      v.value_existed = true;
      v.type = type;
      v.data.resize(size);
    }
  }
  RegCloseKey(key);
  return v;
}

LSTATUS put(const std::string& key_path, const std::string& value, DWORD type, const void* data, DWORD size) {
  HKEY key = nullptr;
  LSTATUS rc = RegCreateKeyExW(HKEY_CURRENT_USER, win32::widen(key_path).c_str(), 0, nullptr, 0, KEY_SET_VALUE, nullptr, &key,
                               nullptr);
  if (rc != ERROR_SUCCESS) return rc;
  rc = RegSetValueExW(key, win32::widen(value).c_str(), 0, type, static_cast<const BYTE*>(data), size);
  RegCloseKey(key);
  return rc;
}

// Back as it was: the old value, or no value; and no key if the run made it (and nothing else
// was put in it since).
void restore(const Saved& s) {
  if (s.value_existed) {
    put(s.setting.key, s.setting.value, s.type, s.data.data(), static_cast<DWORD>(s.data.size()));
    return;
  }
  HKEY key = nullptr;
  const auto path = win32::widen(s.setting.key);
  if (RegOpenKeyExW(HKEY_CURRENT_USER, path.c_str(), 0, KEY_SET_VALUE | KEY_QUERY_VALUE, &key) != ERROR_SUCCESS) return;
  RegDeleteValueW(key, win32::widen(s.setting.value).c_str());
  DWORD subkeys = 0, values = 0;
  const bool empty = RegQueryInfoKeyW(key, nullptr, nullptr, nullptr, &subkeys, nullptr, nullptr, &values, nullptr, nullptr,
                                      nullptr, nullptr) == ERROR_SUCCESS &&
                     subkeys == 0 && values == 0;
  RegCloseKey(key);
  if (!s.key_existed && empty) RegDeleteKeyW(HKEY_CURRENT_USER, path.c_str());
}

std::string narrow(const std::wstring& w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), out.data(), n, nullptr, nullptr);
  return out;
}

// Every value of the key (not its subkeys: what Wine's programs write there are values).
Kept keep(const std::string& key_path) {
  Kept k;
  k.key = key_path;
  HKEY key = nullptr;
  if (RegOpenKeyExW(HKEY_CURRENT_USER, win32::widen(key_path).c_str(), 0, KEY_QUERY_VALUE, &key) != ERROR_SUCCESS) return k;
  k.existed = true;
  for (DWORD i = 0;; ++i) {
    wchar_t name[16384];
    DWORD name_len = 16384, type = 0, size = 0;
    if (RegEnumValueW(key, i, name, &name_len, nullptr, &type, nullptr, &size) != ERROR_SUCCESS) break;
    Kept::Value v{narrow(std::wstring(name, name_len)), type, std::vector<unsigned char>(size)};
    name_len = 16384;
    if (RegEnumValueW(key, i, name, &name_len, nullptr, &type, v.data.data(), &size) == ERROR_SUCCESS) {
      v.data.resize(size);
      k.values.push_back(std::move(v));
    }
  }
  RegCloseKey(key);
  return k;
}

// The key as it was: gone if it was not there; else its values exactly (added ones removed).
void restore(const Kept& k) {
  const auto path = win32::widen(k.key);
  if (!k.existed) {
    RegDeleteTreeW(HKEY_CURRENT_USER, path.c_str());
    RegDeleteKeyW(HKEY_CURRENT_USER, path.c_str());
    return;
  }
  HKEY key = nullptr;
  if (RegCreateKeyExW(HKEY_CURRENT_USER, path.c_str(), 0, nullptr, 0, KEY_QUERY_VALUE | KEY_SET_VALUE, nullptr, &key,
                      nullptr) != ERROR_SUCCESS)
    return;
  std::vector<std::wstring> added;
  for (DWORD i = 0;; ++i) {
    wchar_t name[16384];
    DWORD name_len = 16384;
    if (RegEnumValueW(key, i, name, &name_len, nullptr, nullptr, nullptr, nullptr) != ERROR_SUCCESS) break;
    std::wstring n(name, name_len);
    if (std::none_of(k.values.begin(), k.values.end(), [&](const Kept::Value& v) { return win32::widen(v.name) == n; }))
      added.push_back(n);
  }
  for (const auto& n : added) RegDeleteValueW(key, n.c_str());
  for (const auto& v : k.values)
    RegSetValueExW(key, win32::widen(v.name).c_str(), 0, v.type, v.data.data(), static_cast<DWORD>(v.data.size()));
  RegCloseKey(key);
}

void restore_all(const Journal& j) {
  for (auto it = j.saved.rbegin(); it != j.saved.rend(); ++it) restore(*it);
  for (const auto& k : j.kept) restore(k);
}

// The guard: this executable again, waiting on an inheritable handle to this process. Outside the
// run's job where the job allows it (CREATE_BREAKAWAY_FROM_JOB), in a process group and, under
// Wine, a session of its own (DETACHED_PROCESS), so neither Ctrl+C nor a closed terminal ends it.
void start_guard(const fs::path& journal) {
  HANDLE self = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &self,
                       SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, TRUE, 0))
    throw EnvError(fmt::format("DuplicateHandle failed: error {}", GetLastError()));
  wchar_t exe[MAX_PATH] = {};
  GetModuleFileNameW(nullptr, exe, MAX_PATH);
  win32::Launch l;
  l.exe = exe;
  for (const std::wstring& a : {std::wstring(exe), std::wstring(L"settings-guard"), std::wstring(L"--journal"),
                                journal.wstring(), std::wstring(L"--owner"),
                                std::to_wstring(reinterpret_cast<std::uintptr_t>(self))})
    win32::append_quoted(l.command_line, a);
  l.inherit.push_back(self);
  l.flags = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_BREAKAWAY_FROM_JOB;
  PROCESS_INFORMATION pi{};
  bool ok = win32::create_process(l, &pi);
  if (!ok && GetLastError() == ERROR_ACCESS_DENIED) {  // a job that forbids breakaway: the guard stays in it
    l.flags &= ~static_cast<DWORD>(CREATE_BREAKAWAY_FROM_JOB);
    ok = win32::create_process(l, &pi);
  }
  const DWORD error = GetLastError();
  CloseHandle(self);
  if (!ok) throw EnvError(fmt::format("starting the settings guard failed: error {}", error));
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
}

}  // namespace

struct RunSettings::State {
  fs::path journal;
  Journal saved;
};

RunSettings::RunSettings() = default;

RunSettings::~RunSettings() {
  if (!state_) return;
  restore_all(state_->saved);
  delete_journal(state_->journal);
}

void RunSettings::recover() {
  const auto path = journal_path();
  auto j = read_journal(path);
  if (!j) return;
  if (alive(*j)) {
    std::vector<std::string> what;
    for (const auto& s : j->saved) what.push_back(s.setting.describe());
    for (const auto& k : j->kept) what.push_back("HKCU\\" + k.key);
    throw EnvError(fmt::format("another termsuite run (pid {}) keeps {} for its run and restores it when it ends; wait "
                               "for it (its journal: {})",
                               j->owner_pid, fmt::join(what, ", "), path.string()));
  }
  restore_all(*j);
  delete_journal(path);
  for (const auto& s : j->saved)
    fmt::print("termsuite: restored HKCU\\{}\\{} as it was before a run (pid {}) that ended without restoring it\n",
               s.setting.key, s.setting.value, j->owner_pid);
  for (const auto& k : j->kept)
    fmt::print("termsuite: restored HKCU\\{} as it was before a run (pid {}) that ended without restoring it\n", k.key,
               j->owner_pid);
}

std::vector<preflight::Finding> RunSettings::apply(std::vector<preflight::Finding> findings) {
  auto wanted = [](const preflight::Finding& f) {
    return f.setting && (f.verdict == preflight::Verdict::skip || f.verdict == preflight::Verdict::note);
  };
  auto state = std::make_unique<State>();
  state->journal = journal_path();
  state->saved.owner_pid = GetCurrentProcessId();
  state->saved.owner_start = creation_time(GetCurrentProcess());
  for (const auto& f : findings) {
    if (wanted(f)) state->saved.saved.push_back(save(*f.setting));
    for (const auto& key : f.keeps)
      if (std::none_of(state->saved.kept.begin(), state->saved.kept.end(), [&](const Kept& k) { return k.key == key; }))
        state->saved.kept.push_back(keep(key));
  }
  if (state->saved.saved.empty() && state->saved.kept.empty()) return findings;
  try {
    // The old values are safe (the journal) and watched (the guard) before anything changes.
    write_journal(state->journal, state->saved);
    start_guard(state->journal);
  } catch (const EnvError& e) {
    delete_journal(state->journal);
    for (auto& f : findings)
      if (wanted(f)) f.action += fmt::format(" ({} could not be set for the run: {})", f.setting->describe(), e.what());
    return findings;
  }
  state_ = std::move(state);
  for (auto& f : findings) {
    if (!wanted(f)) continue;
    const DWORD data = f.setting->data;
    if (LSTATUS rc = put(f.setting->key, f.setting->value, REG_DWORD, &data, sizeof data); rc == ERROR_SUCCESS) {
      f = preflight::neutralised_by_setting(std::move(f));
      f.applied = true;
    }
    else
      f.action += fmt::format(" ({} could not be set: error {})", f.setting->describe(), rc);
  }
  return findings;
}

std::vector<preflight::Finding> RunSettings::as_conform_would(std::vector<preflight::Finding> findings) {
  for (auto& f : findings)
    if (f.setting && (f.verdict == preflight::Verdict::skip || f.verdict == preflight::Verdict::note)) {
      const bool was_skip = f.verdict == preflight::Verdict::skip;
      const auto before = f.action;
      f = preflight::neutralised_by_setting(std::move(f));
      const auto set = fmt::format("conform sets {} for its run and restores it", f.setting->describe());
      f.action = was_skip || before.empty() ? set : before + "; " + set;
    }
  return findings;
}

int RunSettings::guard(const fs::path& journal, unsigned long long owner) {
  HANDLE run = reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(owner));
  const DWORD pid = GetProcessId(run);
  const std::uint64_t start = creation_time(run);
  WaitForSingleObject(run, INFINITE);
  // The run restores at its end and deletes the journal; one that is still there, and still names
  // this run, was left by a run that ended without restoring.
  try {
    auto j = read_journal(journal);
    if (!j || j->owner_pid != pid || j->owner_start != start) return 0;
    restore_all(*j);
    delete_journal(journal);
  } catch (const EnvError&) {
    return 1;
  }
  return 0;
}

}  // namespace termsuite::runner
