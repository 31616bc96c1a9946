// The corpse finder against a real leak, the one of Raymond Chen's "Why are there all these
// processes lingering near death, and what is keeping them alive?": the console actor runs
// `spawn-leak-thread [ return 0 ]` N times, so it keeps the thread handle of N children that
// exit at once. The scan must find exactly those N corpses, held by the actor, each through a
// THREAD handle naming the child's main thread; once the actor is gone, none is held by it.
//
// Every wait has a deadline; nothing sleeps to synchronise. The actor runs in a kill-on-close job,
// so it dies with the test.
#include <windows.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "corpses.hpp"

namespace {

constexpr int kChildren = 5;
constexpr DWORD kStartMs = 30'000;  // the actor to spawn N children and say ready (warm Wine: < 1 s)
constexpr DWORD kExitMs = 10'000;   // a process that is ending to be signaled
constexpr DWORD kToolMs = 30'000;   // termsuite-corpses.exe to run and exit (it takes < 1 s)

namespace corpses = termsuite::corpses;

class Deadline {
 public:
  static Deadline in_ms(DWORD ms) { return Deadline(GetTickCount64() + ms); }
  DWORD remaining() const {
    const ULONGLONG now = GetTickCount64();
    return now >= at_ ? 0 : static_cast<DWORD>(std::min<ULONGLONG>(at_ - now, 0x7fffffff));
  }

 private:
  explicit Deadline(ULONGLONG at) : at_(at) {}
  ULONGLONG at_;
};

using Handle = termsuite::corpses::Owned;

bool under_wine() { return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr; }

std::wstring bin_dir() {
  std::wstring path(32768, L'\0');
  DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
  path.resize(n);
  path.resize(path.find_last_of(L"\\/") + 1);
  return path;
}

using termsuite::win32::append_quoted;
using termsuite::win32::widen;

// A byte pipe given to a child as its standard output, read here with deadlines.
class OutputPipe {
 public:
  OutputPipe() {
    static unsigned counter = 0;
    const std::wstring name = L"\\\\.\\pipe\\termsuite-corpses-test-" + std::to_wstring(GetCurrentProcessId()) + L"-" +
                              std::to_wstring(counter++);
    server_ = Handle(CreateNamedPipeW(name.c_str(), PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 0, 64 * 1024, 0, nullptr));
    SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
    client_ = Handle(CreateFileW(name.c_str(), GENERIC_WRITE, 0, &sa, OPEN_EXISTING, 0, nullptr));
    event_ = Handle(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  }
  bool ok() const { return server_ && client_ && event_; }
  HANDLE client() const { return client_.get(); }
  void close_client() { client_.reset(); }
  bool eof() const { return eof_; }

  // The next line (without its '\n'); nullopt at the deadline or at end of data (see eof()).
  std::optional<std::string> line(Deadline d) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!l.empty() && l.back() == '\r') l.pop_back();
        return l;
      }
      if (!fill(d)) return std::nullopt;
    }
  }

  // Everything until every writer has closed the pipe, or until the deadline (then timed_out).
  std::string all(Deadline d, bool& timed_out) {
    timed_out = false;
    while (!eof_)
      if (!fill(d) && !eof_) {
        timed_out = true;
        break;
      }
    return std::exchange(buffer_, {});
  }

 private:
  // One read; false at the deadline or at end of data.
  bool fill(Deadline d) {
    if (eof_ || stuck_) return false;
    ov_ = OVERLAPPED{};
    ov_.hEvent = event_.get();
    ResetEvent(event_.get());
    DWORD n = 0;
    BOOL ok = ReadFile(server_.get(), chunk_, sizeof chunk_, nullptr, &ov_);
    DWORD err = ok ? ERROR_SUCCESS : GetLastError();
    if (!ok && err == ERROR_IO_PENDING) {
      if (WaitForSingleObject(event_.get(), d.remaining()) != WAIT_OBJECT_0) {
        // Cancel, and wait for the cancellation a bounded time too: the OVERLAPPED and the
        // chunk are members, so a read that completes later writes into live memory.
        CancelIoEx(server_.get(), &ov_);
        if (WaitForSingleObject(event_.get(), 5'000) == WAIT_OBJECT_0 &&
            GetOverlappedResult(server_.get(), &ov_, &n, FALSE))
          buffer_.append(chunk_, n);
        else
          stuck_ = true;
        return false;
      }
      ok = GetOverlappedResult(server_.get(), &ov_, &n, FALSE);
      err = ok ? ERROR_SUCCESS : GetLastError();
    } else if (ok) {
      GetOverlappedResult(server_.get(), &ov_, &n, FALSE);
    }
    if (!ok) {
      eof_ = true;  // ERROR_BROKEN_PIPE: every writer is gone
      return false;
    }
    buffer_.append(chunk_, n);
    return true;
  }

  Handle server_, client_, event_;
  OVERLAPPED ov_{};
  char chunk_[4096];
  std::string buffer_;
  bool eof_ = false;
  bool stuck_ = false;  // a cancelled read never completed: read no more
};

struct Started {
  Handle process, thread;
  DWORD pid = 0;
  DWORD error = 0;  // CreateProcess or AssignProcessToJobObject failed
  std::string what;
};

// Starts `exe args...` suspended with `out` as its stdout and stderr (inheriting only that), in
// `job`, then resumes it.
Started start(const std::wstring& exe, const std::vector<std::string>& args, HANDLE out, HANDLE err, HANDLE job) {
  Started s;
  termsuite::win32::Launch launch;
  launch.exe = exe;
  append_quoted(launch.command_line, exe);
  for (const auto& a : args) append_quoted(launch.command_line, widen(a));
  launch.inherit.push_back(out);
  if (err && err != out) launch.inherit.push_back(err);
  launch.use_std_handles = true;
  launch.std_out = out;
  launch.std_err = err ? err : out;

  PROCESS_INFORMATION pi{};
  const char* failed = nullptr;
  if (!termsuite::win32::create_process_in_job(std::move(launch), job, &pi, &failed)) {
    s.error = GetLastError();
    s.what = failed;
    return s;
  }
  s.process = Handle(pi.hProcess);
  s.thread = Handle(pi.hThread);
  s.pid = pi.dwProcessId;
  return s;
}

Handle kill_on_close_job() {
  Handle job(CreateJobObjectW(nullptr, nullptr));
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (job && !SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits, sizeof limits))
    job.reset();
  return job;
}

// The console actor leaking the thread handles of children that have all exited (one child per
// exit code, kChildren children returning 0 by default).
struct LeakingActor {
  std::vector<std::uint32_t> codes = std::vector<std::uint32_t>(kChildren, 0);
  Handle job;
  OutputPipe out;
  Started actor;
  std::map<DWORD, DWORD> children;  // child pid -> child main thread id (from `spawned`)
  std::vector<Handle> child_handles;  // ours, so no child id can be reused during the test
  std::vector<std::string> records;   // what the actor and its children wrote
  std::map<DWORD, std::uint32_t> expected_code;  // child pid -> its exit code

  // Starts it and waits until N `spawned` records and `ready`, then until every child has exited.
  void start_and_settle() {
    job = kill_on_close_job();
    ASSERT_TRUE(job) << "CreateJobObject/SetInformationJobObject failed: error " << GetLastError();
    ASSERT_TRUE(out.ok()) << "pipe setup failed: error " << GetLastError();
    std::vector<std::string> args;
    for (std::uint32_t code : codes)
      for (std::string a : {"spawn-leak-thread", "[", "return", "CODE", "]"}) args.push_back(a == "CODE" ? std::to_string(code) : a);
    args.push_back("ready");
    args.push_back("wait-forever");
    actor = start(bin_dir() + L"actor-console.exe", args, out.client(), nullptr, job.get());
    out.close_client();
    ASSERT_EQ(actor.error, 0u) << actor.what << " failed";

    const Deadline d = Deadline::in_ms(kStartMs);
    bool ready = false;
    std::vector<DWORD> order;  // child pids in spawn order, to match `codes`
    while (!(ready && children.size() == codes.size())) {
      auto line = out.line(d);
      ASSERT_TRUE(line) << (out.eof() ? "the actor's output ended" : "deadline passed") << " after "
                        << children.size() << " spawned records, ready=" << ready;
      records.push_back(*line);
      auto j = nlohmann::json::parse(*line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || j.value("pid", 0u) != actor.pid) continue;
      const std::string ev = j.value("ev", "");
      if (ev == "spawned") {
        children[j.at("child_pid").get<DWORD>()] = j.at("child_tid").get<DWORD>();
        order.push_back(j.at("child_pid").get<DWORD>());
      }
      else if (ev == "ready") ready = true;
      else if (ev == "error" || ev == "usage-error") FAIL() << "actor reported: " << *line;
    }
    const Deadline exits = Deadline::in_ms(kExitMs);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const DWORD pid = order[i];
      Handle h(OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
      ASSERT_TRUE(h) << "OpenProcess(child " << pid << ") failed: error " << GetLastError();
      ASSERT_EQ(WaitForSingleObject(h.get(), exits.remaining()), WAIT_OBJECT_0) << "child " << pid << " did not exit";
      DWORD code = 1;
      EXPECT_TRUE(GetExitCodeProcess(h.get(), &code));
      EXPECT_EQ(code, codes[i]) << "child " << pid;
      child_handles.push_back(std::move(h));
      expected_code[pid] = codes[i];
    }
  }

  std::set<DWORD> child_pids() const {
    std::set<DWORD> s;
    for (const auto& [pid, tid] : children) s.insert(pid);
    return s;
  }
};

// Corpses that `holder` holds, with that holder's handles only.
std::vector<corpses::Corpse> held_by(const corpses::Scan& s, DWORD holder) {
  std::vector<corpses::Corpse> out;
  for (const corpses::Corpse& c : s.corpses) {
    corpses::Corpse mine = c;
    mine.holders.clear();
    for (const auto& h : c.holders)
      if (h.pid == holder) mine.holders.push_back(h);
    if (!mine.holders.empty()) out.push_back(std::move(mine));
  }
  return out;
}

void check_the_leak(const corpses::Scan& s, const LeakingActor& a) {
  ASSERT_TRUE(s.available) << s.unavailable_reason;
  // Nothing about the actor's own handles may be unknown, or "exactly N" would mean little.
  for (const auto& u : s.unknowns)
    EXPECT_NE(u.holder_pid, a.actor.pid) << "cannot tell about the actor's handles: " << u.what << " error " << u.error
                                         << ": " << u.detail;
  const auto mine = held_by(s, a.actor.pid);
  EXPECT_EQ(mine.size(), a.children.size());
  std::set<DWORD> found;
  for (const corpses::Corpse& c : mine) {
    found.insert(c.pid);
    SCOPED_TRACE(fmt::format("corpse {}", c.pid));
    ASSERT_EQ(c.holders.size(), 1u) << "the actor holds one handle per child";
    const corpses::Holder& h = c.holders.front();
    EXPECT_EQ(h.kind, corpses::HandleKind::thread);
    auto child = a.children.find(c.pid);
    ASSERT_NE(child, a.children.end()) << "not a child of the actor";
    EXPECT_EQ(h.thread_id, std::optional<std::uint32_t>(child->second)) << "the child's main thread";
    EXPECT_EQ(h.thread_exited, std::optional<bool>(true));
    EXPECT_EQ(c.exit_code, std::optional<std::uint32_t>(a.expected_code.at(c.pid))) << c.exit_code_error;
    EXPECT_NE(h.image.find("actor-console"), std::string::npos) << "holder image: " << h.image << h.image_error;
  }
  EXPECT_EQ(found, a.child_pids());
}

TEST(corpses, finds_the_leaked_children_and_names_the_leaker) {
  LeakingActor a;
  ASSERT_NO_FATAL_FAILURE(a.start_and_settle());

  const corpses::Scan all = corpses::scan();
  std::cout << corpses::to_text(all);
  ASSERT_NO_FATAL_FAILURE(check_the_leak(all, a));

  const corpses::Scan only = corpses::scan({.holder = a.actor.pid});
  ASSERT_NO_FATAL_FAILURE(check_the_leak(only, a));
  for (const auto& c : only.corpses)
    for (const auto& h : c.holders) EXPECT_EQ(h.pid, a.actor.pid) << "--holder lets only that holder through";

  {
    SCOPED_TRACE("SystemHandleInformation (16) only");
    const corpses::Scan basic = corpses::scan({.holder = a.actor.pid, .info_class = 16});
    if (under_wine()) {
      // Wine's server crashes on the system handle list while a process has no handle yet: the
      // scan refuses to ask it, saying why, rather than bring down the user's Wine session.
      EXPECT_FALSE(basic.available);
      EXPECT_NE(basic.unavailable_reason.find("crashes"), std::string::npos) << basic.unavailable_reason;
    } else {
      EXPECT_EQ(basic.source.info_class, 16u);
      ASSERT_NO_FATAL_FAILURE(check_the_leak(basic, a));
    }
  }
  {
    SCOPED_TRACE("types asked of each duplicated handle");
    const corpses::Scan slow = corpses::scan({.holder = a.actor.pid, .per_handle = true});
    EXPECT_EQ(slow.types.method, "per-handle");
    ASSERT_NO_FATAL_FAILURE(check_the_leak(slow, a));
  }

  // The leaker ends: its handle table is closed, so it holds nothing any more. (The children's
  // ids stay reserved by this test's own handles, which the scan leaves out.)
  ASSERT_TRUE(TerminateProcess(a.actor.process.get(), 1)) << "error " << GetLastError();
  ASSERT_EQ(WaitForSingleObject(a.actor.process.get(), kExitMs), WAIT_OBJECT_0);
  const corpses::Scan after = corpses::scan();
  std::cout << "after TerminateProcess(actor):\n" << corpses::to_text(after);
  ASSERT_TRUE(after.available) << after.unavailable_reason;
  EXPECT_TRUE(held_by(after, a.actor.pid).empty()) << "a terminated process still holds handles";
  for (const corpses::Corpse& c : after.corpses)
    EXPECT_EQ(a.children.count(c.pid), 0u) << "child " << c.pid << " still reported held (by someone other than us)";
  const corpses::Scan after_only = corpses::scan({.holder = a.actor.pid});
  ASSERT_TRUE(after_only.available);
  EXPECT_TRUE(after_only.corpses.empty());
}

TEST(corpses, the_program_lists_them_as_json) {
  LeakingActor a;
  ASSERT_NO_FATAL_FAILURE(a.start_and_settle());

  OutputPipe out, err;
  ASSERT_TRUE(out.ok() && err.ok());
  Handle job = kill_on_close_job();
  ASSERT_TRUE(job);
  Started tool = start(bin_dir() + L"termsuite-corpses.exe", {"--json", "--holder", std::to_string(a.actor.pid)},
                       out.client(), err.client(), job.get());
  out.close_client();
  err.close_client();
  ASSERT_EQ(tool.error, 0u) << tool.what << " failed";
  bool timed_out = false;
  const Deadline d = Deadline::in_ms(kToolMs);
  const std::string text = out.all(d, timed_out);
  if (timed_out) {
    // End the tool rather than wait on it, and show what it had written.
    TerminateProcess(tool.process.get(), 0xDEAD);
    bool unused = false;
    const std::string diagnostics = err.all(Deadline::in_ms(5'000), unused);
    FAIL() << "termsuite-corpses.exe did not finish within " << kToolMs << " ms; its output so far:\n"
           << text << "\nits errors:\n" << diagnostics;
  }
  const std::string diagnostics = err.all(d, timed_out);
  ASSERT_EQ(WaitForSingleObject(tool.process.get(), d.remaining()), WAIT_OBJECT_0);
  DWORD code = 1;
  GetExitCodeProcess(tool.process.get(), &code);
  std::cout << text;
  ASSERT_EQ(code, 0u) << diagnostics;

  auto j = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << text;
  EXPECT_EQ(j.at("available"), true);
  EXPECT_EQ(j.at("holder_filter"), a.actor.pid);
  std::set<DWORD> found;
  for (const auto& c : j.at("corpses")) {
    found.insert(c.at("pid").get<DWORD>());
    ASSERT_EQ(c.at("holders").size(), 1u);
    const auto& h = c.at("holders").at(0);
    EXPECT_EQ(h.at("pid"), a.actor.pid);
    EXPECT_EQ(h.at("kind"), "thread");
    EXPECT_EQ(h.at("thread_id"), a.children.at(c.at("pid").get<DWORD>()));
    EXPECT_EQ(c.at("exit_code"), 0);
  }
  EXPECT_EQ(found, a.child_pids());
  for (const auto& u : j.at("cannot_tell")) ADD_FAILURE() << "cannot tell about the actor's handles: " << u.dump();
}

// The PROCESS path and a process that exits with 259 (STILL_ACTIVE's value): the actor leaks the
// thread handles of two children (exit codes 259 and 7), and this test puts a PROCESS handle to
// the first one into the actor (DuplicateHandle into it). The scan must name both handles of the
// first child, and report 259 as an exit code (the object is signaled), not as "still running".
TEST(corpses, process_handles_and_exit_code_259) {
  LeakingActor a;
  a.codes = {259, 7};
  ASSERT_NO_FATAL_FAILURE(a.start_and_settle());
  DWORD child259 = 0;
  for (const auto& [pid, code] : a.expected_code)
    if (code == 259) child259 = pid;
  ASSERT_NE(child259, 0u);
  std::size_t index = 0;
  for (std::size_t i = 0; i < a.child_handles.size(); ++i)
    if (GetProcessId(a.child_handles[i].get()) == child259) index = i;
  HANDLE remote = nullptr;
  ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), a.child_handles[index].get(), a.actor.process.get(), &remote, 0,
                              FALSE, DUPLICATE_SAME_ACCESS))
      << "error " << GetLastError();

  const corpses::Scan s = corpses::scan({.holder = a.actor.pid});
  std::cout << corpses::to_text(s);
  ASSERT_TRUE(s.available) << s.unavailable_reason;
  for (const auto& u : s.unknowns) ADD_FAILURE() << "cannot tell: " << u.what << " error " << u.error << ": " << u.detail;
  ASSERT_EQ(s.corpses.size(), 2u);
  for (const corpses::Corpse& c : s.corpses) {
    SCOPED_TRACE(fmt::format("corpse {}", c.pid));
    ASSERT_EQ(a.children.count(c.pid), 1u);
    EXPECT_EQ(c.exit_code, std::optional<std::uint32_t>(a.expected_code.at(c.pid))) << c.exit_code_error;
    bool has_thread = std::any_of(c.holders.begin(), c.holders.end(), [&](const corpses::Holder& h) {
      return h.kind == corpses::HandleKind::thread && h.thread_id == std::optional<std::uint32_t>(a.children.at(c.pid));
    });
    EXPECT_TRUE(has_thread) << "the leaked thread handle";
    if (c.pid == child259) {
      ASSERT_EQ(c.holders.size(), 2u);
      bool has_process = std::any_of(c.holders.begin(), c.holders.end(), [&](const corpses::Holder& h) {
        return h.kind == corpses::HandleKind::process && h.handle == reinterpret_cast<std::uintptr_t>(remote);
      });
      EXPECT_TRUE(has_process) << "the PROCESS handle put into the actor at " << remote;
    } else {
      EXPECT_EQ(c.holders.size(), 1u);
    }
  }
}

}  // namespace
