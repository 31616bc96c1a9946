// supervise.hpp on Windows (the runner of the Windows bundle, termsuite.exe).
//
// Every child of run() is created suspended, put into one job of this runner's and then
// resumed, so it is in the job before it can start anything. The job has
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the runner ends, however it ends (TerminateProcess
// included), the system closes its last handle to the job and ends every process in it, the
// suite processes and whatever they started. A child that reaches its deadline is terminated;
// the suite puts its actors into a kill-on-close job of its own, so they go with it. (Job
// objects nest from Windows 8 on: the suite's job inside this one.)
//
// Ctrl+C, Ctrl+Break and closing the console: the handler ends every child and lets the
// caller clean up (throw_if_interrupted).
// Boost.Process brings Asio, which needs WinSock 2 included before <windows.h>.
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <fmt/format.h>
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwctype>
#include <map>
#include <memory>
#include <optional>

#include "supervise.hpp"
#include "supervise_child.hpp"
#include "termsuite/win32.hpp"

namespace bp = boost::process;

namespace termsuite::runner {

namespace {

std::atomic<bool> g_interrupted{false};

// Set (manual reset) by Ctrl+C: every wait of run() ends at once.
HANDLE interrupt_event() {
  static HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  return event;
}

// The runner's job: created on first use, never closed (the system closes it with the process).
HANDLE runner_job() {
  static HANDLE job = [] {
    HANDLE j = CreateJobObjectW(nullptr, nullptr);
    if (!j) throw EnvError(fmt::format("CreateJobObject failed: error {}", GetLastError()));
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(j, JobObjectExtendedLimitInformation, &limits, sizeof limits))
      throw EnvError(fmt::format("SetInformationJobObject(KILL_ON_JOB_CLOSE) failed: error {}", GetLastError()));
    return j;
  }();
  return job;
}

// Suspended at creation, into the job, then resumed.
struct InRunnerJob : bp::extend::handler {
  HANDLE job = runner_job();
  mutable DWORD error = 0;  // AssignProcessToJobObject's, if it failed (the child is then ended)
  template <class Executor>
  void on_setup(Executor& e) const {
    e.creation_flags |= CREATE_SUSPENDED;
  }
  template <class Executor>
  void on_success(Executor& e) const {
    HANDLE process = reinterpret_cast<HANDLE>(e.proc_info.hProcess);
    HANDLE thread = reinterpret_cast<HANDLE>(e.proc_info.hThread);
    if (!AssignProcessToJobObject(job, process)) {
      error = GetLastError();
      TerminateProcess(process, 1);
    }
    ResumeThread(thread);
  }
};


Finished finish(bp::child& child, const InRunnerJob& job, Deadline d) {
  Finished f;
  if (job.error) {
    std::error_code ec;
    child.wait(ec);
    throw EnvError(fmt::format("cannot put a child into the runner's job: AssignProcessToJobObject failed: error {}",
                               job.error));
  }
  // One wait on two objects: the child's end, or the Ctrl+C event; the deadline bounds it.
  HANDLE objects[2] = {reinterpret_cast<HANDLE>(child.native_handle()), interrupt_event()};
  DWORD r = WaitForMultipleObjects(2, objects, FALSE, d.remaining_ms());
  if (r != WAIT_OBJECT_0) {
    f.timed_out = r == WAIT_TIMEOUT;
    std::error_code ec;
    child.terminate(ec);
  }
  std::error_code ec;
  child.wait(ec);
  f.exit_code = child.exit_code();
  f.interrupted = g_interrupted.load() && !f.timed_out;
  return f;
}

BOOL WINAPI on_console_event(DWORD event) {
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
      g_interrupted = true;
      SetEvent(interrupt_event());
      return TRUE;  // handled: the waits above end the children, the caller cleans up
    default:
      return FALSE;
  }
}

// --- Under Wine: the suite's Unix standard error into its log -------------------------------
//
// A Windows process under Wine writes Wine's own messages ("wine: Unhandled page fault ...
// starting debugger...", err: lines) to its Unix standard error, which is its Unix parent's: Wine
// maps only standard input and output to a child's handles (dlls/ntdll/unix/process.c,
// spawn_process). A crashing actor's messages would so reach the terminal of whoever ran `wine
// termsuite.exe`. So, under Wine, a suite process whose output goes to a file is started as the
// Linux runner starts it: through /bin/sh, its Unix standard error joined to its standard output
// (CreateProcess of a Unix program: fork_and_exec, same file). Wine returns no handle for a Unix
// program; the suite process hands itself over instead (TERMSUITE_HANDOVER, suite_context.hpp):
// it names its pid and waits until this runner has put it into its job. On Windows none of this
// applies.

struct WineLoader {
  std::wstring sh;      // /bin/sh as Windows names it
  std::wstring loader;  // WINELOADER: the Unix path of the Wine that runs this process
};

// A Unix path as this Wine names it for Windows (kernel32's wine_get_dos_file_name); nullopt
// where there is no such Wine export (Windows) or no name.
std::optional<std::wstring> dos_name(const char* unix_path) {
  using ToDos = WCHAR*(CDECL*)(const char*);
  static const auto to_dos = reinterpret_cast<ToDos>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "wine_get_dos_file_name")));
  WCHAR* dos = to_dos ? to_dos(unix_path) : nullptr;
  if (!dos) return std::nullopt;
  std::wstring name(dos);
  HeapFree(GetProcessHeap(), 0, dos);
  return name;
}

const std::optional<WineLoader>& wine_loader() {
  static const std::optional<WineLoader> found = []() -> std::optional<WineLoader> {
    if (!GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version")) return std::nullopt;
    wchar_t loader[MAX_PATH] = {};
    DWORD n = GetEnvironmentVariableW(L"WINELOADER", loader, MAX_PATH);
    if (n == 0 || n >= MAX_PATH) return std::nullopt;
    auto sh = dos_name("/bin/sh");
    if (!sh) return std::nullopt;
    WineLoader w{*sh, loader};
    if (GetFileAttributesW(w.sh.c_str()) == INVALID_FILE_ATTRIBUTES) return std::nullopt;
    return w;
  }();
  return found;
}

// This process's environment with the command's changes, as a CreateProcessW block.
std::wstring environment_block(const Command& c, const std::wstring& handover) {
  std::map<std::wstring, std::wstring, std::less<>> vars;  // by upper-case name, as Windows compares them
  auto upper = [](std::wstring s) {
    for (auto& ch : s) ch = static_cast<wchar_t>(towupper(ch));
    return s;
  };
  if (wchar_t* block = GetEnvironmentStringsW()) {
    for (const wchar_t* p = block; *p; p += wcslen(p) + 1) {
      std::wstring entry(p);
      auto eq = entry.find(L'=', 1);
      if (eq != std::wstring::npos) vars[upper(entry.substr(0, eq))] = entry;
    }
    FreeEnvironmentStringsW(block);
  }
  for (const auto& name : c.unset) vars.erase(upper(win32::widen(name)));
  for (const auto& [k, v] : c.env) vars[upper(win32::widen(k))] = win32::widen(k) + L"=" + win32::widen(v);
  vars[L"TERMSUITE_HANDOVER"] = L"TERMSUITE_HANDOVER=" + handover;
  // Wine does not pass WINEDLLOVERRIDES on to a Unix program (dlls/ntdll/unix/env.c, build_envp):
  // the shell gives it back to the Wine it starts.
  if (auto it = vars.find(L"WINEDLLOVERRIDES"); it != vars.end())
    vars[L"TERMSUITE_WINEDLLOVERRIDES"] = L"TERMSUITE_WINEDLLOVERRIDES=" + it->second.substr(it->second.find(L'=') + 1);
  std::wstring out;
  for (const auto& [k, entry] : vars) {
    out += entry;
    out += L'\0';
  }
  out += L'\0';
  return out;
}

// Runs `c` under Wine with its Unix standard error and standard output in `file`. nullopt when
// this is not Wine, or the shell could not be started (run() then starts it the usual way).
std::optional<Finished> run_with_unix_stderr(const Command& c, Deadline d, const std::filesystem::path& file) {
  const auto& wine = wine_loader();
  if (!wine) return std::nullopt;
  static std::atomic<unsigned> counter{0};
  const auto name = fmt::format("termsuite-handover-{}-{}", GetCurrentProcessId(), counter++);
  auto named = [&](const char* what) { return win32::widen(fmt::format("Local\\{}-{}", name, what)); };
  win32::OwnedHandle ready(CreateEventW(nullptr, TRUE, FALSE, named("ready").c_str()));
  win32::OwnedHandle go(CreateEventW(nullptr, TRUE, FALSE, named("go").c_str()));
  win32::OwnedHandle pid_map(
      CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, sizeof(DWORD), named("pid").c_str()));
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  win32::OwnedHandle out(CreateFileW(file.wstring().c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                                     CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr));
  win32::OwnedHandle in(CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, nullptr));
  if (!ready || !go || !pid_map || !out || !in) return std::nullopt;

  std::wstring line;
  win32::append_quoted(line, wine->sh);
  win32::append_quoted(line, L"-c");
  // A Wine without its preloader starts the suite without address randomisation, which its actors
  // inherit (address_space.hpp on the Linux side; wine_address_space_finding below says so).
  win32::append_quoted(line, L"if [ -n \"${TERMSUITE_WINEDLLOVERRIDES+x}\" ]; then WINEDLLOVERRIDES=$TERMSUITE_WINEDLLOVERRIDES; "
                   L"export WINEDLLOVERRIDES; unset TERMSUITE_WINEDLLOVERRIDES; fi; "
                   L"d=${0%/*}; if [ ! -e \"$d/wine64-preloader\" ] && [ ! -e \"$d/wine-preloader\" ] && "
                   L"setarch \"$(uname -m)\" -R true 2>/dev/null; then exec setarch \"$(uname -m)\" -R \"$0\" \"$@\" 2>&1; fi; "
                   L"exec \"$0\" \"$@\" 2>&1");
  win32::append_quoted(line, wine->loader);
  win32::append_quoted(line, win32::widen(c.program));
  for (const auto& a : c.args) win32::append_quoted(line, win32::widen(a));
  auto env = environment_block(c, win32::widen(name));
  const auto cwd = (c.cwd.empty() ? std::filesystem::current_path() : c.cwd).wstring();
  STARTUPINFOW si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = in.get();
  si.hStdOutput = out.get();
  si.hStdError = out.get();
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(wine->sh.c_str(), line.data(), nullptr, nullptr, FALSE, CREATE_UNICODE_ENVIRONMENT, env.data(),
                      cwd.c_str(), &si, &pi))
    return std::nullopt;
  if (pi.hProcess) CloseHandle(pi.hProcess);  // none for a Unix program; closed should Wine give one
  if (pi.hThread) CloseHandle(pi.hThread);

  Finished f;
  // It names itself, waits to be taken over; the runner puts it in its job and lets it go on.
  HANDLE started[2] = {ready.get(), interrupt_event()};
  DWORD r = WaitForMultipleObjects(2, started, FALSE, std::min<DWORD>(d.remaining_ms(), 60'000));
  if (r != WAIT_OBJECT_0) {
    f.interrupted = r == WAIT_OBJECT_0 + 1;
    if (!f.interrupted)
      throw EnvError(fmt::format("{} did not start within 60 s under Wine (see {})", c.program, file.string()));
    return f;
  }
  DWORD pid = 0;
  if (void* view = MapViewOfFile(pid_map.get(), FILE_MAP_READ, 0, 0, sizeof(DWORD))) {
    std::memcpy(&pid, view, sizeof pid);
    UnmapViewOfFile(view);
  }
  win32::OwnedHandle process(OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION |
                                             PROCESS_SET_QUOTA,
                                         FALSE, pid));
  if (!process) throw EnvError(fmt::format("cannot open the suite process {} that {} started: error {}", pid, c.program,
                                           GetLastError()));
  if (!AssignProcessToJobObject(runner_job(), process.get())) {
    const DWORD error = GetLastError();
    TerminateProcess(process.get(), 1);
    throw EnvError(fmt::format("cannot put a child into the runner's job: AssignProcessToJobObject failed: error {}", error));
  }
  SetEvent(go.get());
  HANDLE objects[2] = {process.get(), interrupt_event()};
  r = WaitForMultipleObjects(2, objects, FALSE, d.remaining_ms());
  if (r != WAIT_OBJECT_0) {
    f.timed_out = r == WAIT_TIMEOUT;
    TerminateProcess(process.get(), 1);
    WaitForSingleObject(process.get(), 10'000);
  }
  DWORD code = 0;
  GetExitCodeProcess(process.get(), &code);
  f.exit_code = static_cast<int>(code);
  f.interrupted = g_interrupted.load() && !f.timed_out;
  return f;
}

}  // namespace

std::optional<preflight::Finding> wine_address_space_finding() {
  const auto& wine = wine_loader();
  if (!wine) return std::nullopt;
  auto unix_exists = [](const std::string& path) {
    const auto dos = dos_name(path.c_str());
    return dos && GetFileAttributesW(dos->c_str()) != INVALID_FILE_ATTRIBUTES;
  };
  std::string loader;
  for (wchar_t ch : wine->loader) loader += ch < 0x80 ? static_cast<char>(ch) : '?';  // a Unix path; '?' never exists
  const auto dir = loader.substr(0, loader.rfind('/'));
  preflight::HostFacts h;
  for (const char* name : {"/wine64-preloader", "/wine-preloader"})
    if (h.preloader.empty() && unix_exists(dir + name)) h.preloader = dir + name;
  // A Unix file's first line, read through Wine's Z: drive (this process is a Unix process too).
  auto unix_line = [](const std::string& path) {
    std::string text;
    const auto dos = dos_name(path.c_str());
    if (!dos) return text;
    HANDLE f = CreateFileW(dos->c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, 0, nullptr);
    if (f == INVALID_HANDLE_VALUE) return text;
    char buf[64] = {};
    DWORD n = 0;
    if (ReadFile(f, buf, sizeof buf - 1, &n, nullptr)) text.assign(buf, n);
    CloseHandle(f);
    return text;
  };
  if (h.preloader.empty()) {
    // Off already when whoever started this process asked for it (setarch -R, the Linux runner),
    // which this process and the suite processes inherit, or when the system never randomises.
    const auto personality = unix_line("/proc/self/personality");
    const bool inherited = !personality.empty() && (std::strtoul(personality.c_str(), nullptr, 16) & 0x0040000);
    if (inherited || unix_line("/proc/sys/kernel/randomize_va_space").rfind('0', 0) == 0)
      h.randomisation = "already-off";
    else
      h.randomisation = unix_exists("/usr/bin/setarch") || unix_exists("/bin/setarch")
                            ? "off-for-run"
                            : "refused: setarch (util-linux) is not installed";
  }
  return preflight::judge_address_space(h);
}

Finished run(const Command& c, Deadline d, Output out, const std::optional<std::filesystem::path>& log,
             LogMode mode) {
  // Under Wine, a suite process writes Wine's messages into its log (or its captured output), not
  // the user's terminal. (Only the suite binary is run here with its output to a file, and it
  // knows the handover.)
  if (log && mode != LogMode::append) {
    if (auto f = run_with_unix_stderr(c, d, *log)) return *f;
  } else if (out == Output::capture && wine_loader()) {
    auto tmp = std::filesystem::temp_directory_path() /
               fmt::format("termsuite-capture-{}-{}", GetCurrentProcessId(), GetCurrentThreadId());
    if (auto f = run_with_unix_stderr(c, d, tmp)) {
      f->output = read_text_file(tmp);
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return *f;
    }
  }
  auto program = resolve_program(c.program);
  auto env = child_environment(c);
  std::error_code ec;
  auto cwd = c.cwd.empty() ? std::filesystem::current_path() : c.cwd;
  InRunnerJob job;
  auto started = [&](bp::child& child) {
    if (ec) throw EnvError(fmt::format("cannot start {}: {}", program, ec.message()));
    return finish(child, job, d);
  };
  if (log && mode == LogMode::append) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(_wfopen(log->c_str(), L"ab"), &std::fclose);
    if (!file) throw EnvError(fmt::format("cannot open {}", log->string()));
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > file.get(),
                    bp::std_in < bp::null, job, ec);
    return started(child);
  }
  if (log) {
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > log->string(),
                    bp::std_in < bp::null, job, ec);
    return started(child);
  }
  if (out == Output::capture) {
    // Through a file, not a pipe, as on Linux: a descendant that inherited a pipe would keep it
    // open after the child ended.
    auto tmp = std::filesystem::temp_directory_path() /
               fmt::format("termsuite-capture-{}-{}", GetCurrentProcessId(), GetCurrentThreadId());
    Finished f;
    {
      bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), (bp::std_out & bp::std_err) > tmp.string(),
                      bp::std_in < bp::null, job, ec);
      f = started(child);
    }
    f.output = read_text_file(tmp);
    std::filesystem::remove(tmp, ec);
    return f;
  }
  if (out == Output::discard) {
    bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), bp::std_out > bp::null,
                    bp::std_err > bp::null, bp::std_in < bp::null, job, ec);
    return started(child);
  }
  bp::child child(program, bp::args(c.args), env, bp::start_dir(cwd.string()), job, ec);
  return started(child);
}

int spawn_detached(const Command& c, const std::filesystem::path&, Detach) {
  throw EnvError(fmt::format("internal error: no detached processes on Windows ({})", c.program));
}

void install_interrupt_handling() { SetConsoleCtrlHandler(on_console_event, TRUE); }

bool interrupted() { return g_interrupted.load(); }

void throw_if_interrupted() {
  if (g_interrupted.load()) throw Interrupted();
}

}  // namespace termsuite::runner
