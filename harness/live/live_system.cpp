// The live backend: actors are real processes on Windows or Wine.
#include <windows.h>
#include <tlhelp32.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <fmt/xchar.h>

#include "console_control.hpp"
#include "report_channel.hpp"
#include "termsuite/live.hpp"
#include "termsuite/system.hpp"
#include "termsuite/win32.hpp"

namespace termsuite {

namespace live {
namespace {

HANDLE to_win(Handle h) { return reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(h.value)); }
Handle from_win(HANDLE h) { return Handle{static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(h))}; }

WaitResult wait_result(DWORD w) {
  switch (w) {
    case WAIT_OBJECT_0: return WaitResult::signaled;
    case WAIT_TIMEOUT: return WaitResult::timeout;
    case WAIT_ABANDONED: return WaitResult::abandoned;
    default: return WaitResult::failed;
  }
}

const std::map<std::string, std::wstring, std::less<>>& actor_programs() {
  static const std::map<std::string, std::wstring, std::less<>> programs = {
      {"console", L"actor-console.exe"},
      {"gui", L"actor-gui.exe"},
  };
  return programs;
}

constexpr DWORD kReapExitCode = 0x7E5A;  // what reap() terminates leftovers with

class LiveSystem final : public System {
 public:
  LiveSystem() : actor_dir_(win32::module_dir()) {
    // The suite's error mode, which its actors (and taskkill) inherit: no crash dialog, and no
    // Windows Error Reporting, which is what starts a registered post-mortem debugger (SetErrorMode,
    // "Enabling Postmortem Debugging"). Wine's winetest does the same for its tests
    // (programs/winetest/main.c). Each actor sets it again for itself.
    SetErrorMode(GetErrorMode() | SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    sandbox_ = create_job(JobOptions{.kill_on_close = true});
  }

  ~LiveSystem() override {
    if (!reaped_) reap();
  }

  std::string_view backend() const override { return "live"; }

  Actor start(const ActorSpec& spec) override {
    auto program = actor_programs().find(spec.kind);
    if (program == actor_programs().end()) throw std::runtime_error(fmt::format("unknown actor kind '{}'", spec.kind));
    std::wstring exe = actor_dir_ + L"\\" + program->second;
    HANDLE job = to_win(spec.job ? spec.job : sandbox_);

    const int id = static_cast<int>(channels_.size());
    auto channel = std::make_unique<ReportChannel>(id);
    win32::Launch launch;
    launch.exe = exe;
    win32::append_quoted(launch.command_line, exe);
    win32::append_quoted(launch.command_line, L"--report");
    win32::append_quoted(launch.command_line, std::to_wstring(reinterpret_cast<std::uintptr_t>(channel->client())));
    for (const auto& v : spec.verbs) win32::append_quoted(launch.command_line, win32::widen(v));
    // The channel's write end is all it inherits (and its descendants through it).
    launch.inherit.push_back(channel->client());
    if (spec.new_group) launch.flags |= CREATE_NEW_PROCESS_GROUP;
    if (spec.new_console) launch.flags |= CREATE_NEW_CONSOLE;

    PROCESS_INFORMATION pi{};
    const char* failed = nullptr;
    const bool created = win32::create_process_in_job(std::move(launch), job, &pi, &failed);
    const DWORD error = GetLastError();
    channel->close_client();
    if (!created)
      throw std::runtime_error(fmt::format("{} of the {} actor failed: error {}", failed, spec.kind, error));
    owned_.insert(pi.hProcess);
    owned_.insert(pi.hThread);
    started_.push_back(pi.hProcess);
    channels_.push_back(std::move(channel));
    return Actor{id, pi.dwProcessId, pi.dwThreadId, from_win(pi.hProcess), from_win(pi.hThread)};
  }

  WaitResult wait(Handle h, Deadline d) override {
    return wait_result(WaitForSingleObject(to_win(h), d.remaining_ms()));
  }

  WaitGroup wait_async(Handle h, int waiters, Deadline d) override {
    auto group = std::make_unique<Group>();
    group->results.assign(static_cast<std::size_t>(waiters), WaitResult::failed);
    for (int i = 0; i < waiters; ++i)
      group->threads.emplace_back([g = group.get(), i, win = to_win(h), d] {
        g->results[static_cast<std::size_t>(i)] = wait_result(WaitForSingleObject(win, d.remaining_ms()));
      });
    int id = next_group_++;
    groups_[id] = std::move(group);
    return WaitGroup{id};
  }

  std::vector<WaitResult> join(WaitGroup g) override {
    auto it = groups_.find(g.id);
    if (it == groups_.end()) throw std::logic_error("join of an unknown wait group");
    for (auto& t : it->second->threads) t.join();
    auto results = std::move(it->second->results);
    groups_.erase(it);
    return results;
  }

  bool terminate(Handle process, std::uint32_t code) override { return TerminateProcess(to_win(process), code); }

  std::uint32_t terminate_status(Handle process, std::uint32_t code) override {
    SetLastError(0);
    return TerminateProcess(to_win(process), code) ? 0 : GetLastError();
  }

  std::uint32_t terminate_thread(Handle thread, std::uint32_t code) override {
    SetLastError(0);
    return TerminateThread(to_win(thread), code) ? 0 : GetLastError();
  }

  Opened open_process_without_terminate(std::uint32_t pid) override {
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);
    if (!h) return Opened{{}, GetLastError()};
    owned_.insert(h);
    return Opened{from_win(h), 0};
  }

  std::optional<std::uint32_t> exit_code(Handle process) override {
    DWORD code = 0;
    if (!GetExitCodeProcess(to_win(process), &code)) return std::nullopt;
    return code;
  }

  std::optional<std::uint32_t> thread_exit_code(Handle thread) override {
    DWORD code = 0;
    if (!GetExitCodeThread(to_win(thread), &code)) return std::nullopt;
    return code;
  }

  void close(Handle h) override {
    HANDLE w = to_win(h);
    if (!owned_.erase(w)) throw std::logic_error("close of a handle this System does not own");
    jobs_.erase(w);
    ports_.erase(w);
    job_messages_.erase(w);
    std::erase(started_, w);
    CloseHandle(w);
  }

  Opened open_process(std::uint32_t pid) override {
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE | PROCESS_TERMINATE, FALSE, pid);
    if (!h) return Opened{{}, GetLastError()};
    owned_.insert(h);
    return Opened{from_win(h), 0};
  }

  Opened open_thread(std::uint32_t tid) override {
    HANDLE h = OpenThread(THREAD_QUERY_LIMITED_INFORMATION | SYNCHRONIZE | THREAD_TERMINATE, FALSE, tid);
    if (!h) return Opened{{}, GetLastError()};
    owned_.insert(h);
    return Opened{from_win(h), 0};
  }

  std::optional<std::uint32_t> parent_pid(std::uint32_t pid) override {
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return std::nullopt;
    std::optional<std::uint32_t> parent;
    PROCESSENTRY32W pe{};
    pe.dwSize = sizeof pe;
    for (BOOL ok = Process32FirstW(snap, &pe); ok; ok = Process32NextW(snap, &pe))
      if (pe.th32ProcessID == pid) {
        parent = pe.th32ParentProcessID;
        break;
      }
    CloseHandle(snap);
    return parent;
  }

  Handle create_job(JobOptions options) override {
    HANDLE job = CreateJobObjectW(nullptr, nullptr);
    if (!job) throw std::runtime_error(fmt::format("CreateJobObject failed: error {}", GetLastError()));
    DWORD flags = 0;
    if (options.kill_on_close) flags |= JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (options.breakaway_ok) flags |= JOB_OBJECT_LIMIT_BREAKAWAY_OK;
    if (options.silent_breakaway_ok) flags |= JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK;
    if (flags != 0) {
      JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
      limits.BasicLimitInformation.LimitFlags = flags;
      if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
        DWORD err = GetLastError();
        CloseHandle(job);
        throw std::runtime_error(fmt::format("SetInformationJobObject(limits {:#x}) failed: error {}", flags, err));
      }
    }
    if (options.completion_port) {
      HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
      JOBOBJECT_ASSOCIATE_COMPLETION_PORT association{job, port};
      if (!port || !SetInformationJobObject(job, JobObjectAssociateCompletionPortInformation, &association,
                                            sizeof association)) {
        DWORD err = GetLastError();
        if (port) CloseHandle(port);
        CloseHandle(job);
        throw std::runtime_error(fmt::format("associating a completion port with a job failed: error {}", err));
      }
      owned_.insert(port);
      ports_[job] = port;
    }
    owned_.insert(job);
    jobs_.insert(job);
    return from_win(job);
  }

  bool terminate_job(Handle job, std::uint32_t code) override { return TerminateJobObject(to_win(job), code); }

  std::uint32_t assign_to_job(Handle job, Handle process) override {
    return AssignProcessToJobObject(to_win(job), to_win(process)) ? 0 : GetLastError();
  }

  std::vector<JobMessage> job_messages(Handle job, Deadline d) override {
    auto port = ports_.find(to_win(job));
    if (port == ports_.end()) return {};
    auto& received = job_messages_[to_win(job)];
    auto zero = [&] {
      return std::any_of(received.begin(), received.end(),
                         [](const JobMessage& m) { return m.message == kJobMsgActiveProcessZero; });
    };
    while (!zero()) {
      DWORD message = 0;
      ULONG_PTR key = 0;
      OVERLAPPED* value = nullptr;
      if (!GetQueuedCompletionStatus(port->second, &message, &key, &value, d.remaining_ms())) break;
      received.push_back(JobMessage{message, static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(value))});
    }
    return received;
  }

  NamedEvent create_event(std::string_view hint) override {
    static std::atomic<unsigned> counter{0};
    std::string name = fmt::format("termsuite-{}-{}-{}", GetCurrentProcessId(), hint, counter++);
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, win32::widen(name).c_str());
    if (!e) throw std::runtime_error(fmt::format("CreateEvent({}) failed: error {}", name, GetLastError()));
    owned_.insert(e);
    return NamedEvent{from_win(e), name};
  }

  bool set_event(Handle event) override { return SetEvent(to_win(event)); }

  bool drained(const Actor& a, Deadline d) override { return channel(a).wait_closed(d); }

  Opened open_named(NamedType type, std::string_view name) override {
    auto w = win32::widen(name);
    HANDLE h = nullptr;
    switch (type) {
      case NamedType::event: h = OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, w.c_str()); break;
      case NamedType::section: h = OpenFileMappingW(FILE_MAP_READ, FALSE, w.c_str()); break;
      case NamedType::mutex: h = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, w.c_str()); break;
    }
    if (!h) return Opened{{}, GetLastError()};
    owned_.insert(h);
    return Opened{from_win(h), 0};
  }

  std::optional<std::string> read_section(Handle section) override {
    void* view = MapViewOfFile(to_win(section), FILE_MAP_READ, 0, 0, 0);
    if (!view) return std::nullopt;
    std::string text(static_cast<const char*>(view), strnlen(static_cast<const char*>(view), 4096));
    UnmapViewOfFile(view);
    return text;
  }

  bool release_mutex(Handle mutex) override { return ReleaseMutex(to_win(mutex)); }

  Pipe create_pipe(std::string_view hint, PipeUse use) override {
    static std::atomic<unsigned> counter{0};
    std::string name = fmt::format("termsuite-{}-{}-{}", GetCurrentProcessId(), hint, counter++);
    DWORD access = (use == PipeUse::harness_reads ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND) | FILE_FLAG_OVERLAPPED |
                   FILE_FLAG_FIRST_PIPE_INSTANCE;
    HANDLE h = CreateNamedPipeW(win32::widen("\\\\.\\pipe\\" + name).c_str(), access, PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096,
                                4096, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) throw std::runtime_error(fmt::format("CreateNamedPipe failed: error {}", GetLastError()));
    owned_.insert(h);
    return Pipe{from_win(h), name};
  }

  PipeResult read_pipe(Handle pipe, Deadline d) override {
    // The OVERLAPPED and the byte outlive this call if a cancelled read does not complete.
    auto io = std::make_unique<PendingRead>();
    io->ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    owned_.insert(io->ov.hEvent);
    DWORD n = 0;
    BOOL ok = ReadFile(to_win(pipe), &io->byte, 1, nullptr, &io->ov);
    DWORD err = ok ? 0 : GetLastError();
    if (!ok && err == ERROR_IO_PENDING) {
      if (WaitForSingleObject(io->ov.hEvent, d.remaining_ms()) != WAIT_OBJECT_0) {
        CancelIoEx(to_win(pipe), &io->ov);
        if (WaitForSingleObject(io->ov.hEvent, 5'000) != WAIT_OBJECT_0) abandoned_reads_.push_back(std::move(io));
        return PipeResult{PipeIo::timeout, 0};
      }
      ok = GetOverlappedResult(to_win(pipe), &io->ov, &n, FALSE);
      err = ok ? 0 : GetLastError();
    }
    if (ok) return PipeResult{PipeIo::data, 0};
    return PipeResult{err == ERROR_BROKEN_PIPE ? PipeIo::broken : PipeIo::failed, err};
  }

  PipeResult write_pipe(Handle pipe) override {
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char byte = 'x';
    DWORD n = 0;
    BOOL ok = WriteFile(to_win(pipe), &byte, 1, nullptr, &ov);
    DWORD err = ok ? 0 : GetLastError();
    if (!ok && err == ERROR_IO_PENDING) {
      ok = GetOverlappedResult(to_win(pipe), &ov, &n, TRUE);
      err = ok ? 0 : GetLastError();
    }
    CloseHandle(ov.hEvent);
    if (ok) return PipeResult{PipeIo::data, 0};
    return PipeResult{err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE ? PipeIo::broken : PipeIo::failed, err};
  }

  std::optional<ThreadTimes> thread_times(Handle thread) override {
    FILETIME c, e, k, u;
    if (!GetThreadTimes(to_win(thread), &c, &e, &k, &u)) return std::nullopt;
    auto v = [](FILETIME f) { return (static_cast<std::uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime; };
    return ThreadTimes{static_cast<std::uint32_t>(GetThreadId(to_win(thread))), v(c), v(e), v(k), v(u)};
  }

  std::optional<std::uint64_t> process_creation_time(Handle process) override {
    FILETIME c, e, k, u;
    if (!GetProcessTimes(to_win(process), &c, &e, &k, &u)) return std::nullopt;
    return (static_cast<std::uint64_t>(c.dwHighDateTime) << 32) | c.dwLowDateTime;
  }

  std::uint32_t set_shutdown_parameters(std::uint32_t level, std::uint32_t flags) override {
    return SetProcessShutdownParameters(level, flags) ? 0 : GetLastError();
  }

  std::optional<ShutdownParameters> shutdown_parameters() override {
    DWORD level = 0, flags = 0;
    if (!GetProcessShutdownParameters(&level, &flags)) return std::nullopt;
    return ShutdownParameters{level, flags};
  }

  bool own_console() override { return live::own_console(); }

  std::uint32_t ctrl_event(std::uint32_t type, std::uint32_t group) override { return live::ctrl_event(type, group); }

  std::uint32_t post_close(std::uint64_t hwnd) override { return live::post_close(hwnd); }

  std::optional<std::string> window_class(std::uint64_t hwnd) override { return live::window_class(hwnd); }

  std::optional<std::uint32_t> window_process(std::uint64_t hwnd) override { return live::window_process(hwnd); }

  // taskkill runs in the sandbox job: a taskkill still running when the test ends is reaped with
  // the actors. One that has finished is no longer a member of the job (and is not in started_),
  // so reap() never takes it for a survivor.
  std::optional<std::uint32_t> taskkill(std::uint32_t pid, TaskkillOptions options, Deadline d) override {
    return live::run_taskkill(pid, options, to_win(sandbox_), d);
  }

  std::optional<Event> await(const Actor& a, std::string_view ev, Deadline d, std::uint32_t pid) override {
    return channel(a).await(ev, d, pid);
  }

  std::vector<Event> await_n(const Actor& a, std::string_view ev, std::size_t count, Deadline d) override {
    return channel(a).await_n(ev, count, d);
  }

  std::vector<Event> events(const Actor& a) override { return channel(a).snapshot(); }

  std::vector<std::string> reap() override {
    reaped_ = true;
    std::vector<std::string> problems;
    for (auto& [id, g] : groups_)
      for (auto& t : g->threads) t.join();
    groups_.clear();

    // Every process still in one of our jobs, then the jobs themselves: closing a
    // kill-on-close job ends its processes; any other job is terminated first.
    std::vector<std::pair<std::uint32_t, HANDLE>> members;
    for (HANDLE job : jobs_) {
      for (auto pid : job_pids(job))
        if (HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid))
          members.emplace_back(pid, h);
      if (job != to_win(sandbox_)) TerminateJobObject(job, kReapExitCode);
    }
    for (HANDLE job : jobs_) {
      owned_.erase(job);
      CloseHandle(job);
    }
    jobs_.clear();
    // As long as any process that should end is given (a busy machine must not make a survivor).
    auto deadline = Deadline::in(kExitBudget);
    for (auto [pid, h] : members) {
      if (WaitForSingleObject(h, deadline.remaining_ms()) != WAIT_OBJECT_0) {
        problems.push_back(fmt::format("process {} outlived the test's job (closing a kill-on-close job did not end it)", pid));
        TerminateProcess(h, kReapExitCode);
      }
      CloseHandle(h);
    }
    for (HANDLE p : started_)
      if (WaitForSingleObject(p, deadline.remaining_ms()) != WAIT_OBJECT_0) {
        problems.push_back(fmt::format("actor {} outlived the test", GetProcessId(p)));
        TerminateProcess(p, kReapExitCode);
      }
    started_.clear();

    // With every writer gone the readers see end of file; stop() bounds it regardless.
    for (auto& ch : channels_) {
      ch->wait_closed(Deadline::in(milliseconds(1000)));
      ch->stop();
      for (const auto& e : ch->snapshot())
        if (e.kind != Event::Kind::record) problems.push_back(fmt::format("report channel {}: {}", ch->id(), e.describe()));
    }
    for (HANDLE h : owned_) CloseHandle(h);
    owned_.clear();
    return problems;
  }

 private:
  struct Group {
    std::vector<std::thread> threads;
    std::vector<WaitResult> results;
  };
  struct PendingRead {
    OVERLAPPED ov{};
    char byte = 0;
  };
  std::vector<std::unique_ptr<PendingRead>> abandoned_reads_;  // freed after the handles close

  ReportChannel& channel(const Actor& a) {
    if (a.channel < 0 || static_cast<std::size_t>(a.channel) >= channels_.size())
      throw std::logic_error("actor has no report channel in this System");
    return *channels_[static_cast<std::size_t>(a.channel)];
  }

  static std::vector<std::uint32_t> job_pids(HANDLE job) {
    struct {
      JOBOBJECT_BASIC_PROCESS_ID_LIST list;
      ULONG_PTR more[1023];
    } ids{};
    std::vector<std::uint32_t> pids;
    if (!QueryInformationJobObject(job, JobObjectBasicProcessIdList, &ids, sizeof ids, nullptr)) return pids;
    for (DWORD i = 0; i < ids.list.NumberOfProcessIdsInList; ++i)
      pids.push_back(static_cast<std::uint32_t>(ids.list.ProcessIdList[i]));
    return pids;
  }

  std::wstring actor_dir_;
  Handle sandbox_;
  std::vector<std::unique_ptr<ReportChannel>> channels_;
  std::set<HANDLE> owned_;
  std::set<HANDLE> jobs_;
  std::map<HANDLE, HANDLE> ports_;                          // job -> its completion port
  std::map<HANDLE, std::vector<JobMessage>> job_messages_;  // what each port has delivered
  std::vector<HANDLE> started_;
  std::map<int, std::unique_ptr<Group>> groups_;
  int next_group_ = 1;
  bool reaped_ = false;
};

}  // namespace
}  // namespace live

std::unique_ptr<System> make_system() { return std::make_unique<live::LiveSystem>(); }

}  // namespace termsuite
