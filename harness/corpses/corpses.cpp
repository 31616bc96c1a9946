// The corpse finder's scan. See corpses.hpp and docs/corpses.md.
#include "corpses.hpp"

#include <windows.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include <fmt/format.h>

namespace termsuite::corpses {

namespace {

// ---------------------------------------------------------------------------------------------
// ntdll, declared here (the SDK headers do not all carry these, and the layouts must be exact).

constexpr ULONG kSystemProcessInformation = 5;
constexpr ULONG kSystemHandleInformation = 16;
constexpr ULONG kSystemExtendedHandleInformation = 64;
constexpr ULONG kObjectTypeInformation = 2;
constexpr LONG kStatusInfoLengthMismatch = static_cast<LONG>(0xC0000004);
constexpr LONG kStatusBufferTooSmall = static_cast<LONG>(0xC0000023);
constexpr LONG kStatusBufferOverflow = static_cast<LONG>(0x80000005);

// SystemHandleInformation (16): 16-bit process ids and handle values.
struct HandleEntry {
  USHORT UniqueProcessId;
  USHORT CreatorBackTraceIndex;
  UCHAR ObjectTypeIndex;
  UCHAR HandleAttributes;
  USHORT HandleValue;
  PVOID Object;
  ULONG GrantedAccess;
};
struct HandleInfo {
  ULONG NumberOfHandles;
  HandleEntry Handles[1];
};

// SystemExtendedHandleInformation (64).
struct HandleEntryEx {
  PVOID Object;
  ULONG_PTR UniqueProcessId;
  ULONG_PTR HandleValue;
  ULONG GrantedAccess;
  USHORT CreatorBackTraceIndex;
  USHORT ObjectTypeIndex;
  ULONG HandleAttributes;
  ULONG Reserved;
};
struct HandleInfoEx {
  ULONG_PTR NumberOfHandles;
  ULONG_PTR Reserved;
  HandleEntryEx Handles[1];
};

struct CountedString {
  USHORT Length;
  USHORT MaximumLength;
  PWSTR Buffer;
};

// PUBLIC_OBJECT_TYPE_INFORMATION as NtQueryObject(ObjectTypeInformation) fills it.
struct ObjectTypeInfo {
  CountedString TypeName;
  ULONG Totals[12];  // TotalNumberOfObjects ... HighWaterHandleTableUsage
  ULONG InvalidAttributes;
  GENERIC_MAPPING GenericMapping;
  ULONG ValidAccessMask;
  BOOLEAN SecurityRequired;
  BOOLEAN MaintainHandleCount;
  UCHAR TypeIndex;
  CHAR ReservedByte;
  ULONG PoolType;
  ULONG DefaultPagedPoolCharge;
  ULONG DefaultNonPagedPoolCharge;
};

using NtQuerySystemInformationFn = LONG(NTAPI*)(ULONG, PVOID, ULONG, PULONG);
using NtQueryObjectFn = LONG(NTAPI*)(HANDLE, ULONG, PVOID, ULONG, PULONG);

template <class Fn>
Fn ntdll_function(const char* name) {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (!ntdll) return nullptr;
  return reinterpret_cast<Fn>(reinterpret_cast<void (*)()>(GetProcAddress(ntdll, name)));
}

// ---------------------------------------------------------------------------------------------
// Small helpers.


std::string utf8(const wchar_t* s, int n) {
  if (n <= 0) return {};
  int len = WideCharToMultiByte(CP_UTF8, 0, s, n, nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(len), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s, n, out.data(), len, nullptr, nullptr);
  return out;
}

std::string status_hex(LONG status) { return fmt::format("0x{:08X}", static_cast<std::uint32_t>(status)); }

// ERROR_INVALID_HANDLE from DuplicateHandle: the holder closed it after the list was taken.
const char* closed_hint(DWORD error) {
  return error == ERROR_INVALID_HANDLE ? " (ERROR_INVALID_HANDLE: the holder closed it after the list was taken)" : "";
}

std::uint64_t filetime_value(const FILETIME& t) {
  return (static_cast<std::uint64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime;
}

// The image path of a process handle: (path, "") or ("", why not).
std::pair<std::string, std::string> image_of(HANDLE process) {
  std::wstring buffer(32768, L'\0');
  DWORD size = static_cast<DWORD>(buffer.size());
  if (QueryFullProcessImageNameW(process, 0, buffer.data(), &size)) return {utf8(buffer.data(), static_cast<int>(size)), ""};
  return {"", fmt::format("QueryFullProcessImageNameW failed: error {}", GetLastError())};
}

// One entry of the handle list, whichever class produced it.
struct Entry {
  std::uint64_t pid = 0;
  std::uint64_t handle = 0;
  std::uint32_t access = 0;
  std::uint32_t type = 0;
};

struct List {
  bool ok = false;
  LONG status = 0;
  std::vector<Entry> entries;
  std::size_t with_object = 0;  // entries whose Object (kernel address) is filled in
};

// Calls NtQuerySystemInformation(cls) with a growing buffer until it fits.
List query_list(NtQuerySystemInformationFn query, ULONG cls) {
  List list;
  std::vector<ULONG_PTR> buffer(64 * 1024 / sizeof(ULONG_PTR));
  for (int attempt = 0; attempt < 24; ++attempt) {
    ULONG returned = 0;
    const ULONG bytes = static_cast<ULONG>(buffer.size() * sizeof(ULONG_PTR));
    list.status = query(cls, buffer.data(), bytes, &returned);
    if (list.status == kStatusInfoLengthMismatch || list.status == kStatusBufferTooSmall ||
        list.status == kStatusBufferOverflow) {
      std::size_t want = std::max<std::size_t>(std::size_t{bytes} * 2, std::size_t{returned} + 64 * 1024);
      if (want > (std::size_t{1} << 30)) return list;  // over 1 GiB: give up, status says why
      buffer.assign(want / sizeof(ULONG_PTR) + 1, 0);
      continue;
    }
    if (list.status < 0) return list;
    if (cls == kSystemExtendedHandleInformation) {
      const auto* info = reinterpret_cast<const HandleInfoEx*>(buffer.data());
      const std::size_t room = (bytes - offsetof(HandleInfoEx, Handles)) / sizeof(HandleEntryEx);
      const std::size_t n = std::min<std::size_t>(info->NumberOfHandles, room);
      list.entries.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        const HandleEntryEx& e = info->Handles[i];
        list.entries.push_back({e.UniqueProcessId, e.HandleValue, e.GrantedAccess, e.ObjectTypeIndex});
        if (e.Object) ++list.with_object;
      }
    } else {
      const auto* info = reinterpret_cast<const HandleInfo*>(buffer.data());
      const std::size_t room = (bytes - offsetof(HandleInfo, Handles)) / sizeof(HandleEntry);
      const std::size_t n = std::min<std::size_t>(info->NumberOfHandles, room);
      list.entries.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        const HandleEntry& e = info->Handles[i];
        list.entries.push_back({e.UniqueProcessId, e.HandleValue, e.GrantedAccess, e.ObjectTypeIndex});
        if (e.Object) ++list.with_object;
      }
    }
    list.ok = true;
    return list;
  }
  return list;
}

// NtQueryObject(ObjectTypeInformation): (type name, type index) or nullopt (+ status).
struct TypeAnswer {
  LONG status = 0;
  std::string name;
  std::uint32_t index = 0;
};
TypeAnswer object_type(NtQueryObjectFn query, HANDLE h) {
  TypeAnswer a;
  if (!query) {
    a.status = static_cast<LONG>(0xC0000002);  // STATUS_NOT_IMPLEMENTED: ntdll has no NtQueryObject
    return a;
  }
  std::vector<ULONG_PTR> buffer(1024);
  ULONG returned = 0;
  a.status = query(h, kObjectTypeInformation, buffer.data(), static_cast<ULONG>(buffer.size() * sizeof(ULONG_PTR)),
                   &returned);
  if (a.status >= 0) {
    const auto* info = reinterpret_cast<const ObjectTypeInfo*>(buffer.data());
    if (info->TypeName.Buffer) a.name = utf8(info->TypeName.Buffer, info->TypeName.Length / 2);
    a.index = info->TypeIndex;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// The scan.

// Under Wine (its ntdll exports wine_get_version).
bool under_wine() { return ntdll_function<void (*)()>("wine_get_version") != nullptr; }

// Calls that reach into another process or one of its handles run on a worker thread, and the
// scan waits for each at most `budget_ms`: a holder that is stuck, a handle whose cleanup a driver
// holds up, must not hang the scan of a user's busy machine. A call that does not return in time
// is left to its worker, which owns the call and everything the call writes (callers hand it
// shared state by value); the scan says what it could not learn, and the next call gets a new
// worker. The handoff is WaitOnAddress, so a call costs no more than the call itself.
class Watchdog {
 public:
  explicit Watchdog(DWORD budget_ms) : budget_ms_(budget_ms) {}
  ~Watchdog() { retire(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  DWORD budget_ms() const { return budget_ms_; }

  // Runs `call` on the worker; false if it had not returned after the budget (it is then
  // abandoned). Without a worker thread (CreateThread failed) the call runs here, unbounded.
  bool run(std::function<void()> call) {
    if (!worker_ && !start()) {
      call();
      return true;
    }
    Worker& w = *worker_;
    w.call = std::move(call);
    const LONG n = InterlockedIncrement(&w.posted);
    WakeByAddressSingle(const_cast<LONG*>(&w.posted));
    const ULONGLONG deadline = GetTickCount64() + budget_ms_;
    for (;;) {
      LONG done = InterlockedCompareExchange(&w.done, 0, 0);
      if (done == n) return true;
      const ULONGLONG now = GetTickCount64();
      if (now >= deadline) {
        retire();
        return false;
      }
      WaitOnAddress(&w.done, &done, sizeof done, static_cast<DWORD>(deadline - now));
    }
  }

 private:
  struct Worker {
    std::function<void()> call;
    volatile LONG posted = 0;  // calls handed over
    volatile LONG done = 0;    // calls returned
    volatile LONG quit = 0;
  };

  static DWORD WINAPI loop(void* param) {
    const std::shared_ptr<Worker> w = *static_cast<std::shared_ptr<Worker>*>(param);
    delete static_cast<std::shared_ptr<Worker>*>(param);
    LONG seen = 0;
    for (;;) {
      LONG posted;
      while ((posted = InterlockedCompareExchange(&w->posted, 0, 0)) == seen)
        WaitOnAddress(&w->posted, &seen, sizeof seen, INFINITE);
      if (InterlockedCompareExchange(&w->quit, 0, 0)) return 0;
      seen = posted;
      w->call();
      InterlockedExchange(&w->done, seen);
      WakeByAddressAll(const_cast<LONG*>(&w->done));
    }
  }

  bool start() {
    worker_ = std::make_shared<Worker>();
    auto* param = new std::shared_ptr<Worker>(worker_);
    HANDLE thread = CreateThread(nullptr, 0, loop, param, 0, nullptr);
    if (!thread) {
      delete param;
      worker_.reset();
      return false;
    }
    CloseHandle(thread);
    return true;
  }

  // Tells the worker to end once it is idle (at once, or when its call returns) and lets it go.
  void retire() {
    if (!worker_) return;
    InterlockedExchange(&worker_->quit, 1);
    InterlockedIncrement(&worker_->posted);
    WakeByAddressSingle(const_cast<LONG*>(&worker_->posted));
    worker_.reset();
  }

  DWORD budget_ms_;
  std::shared_ptr<Worker> worker_;
};

enum class Life { alive, exited, undetermined };

struct ProcState {
  Owned handle;  // kept open for the scan: it keeps the object, so the id keeps naming it
  Life life = Life::undetermined;
  std::string undetermined_why;
  std::optional<std::uint32_t> exit_code;
  std::string exit_code_error;
  std::string image, image_error;
  std::optional<std::uint64_t> creation;
  DWORD open_error = 0;  // OpenProcess by id failed with this
};

// Whether the process behind `h` has exited. Signaled object = exited, whatever the exit code
// (a process may exit with 259 = STILL_ACTIVE). Without SYNCHRONIZE, an exit code other than 259
// still proves the exit; 259 then proves nothing.
void assess(ProcState& st, HANDLE h) {
  const DWORD w = WaitForSingleObject(h, 0);
  const DWORD wait_error = w == WAIT_FAILED ? GetLastError() : 0;
  DWORD code = 0;
  const BOOL got = GetExitCodeProcess(h, &code);
  const DWORD code_error = got ? 0 : GetLastError();
  if (w == WAIT_OBJECT_0) {
    st.life = Life::exited;
  } else if (w == WAIT_TIMEOUT) {
    st.life = Life::alive;
  } else if (got && code != STILL_ACTIVE) {
    st.life = Life::exited;  // a running process reports STILL_ACTIVE
  } else {
    st.life = Life::undetermined;
    st.undetermined_why =
        got ? fmt::format("cannot wait on it (WaitForSingleObject error {}) and its exit code reads 259: running, "
                          "or exited with 259",
                          wait_error)
            : fmt::format("cannot wait on it (WaitForSingleObject error {}) nor read its exit code "
                          "(GetExitCodeProcess error {})",
                          wait_error, code_error);
  }
  if (st.life == Life::exited) {
    if (got) st.exit_code = code;
    else st.exit_code_error = fmt::format("GetExitCodeProcess failed: error {}", code_error);
  }
  std::tie(st.image, st.image_error) = image_of(h);
  FILETIME created{}, exited{}, kernel{}, user{};
  if (GetProcessTimes(h, &created, &exited, &kernel, &user)) st.creation = filetime_value(created);
}

struct HolderState {
  Owned handle;
  DWORD open_error = 0;
  std::string image, image_error;
  bool stuck = false;  // a call into it did not answer: the rest of its handles are left alone
};

// What one handle turned out to be once duplicated into the scanner (filled on the worker).
struct Dup {
  HANDLE handle = nullptr;  // the duplicate, for a process or thread handle (closed by the scan)
  DWORD error = 0;          // DuplicateHandle failed with this
  TypeAnswer type;          // asked when the caller wanted it
  std::uint32_t access = 0; // the duplicate's granted access (probe: the holder's, DUPLICATE_SAME_ACCESS)
  DWORD process_error = 0, thread_error = 0;  // GetProcessId / GetThreadId on it, when its type is unknown
  std::optional<HandleKind> kind;
};

// What a process or thread handle names (filled on the worker).
struct Facts {
  DWORD pid = 0, pid_error = 0;  // GetProcessId, or GetProcessIdOfThread
  DWORD tid = 0, tid_error = 0;  // GetThreadId (threads)
  DWORD wait = WAIT_FAILED, wait_error = 0;
  bool times = false;
  DWORD times_error = 0;
  std::uint64_t exited_at = 0;  // the thread's exit time
};

// A process list entry (SYSTEM_PROCESS_INFORMATION, the fields the probe reads).
struct ProcessListEntry {
  ULONG NextEntryOffset;
  ULONG NumberOfThreads;
  LARGE_INTEGER Reserved[6];
  CountedString ImageName;
  LONG BasePriority;
  HANDLE UniqueProcessId;
  HANDLE InheritedFromUniqueProcessId;
  ULONG HandleCount;
};

class Scanner {
 public:
  explicit Scanner(const Options& options) : options_(options), watch_(options.query_budget_ms) {}

  Scan run();

 private:
  // Finds or adds the Unknown for (holder, kind, what, error) and counts one more handle.
  void unknown(std::uint32_t holder, const std::string& kind, std::optional<std::uint64_t> handle,
               const std::string& what, std::uint32_t error, const std::string& detail, std::uint64_t count = 1);
  // The same for a call that did not answer in time.
  void no_answer(std::uint32_t holder, const std::string& kind, std::optional<std::uint64_t> handle,
                 const std::string& what);
  HolderState& holder(std::uint32_t pid);
  // State of the process with this id; `hint` is a handle to it when the caller has one.
  ProcState& process(std::uint32_t pid, HANDLE hint);
  void add_holder(const ProcState& st, std::uint32_t corpse_pid, Holder h);
  // Duplicates `handle` out of its holder: `want` access (then the same access), or the same
  // access and its type asked (typed). Bounded; nullopt if the call did not answer.
  std::optional<Dup> duplicate(std::uint32_t holder_pid, HolderState& hs, std::uint64_t handle, DWORD want, bool typed);
  void examine(std::uint32_t holder_pid, const Entry& e, HandleKind kind, HANDLE dup);
  bool choose_list(NtQuerySystemInformationFn query);
  void learn_types(NtQueryObjectFn query_object);
  void scan_list();
  bool probe_tables(NtQuerySystemInformationFn query);

  Options options_;
  Watchdog watch_;
  NtQueryObjectFn query_object_ = nullptr;
  Scan s_;
  std::vector<Entry> entries_;
  HANDLE self_process_ = nullptr;  // our own handles, found in the list to learn type indexes
  HANDLE self_thread_ = nullptr;
  std::map<std::uint32_t, HolderState> holders_;
  std::map<std::uint32_t, ProcState> processes_;
  std::map<std::uint32_t, Corpse> corpses_;
  std::map<std::uint32_t, std::map<std::string, std::uint64_t>> seen_types_;  // per-handle: index -> names
  std::map<std::uint32_t, bool> holders_seen_;
};

void Scanner::unknown(std::uint32_t holder_pid, const std::string& kind, std::optional<std::uint64_t> handle,
                      const std::string& what, std::uint32_t error, const std::string& detail, std::uint64_t count) {
  auto it = std::find_if(s_.unknowns.begin(), s_.unknowns.end(), [&](const Unknown& u) {
    return u.holder_pid == holder_pid && u.kind == kind && u.what == what && u.error == error && u.detail == detail;
  });
  if (it == s_.unknowns.end()) {
    Unknown u;
    u.holder_pid = holder_pid;
    const HolderState& hs = holder(holder_pid);
    u.holder_image = hs.image;
    u.kind = kind;
    u.what = what;
    u.error = error;
    u.detail = detail;
    s_.unknowns.push_back(std::move(u));
    it = s_.unknowns.end() - 1;
  }
  if (handle) it->handles.push_back(*handle);
  it->count += count;
}

void Scanner::no_answer(std::uint32_t holder_pid, const std::string& kind, std::optional<std::uint64_t> handle,
                        const std::string& what) {
  unknown(holder_pid, kind, handle, what, WAIT_TIMEOUT,
          fmt::format("the call did not return within {} ms: the handle was not examined, nor anything more of "
                      "this holder",
                      watch_.budget_ms()));
}

HolderState& Scanner::holder(std::uint32_t pid) {
  auto [it, inserted] = holders_.try_emplace(pid);
  HolderState& hs = it->second;
  if (!inserted) return hs;
  struct Opened {
    HANDLE handle = nullptr;
    DWORD error = 0;
    std::string image, image_error;
  };
  auto r = std::make_shared<Opened>();
  const bool answered = watch_.run([r, pid] {
    HANDLE h = OpenProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!h) h = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid);
    if (!h) {
      r->error = GetLastError();
      r->image_error = fmt::format("OpenProcess failed: error {}", r->error);
      if (HANDLE q = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid)) {
        std::tie(r->image, r->image_error) = image_of(q);
        CloseHandle(q);
      }
      return;
    }
    r->handle = h;
    std::tie(r->image, r->image_error) = image_of(h);
  });
  if (!answered) {
    hs.open_error = WAIT_TIMEOUT;
    hs.image_error = fmt::format("OpenProcess and QueryFullProcessImageName did not return within {} ms",
                                 watch_.budget_ms());
    hs.stuck = true;
    return hs;
  }
  hs.handle = Owned(r->handle);
  hs.open_error = r->error;
  hs.image = r->image;
  hs.image_error = r->image_error;
  return hs;
}

ProcState& Scanner::process(std::uint32_t pid, HANDLE hint) {
  auto it = processes_.find(pid);
  if (it != processes_.end() && it->second.life != Life::undetermined) return it->second;
  if (it == processes_.end()) it = processes_.try_emplace(pid).first;
  ProcState& st = it->second;
  // By id: a handle of ours (the duplicate being examined) holds the object, so the id still names
  // it. For a thread's process the caller checks creation times as well.
  auto r = std::make_shared<ProcState>();
  // A copy of the caller's handle, made here (a handle of this process: it does not wait on
  // anyone) and given to the call, which owns it.
  HANDLE copy = nullptr;
  if (hint) DuplicateHandle(GetCurrentProcess(), hint, GetCurrentProcess(), &copy, 0, FALSE, DUPLICATE_SAME_ACCESS);
  const bool answered = watch_.run([r, pid, copy] {
    if (copy) {
      r->handle = Owned(copy);
      assess(*r, copy);
      if (r->life != Life::undetermined) return;
    }
    if (HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid)) {
      r->handle = Owned(h);
      assess(*r, h);
    } else {
      r->open_error = GetLastError();
    }
  });
  if (!answered) {
    st.life = Life::undetermined;
    st.undetermined_why = fmt::format("asking it did not return within {} ms", watch_.budget_ms());
    st.open_error = WAIT_TIMEOUT;
    return st;
  }
  st = std::move(*r);
  return st;
}

void Scanner::add_holder(const ProcState& st, std::uint32_t corpse_pid, Holder h) {
  auto [it, inserted] = corpses_.try_emplace(corpse_pid);
  Corpse& c = it->second;
  if (inserted) {
    c.pid = corpse_pid;
    c.image = st.image;
    c.image_error = st.image_error;
    c.exit_code = st.exit_code;
    c.exit_code_error = st.exit_code_error;
  }
  c.holders.push_back(std::move(h));
}

std::optional<Dup> Scanner::duplicate(std::uint32_t holder_pid, HolderState& hs, std::uint64_t handle, DWORD want,
                                      bool typed) {
  auto r = std::make_shared<Dup>();
  const HANDLE from = hs.handle.get();
  const auto source = reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(handle));
  // Wine's server detaches the process that closes a handle to a console connection (a "Device")
  // from its own console, whoever holds the original (server/console.c,
  // console_connection_close_handle): under Wine such a duplicate is kept, never closed.
  const bool keep_devices = under_wine();
  const auto query_object = query_object_;
  const bool answered = watch_.run([r, from, source, want, typed, keep_devices, query_object] {
    HANDLE dup = nullptr;
    if (!typed) {
      if (!DuplicateHandle(from, source, GetCurrentProcess(), &dup, want, FALSE, 0) &&
          !DuplicateHandle(from, source, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
        r->error = GetLastError();
        return;
      }
      r->handle = dup;
      return;
    }
    if (!DuplicateHandle(from, source, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
      r->error = GetLastError();
      return;
    }
    r->type = object_type(query_object, dup);
    if (query_object) {
      ULONG basic[14] = {};  // OBJECT_BASIC_INFORMATION: Attributes, then GrantedAccess
      if (query_object(dup, 0 /* ObjectBasicInformation */, basic, sizeof basic, nullptr) >= 0) r->access = basic[1];
    }
    if (r->type.status >= 0) {
      if (r->type.name == "Process") r->kind = HandleKind::process;
      else if (r->type.name == "Thread") r->kind = HandleKind::thread;
    } else if (GetProcessId(dup)) {
      r->kind = HandleKind::process;
    } else {
      r->process_error = GetLastError();
      if (GetThreadId(dup)) r->kind = HandleKind::thread;
      else r->thread_error = GetLastError();
    }
    if (r->kind) {
      r->handle = dup;
      return;
    }
    // Not a process or thread: let it go here, where a close that a driver holds up is bounded.
    if (!(keep_devices && r->type.name == "Device")) CloseHandle(dup);
  });
  if (!answered) {
    hs.stuck = true;
    hs.handle.release();  // the abandoned call may still use it: never closed
    return std::nullopt;
  }
  (void)holder_pid;
  return *r;
}

void Scanner::examine(std::uint32_t holder_pid, const Entry& e, HandleKind kind, HANDLE dup_handle) {
  Owned dup(dup_handle);
  const HolderState& hs = holder(holder_pid);
  Holder h;
  h.pid = holder_pid;
  h.image = hs.image;
  h.image_error = hs.image_error;
  h.handle = e.handle;
  h.kind = kind;
  h.granted_access = e.access;

  auto f = std::make_shared<Facts>();
  const HANDLE target = dup.get();
  const bool answered = watch_.run([f, target, kind] {
    if (kind == HandleKind::process) {
      f->pid = GetProcessId(target);
      if (!f->pid) f->pid_error = GetLastError();
      return;
    }
    f->tid = GetThreadId(target);
    if (!f->tid) f->tid_error = GetLastError();
    f->pid = GetProcessIdOfThread(target);
    if (!f->pid) f->pid_error = GetLastError();
    f->wait = WaitForSingleObject(target, 0);
    if (f->wait == WAIT_FAILED) f->wait_error = GetLastError();
    FILETIME created{}, exited{}, kernel{}, user{};
    f->times = GetThreadTimes(target, &created, &exited, &kernel, &user) != FALSE;
    if (f->times) f->exited_at = filetime_value(exited);
    else f->times_error = GetLastError();
  });
  const char* kind_text = kind == HandleKind::process ? "process" : "thread";
  if (!answered) {
    dup.release();  // the abandoned call may still use it
    holders_.at(holder_pid).stuck = true;
    no_answer(holder_pid, kind_text, e.handle, "GetProcessId/GetThreadId/WaitForSingleObject");
    return;
  }

  if (kind == HandleKind::process) {
    ++s_.process_handles;
    if (!f->pid) {
      unknown(holder_pid, "process", e.handle, "GetProcessId", f->pid_error, "which process the handle names is not known");
      return;
    }
    ProcState& st = process(f->pid, dup.get());
    if (st.life == Life::undetermined) {
      unknown(holder_pid, "process", e.handle, "exit state", st.open_error,
              fmt::format("whether process {} has exited is not known: {}", f->pid,
                          st.undetermined_why.empty() ? "OpenProcess by id failed" : st.undetermined_why));
      return;
    }
    if (st.life == Life::alive) {
      ++s_.live_targets;
      return;
    }
    add_holder(st, f->pid, std::move(h));
    return;
  }

  ++s_.thread_handles;
  const DWORD tid = f->tid;
  const DWORD pid = f->pid;
  if (!pid) {
    unknown(holder_pid, "thread", e.handle, "GetProcessIdOfThread", f->pid_error,
            "which process the thread belongs to is not known");
    return;
  }
  if (tid) h.thread_id = tid;
  else unknown(holder_pid, "thread", e.handle, "GetThreadId", f->tid_error, "the thread's id is not known");
  const DWORD tw_error = f->wait == WAIT_FAILED ? f->wait_error : f->wait;
  if (f->wait == WAIT_OBJECT_0) h.thread_exited = true;
  else if (f->wait == WAIT_TIMEOUT) h.thread_exited = false;

  ProcState& st = process(pid, nullptr);
  if (st.life == Life::undetermined) {
    unknown(holder_pid, "thread", e.handle, st.open_error ? "OpenProcess(thread's process)" : "exit state", st.open_error,
            fmt::format("whether process {} (of thread {}) has exited is not known{}{}", pid, tid,
                        st.undetermined_why.empty() ? "" : ": ", st.undetermined_why));
    return;
  }
  // The thread's process was opened by id: make sure the id still names that process. It must (the
  // thread object references its process, so the id cannot be reused); this catches a platform
  // that frees the id early. A process that reuses the id is created after the old one's last
  // thread exited, so: a running thread's process is running, and an exited thread's process was
  // created before the thread exited. (Not "before the thread was created": Wine 8.0 stamps a
  // process's creation time some milliseconds after its first thread's.)
  if (!h.thread_exited) {
    unknown(holder_pid, "thread", e.handle, "WaitForSingleObject(thread)", tw_error,
            fmt::format("whether thread {} has exited is not known, so neither is whether id {} still names its "
                        "process",
                        tid, pid));
    return;
  }
  if (*h.thread_exited) {
    if (!f->times || !st.creation) {
      unknown(holder_pid, "thread", e.handle, "GetThreadTimes/GetProcessTimes", f->times ? 0 : f->times_error,
              fmt::format("cannot check that process {} opened by id is thread {}'s own process", pid, tid));
      return;
    }
    if (*st.creation > f->exited_at) {
      unknown(holder_pid, "thread", e.handle, "creation/exit times", 0,
              fmt::format("process {} was created after thread {} exited: the id names another process, the "
                          "thread's own process is gone",
                          pid, tid));
      return;
    }
  } else if (st.life == Life::exited) {
    unknown(holder_pid, "thread", e.handle, "thread/process state", 0,
            fmt::format("thread {} is running but process {} opened by id has exited: the id does not name the "
                        "thread's process",
                        tid, pid));
    return;
  }
  if (st.life == Life::alive) {
    ++s_.live_targets;
    return;
  }
  add_holder(st, pid, std::move(h));
}

bool Scanner::choose_list(NtQuerySystemInformationFn query) {
  struct Try {
    ULONG cls;
    const char* name;
  };
  const Try tries[] = {{kSystemExtendedHandleInformation, "SystemExtendedHandleInformation"},
                       {kSystemHandleInformation, "SystemHandleInformation"}};
  std::vector<std::string> failures;
  for (const Try& t : tries) {
    if (options_.info_class && options_.info_class != t.cls) continue;
    auto answer = std::make_shared<List>();
    const ULONG cls = t.cls;
    if (!watch_.run([answer, query, cls] { *answer = query_list(query, cls); })) {
      failures.push_back(fmt::format("NtQuerySystemInformation({}={}) did not return within {} ms", t.name, t.cls,
                                     watch_.budget_ms()));
      continue;
    }
    List& list = *answer;
    if (!list.ok) {
      failures.push_back(fmt::format("NtQuerySystemInformation({}={}) returned {}", t.name, t.cls, status_hex(list.status)));
      continue;
    }
    // A list is usable only if it shows this process's own handle to itself.
    const std::uint64_t self = GetCurrentProcessId();
    const auto own = reinterpret_cast<std::uintptr_t>(self_process_);
    const bool narrow = t.cls == kSystemHandleInformation;
    const bool found = std::any_of(list.entries.begin(), list.entries.end(), [&](const Entry& e) {
      return narrow ? (e.pid == (self & 0xFFFF) && e.handle == (own & 0xFFFF)) : (e.pid == self && e.handle == own);
    });
    if (!found) {
      failures.push_back(fmt::format("NtQuerySystemInformation({}={}) succeeded with {} entries but none is this "
                                     "process's own handle 0x{:X} (pid {}): the list is not usable",
                                     t.name, t.cls, list.entries.size(), own, self));
      continue;
    }
    s_.source.info_class = t.cls;
    s_.source.info_class_name = t.name;
    s_.source.handles = list.entries.size();
    s_.source.notes = failures;
    if (list.with_object == 0 && !list.entries.empty())
      s_.source.notes.push_back(fmt::format("Object (the kernel address) is null in all {} entries: handles to one "
                                            "object cannot be matched by it (this tool does not need it)",
                                            list.entries.size()));
    if (narrow)
      s_.source.notes.push_back("SystemHandleInformation carries 16-bit process ids and handle values: a larger "
                                "id or value is truncated");
    entries_ = std::move(list.entries);
    return true;
  }
  s_.unavailable_reason = failures.empty() ? fmt::format("no handle information class {} to ask", options_.info_class)
                                           : failures.front();
  for (std::size_t i = 1; i < failures.size(); ++i) s_.unavailable_reason += "; " + failures[i];
  return false;
}

void Scanner::learn_types(NtQueryObjectFn query_object) {
  const std::uint64_t self = GetCurrentProcessId();
  const bool narrow = s_.source.info_class == kSystemHandleInformation;
  auto find = [&](HANDLE h) -> std::optional<std::uint32_t> {
    auto v = reinterpret_cast<std::uintptr_t>(h);
    for (const Entry& e : entries_)
      if (narrow ? (e.pid == (self & 0xFFFF) && e.handle == (v & 0xFFFF)) : (e.pid == self && e.handle == v))
        return e.type;
    return std::nullopt;
  };
  const auto p = find(self_process_);
  const auto t = find(self_thread_);
  const TypeAnswer pq = object_type(query_object, self_process_);
  const TypeAnswer tq = object_type(query_object, self_thread_);
  if (pq.status >= 0 && tq.status >= 0)
    s_.types.notes.push_back(fmt::format("NtQueryObject(ObjectTypeInformation) on own handles: \"{}\" TypeIndex {}, "
                                         "\"{}\" TypeIndex {}",
                                         pq.name, pq.index, tq.name, tq.index));
  else
    s_.types.notes.push_back(fmt::format("NtQueryObject(ObjectTypeInformation) on own handles returned {} and {}",
                                         status_hex(pq.status), status_hex(tq.status)));
  if (options_.per_handle) {
    s_.types.method = "per-handle";
    s_.types.notes.push_back("asked for: each handle is duplicated and asked its type");
    return;
  }
  if (p && t && *p != *t) {
    s_.types.method = "ObjectTypeIndex";
    s_.types.process_index = *p;
    s_.types.thread_index = *t;
    if (pq.status >= 0 && tq.status >= 0 && (pq.index != *p || tq.index != *t))
      s_.types.notes.push_back(fmt::format("the list's ObjectTypeIndex ({}, {}) differs from NtQueryObject's "
                                           "TypeIndex ({}, {}); the list's own values are used",
                                           *p, *t, pq.index, tq.index));
    return;
  }
  s_.types.method = "per-handle";
  if (!t)
    s_.types.notes.push_back("own thread handle not in the list: ObjectTypeIndex cannot be learned");
  else
    s_.types.notes.push_back(fmt::format("ObjectTypeIndex is {} for both a process and a thread handle: it does not "
                                         "tell types apart; each handle is duplicated and asked its type",
                                         p.value_or(0)));
}

// The system handle list's entries, each duplicated out of its holder and examined.
void Scanner::scan_list() {
  const bool by_index = s_.types.method == "ObjectTypeIndex";
  for (const Entry& e : entries_) {
    const auto holder_pid = static_cast<std::uint32_t>(e.pid);
    if (holder_pid == s_.scanner_pid) continue;
    if (options_.holder && holder_pid != *options_.holder) continue;
    std::optional<HandleKind> kind;
    if (by_index) {
      if (e.type == *s_.types.process_index) kind = HandleKind::process;
      else if (e.type == *s_.types.thread_index) kind = HandleKind::thread;
      else continue;
    }
    const std::string kind_text = kind ? (*kind == HandleKind::process ? "process" : "thread") : "process-or-thread";
    HolderState& hs = holder(holder_pid);
    if (hs.stuck) {
      no_answer(holder_pid, kind_text, e.handle, "OpenProcess(PROCESS_DUP_HANDLE)");
      continue;
    }
    if (!hs.handle) {
      unknown(holder_pid, kind_text, kind ? std::optional<std::uint64_t>(e.handle) : std::nullopt,
              "OpenProcess(PROCESS_DUP_HANDLE)", hs.open_error,
              kind ? "these handles were not examined" : "this holder's handles were not examined");
      continue;
    }
    holders_seen_[holder_pid] = true;
    const DWORD want = !kind ? 0
                       : *kind == HandleKind::process ? (PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE)
                                                      : (THREAD_QUERY_LIMITED_INFORMATION | SYNCHRONIZE);
    auto dup = duplicate(holder_pid, hs, e.handle, want, !kind);
    if (!dup) {
      no_answer(holder_pid, kind_text, e.handle, "DuplicateHandle");
      continue;
    }
    if (!dup->handle && dup->error) {
      unknown(holder_pid, kind_text, e.handle, "DuplicateHandle", dup->error,
              std::string(kind ? "the handle could not be duplicated: its target is not known"
                               : "the handle could not be duplicated: whether it is a process or thread handle is "
                                 "not known") +
                  closed_hint(dup->error));
      continue;
    }
    if (!kind) {
      if (dup->type.status >= 0)
        ++seen_types_[e.type][fmt::format("{} (TypeIndex {})", dup->type.name, dup->type.index)];
      kind = dup->kind;
      if (!kind) {
        if (dup->type.status < 0 && (dup->process_error == ERROR_ACCESS_DENIED || dup->thread_error == ERROR_ACCESS_DENIED))
          unknown(holder_pid, "process-or-thread", e.handle, "NtQueryObject(ObjectTypeInformation)",
                  static_cast<std::uint32_t>(dup->type.status),
                  "type unknown and GetProcessId/GetThreadId were denied: it may be a process or thread handle");
        continue;
      }
    }
    examine(holder_pid, e, *kind, dup->handle);
  }
}

// Wine's server crashes on the system handle list whenever a process of the session has an empty
// handle table, as each process has from its creation until its first handle (and a client that
// has connected but not yet asked anything): server/handle.c, enum_handles, walks its table with
// an unsigned index up to `last`, which is -1 then, past the end of the table. So under Wine the
// list is never asked: each process's table is probed instead, every handle value up to the
// table's size, which Wine reports as SYSTEM_PROCESS_INFORMATION.HandleCount
// (server/process.c, list_processes: get_handle_table_count).
bool Scanner::probe_tables(NtQuerySystemInformationFn query) {
  struct Table {
    std::uint32_t pid = 0;
    std::uint32_t size = 0;
  };
  struct Answer {
    LONG status = 0;
    std::vector<Table> tables;
  };
  auto answer = std::make_shared<Answer>();
  const bool answered = watch_.run([answer, query] {
    std::vector<ULONG_PTR> buffer(256 * 1024 / sizeof(ULONG_PTR));
    for (int attempt = 0; attempt < 16; ++attempt) {
      ULONG returned = 0;
      const ULONG bytes = static_cast<ULONG>(buffer.size() * sizeof(ULONG_PTR));
      answer->status = query(kSystemProcessInformation, buffer.data(), bytes, &returned);
      if (answer->status == kStatusInfoLengthMismatch || answer->status == kStatusBufferTooSmall) {
        buffer.assign(std::max<std::size_t>(std::size_t{bytes} * 2, std::size_t{returned} + 64 * 1024) / sizeof(ULONG_PTR) + 1, 0);
        continue;
      }
      if (answer->status < 0) return;
      const auto* base = reinterpret_cast<const unsigned char*>(buffer.data());
      for (std::size_t offset = 0;;) {
        const auto* p = reinterpret_cast<const ProcessListEntry*>(base + offset);
        answer->tables.push_back(Table{static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(p->UniqueProcessId)),
                                       p->HandleCount});
        if (!p->NextEntryOffset) break;
        offset += p->NextEntryOffset;
        if (offset + sizeof(ProcessListEntry) > bytes) break;
      }
      return;
    }
  });
  if (!answered || answer->status < 0) {
    s_.unavailable_reason = answered ? fmt::format("NtQuerySystemInformation(SystemProcessInformation=5) returned {}",
                                                   status_hex(answer->status))
                                     : fmt::format("NtQuerySystemInformation(SystemProcessInformation=5) did not "
                                                   "return within {} ms",
                                                   watch_.budget_ms());
    return false;
  }
  s_.source.info_class = 0;
  s_.source.info_class_name = "per-process probe";
  s_.source.notes.push_back(
      "under Wine the system handle list is not asked: Wine's server crashes on it while any process has an empty "
      "handle table (server/handle.c, enum_handles); each process's table is probed instead, every handle value up "
      "to the table's size (SYSTEM_PROCESS_INFORMATION.HandleCount, which Wine fills with it)");
  s_.types.method = "per-handle";
  s_.types.notes.push_back("each handle found is duplicated and asked its type (NtQueryObject)");
  for (const Table& t : answer->tables) {
    if (t.pid == 0 || t.pid == s_.scanner_pid) continue;
    if (options_.holder && t.pid != *options_.holder) continue;
    HolderState& hs = holder(t.pid);
    if (hs.stuck) {
      no_answer(t.pid, "process-or-thread", std::nullopt, "OpenProcess(PROCESS_DUP_HANDLE)");
      continue;
    }
    if (!hs.handle) {
      unknown(t.pid, "process-or-thread", std::nullopt, "OpenProcess(PROCESS_DUP_HANDLE)", hs.open_error,
              "this holder's handles were not examined");
      continue;
    }
    holders_seen_[t.pid] = true;
    std::uint64_t found = 0;
    for (std::uint64_t value = 4; value <= std::uint64_t{t.size} * 4 && !hs.stuck; value += 4) {
      auto dup = duplicate(t.pid, hs, value, 0, true);
      if (!dup) {
        no_answer(t.pid, "process-or-thread", value, "DuplicateHandle");
        break;
      }
      if (!dup->handle && dup->error) {
        if (dup->error != ERROR_INVALID_HANDLE)  // no handle with that value: a free entry
          unknown(t.pid, "process-or-thread", value, "DuplicateHandle", dup->error,
                  "the handle could not be duplicated: whether it is a process or thread handle is not known");
        continue;
      }
      ++found;
      if (dup->type.status >= 0) ++seen_types_[0][dup->type.name.empty() ? "(no type name)" : dup->type.name];
      if (!dup->kind) continue;
      examine(t.pid, Entry{t.pid, value, dup->access, 0}, *dup->kind, dup->handle);
    }
    s_.source.handles += found;
    if (found == 0) ++s_.empty_tables;
  }
  return true;
}

Scan Scanner::run() {
  const auto started = std::chrono::steady_clock::now();
  s_.scanner_pid = GetCurrentProcessId();
  s_.holder_filter = options_.holder;

  auto query = ntdll_function<NtQuerySystemInformationFn>("NtQuerySystemInformation");
  query_object_ = ntdll_function<NtQueryObjectFn>("NtQueryObject");
  if (!query) {
    s_.unavailable_reason = "ntdll.dll exports no NtQuerySystemInformation";
    return std::move(s_);
  }
  if (under_wine()) {
    if (options_.info_class) {
      s_.unavailable_reason = fmt::format(
          "under Wine the system handle list (class {}) is not asked: Wine's server crashes on it while any process "
          "has an empty handle table (server/handle.c, enum_handles)",
          options_.info_class);
      return std::move(s_);
    }
    if (!probe_tables(query)) return std::move(s_);
    s_.available = true;
  } else {
    // Our own process and thread handles: real handle values to find in the list.
    DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &self_process_,
                    PROCESS_QUERY_LIMITED_INFORMATION, FALSE, 0);
    DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &self_thread_,
                    THREAD_QUERY_LIMITED_INFORMATION, FALSE, 0);
    Owned own_process(self_process_), own_thread(self_thread_);
    if (!choose_list(query)) return std::move(s_);
    learn_types(query_object_);
    s_.available = true;
    scan_list();
  }
  s_.holders_examined = holders_seen_.size();
  if (!seen_types_.empty()) {
    std::string map;
    for (const auto& [index, names] : seen_types_)
      for (const auto& [name, n] : names)
        map += s_.source.info_class ? fmt::format("{}{} = {} x{}", map.empty() ? "" : ", ", index, name, n)
                                    : fmt::format("{}{} x{}", map.empty() ? "" : ", ", name, n);
    s_.types.notes.push_back(s_.source.info_class
                                 ? "the list's ObjectTypeIndex, and what NtQueryObject named those handles: " + map
                                 : "what NtQueryObject named the handles found: " + map);
  }
  if (options_.holder && !holders_.contains(*options_.holder))
    s_.source.notes.push_back(fmt::format("the list holds no handle of process {}: no such process, or it holds none",
                                          *options_.holder));

  for (auto& [pid, c] : corpses_) {
    std::sort(c.holders.begin(), c.holders.end(),
              [](const Holder& a, const Holder& b) { return std::tie(a.pid, a.handle) < std::tie(b.pid, b.handle); });
    s_.corpses.push_back(std::move(c));
  }
  s_.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return std::move(s_);
}

std::string code_text(std::uint32_t code) {
  if (code == STILL_ACTIVE) return "259 (the value of STILL_ACTIVE, but the process object is signaled: it exited)";
  if (code < 0x10000) return std::to_string(code);
  return fmt::format("{} (0x{:08X})", code, code);
}

}  // namespace

const char* kind_name(HandleKind k) { return k == HandleKind::process ? "PROCESS" : "THREAD"; }

Scan scan(const Options& options) { return Scanner(options).run(); }

nlohmann::ordered_json to_json(const Scan& s) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["tool"] = "termsuite-corpses";
  j["available"] = s.available;
  if (!s.available) {
    j["reason"] = s.unavailable_reason;
    return j;
  }
  j["scanner_pid"] = s.scanner_pid;
  j["holder_filter"] = s.holder_filter ? ordered_json(*s.holder_filter) : ordered_json(nullptr);
  j["source"] = {{"info_class", s.source.info_class},
                 {"name", s.source.info_class_name},
                 {"handles", s.source.handles},
                 {"notes", s.source.notes}};
  ordered_json types = {{"method", s.types.method}};
  types["process_index"] = s.types.process_index ? ordered_json(*s.types.process_index) : ordered_json(nullptr);
  types["thread_index"] = s.types.thread_index ? ordered_json(*s.types.thread_index) : ordered_json(nullptr);
  types["notes"] = s.types.notes;
  j["types"] = types;
  j["examined"] = {{"holders", s.holders_examined},
                   {"tables_without_handles", s.empty_tables},
                   {"process_handles", s.process_handles},
                   {"thread_handles", s.thread_handles},
                   {"to_running_processes", s.live_targets}};
  ordered_json corpses = ordered_json::array();
  for (const Corpse& c : s.corpses) {
    ordered_json jc = {{"pid", c.pid}};
    jc["image"] = c.image.empty() ? ordered_json(nullptr) : ordered_json(c.image);
    if (!c.image_error.empty()) jc["image_error"] = c.image_error;
    jc["exit_code"] = c.exit_code ? ordered_json(*c.exit_code) : ordered_json(nullptr);
    if (!c.exit_code_error.empty()) jc["exit_code_error"] = c.exit_code_error;
    ordered_json holders = ordered_json::array();
    for (const Holder& h : c.holders) {
      ordered_json jh = {{"pid", h.pid}};
      jh["image"] = h.image.empty() ? ordered_json(nullptr) : ordered_json(h.image);
      if (!h.image_error.empty()) jh["image_error"] = h.image_error;
      jh["handle"] = h.handle;
      jh["handle_hex"] = fmt::format("0x{:X}", h.handle);
      jh["kind"] = h.kind == HandleKind::process ? "process" : "thread";
      if (h.kind == HandleKind::thread) {
        jh["thread_id"] = h.thread_id ? ordered_json(*h.thread_id) : ordered_json(nullptr);
        jh["thread_exited"] = h.thread_exited ? ordered_json(*h.thread_exited) : ordered_json(nullptr);
      }
      jh["granted_access"] = h.granted_access;
      holders.push_back(std::move(jh));
    }
    jc["holders"] = std::move(holders);
    corpses.push_back(std::move(jc));
  }
  j["corpses"] = std::move(corpses);
  ordered_json unknowns = ordered_json::array();
  for (const Unknown& u : s.unknowns) {
    ordered_json ju = {{"holder_pid", u.holder_pid}};
    ju["holder_image"] = u.holder_image.empty() ? ordered_json(nullptr) : ordered_json(u.holder_image);
    ju["kind"] = u.kind;
    ju["handles"] = u.handles;
    ju["count"] = u.count;
    ju["what"] = u.what;
    ju["error"] = u.error;
    ju["detail"] = u.detail;
    unknowns.push_back(std::move(ju));
  }
  j["cannot_tell"] = std::move(unknowns);
  j["elapsed_ms"] = s.elapsed_ms;
  return j;
}

std::string to_text(const Scan& s) {
  if (!s.available) return fmt::format("system handle information unavailable: {}\n", s.unavailable_reason);
  std::string out;
  auto line = [&out](const std::string& text) {
    out += text;
    out += '\n';
  };
  std::string types = s.types.method == "ObjectTypeIndex"
                          ? fmt::format("types by ObjectTypeIndex (Process {}, Thread {})", *s.types.process_index,
                                        *s.types.thread_index)
                          : std::string("types asked of each duplicated handle");
  if (s.source.info_class)
    line(fmt::format("handle list: {} ({}), {} handles; {}", s.source.info_class_name, s.source.info_class,
                     s.source.handles, types));
  else
    line(fmt::format("handle tables: probed per process, {} handles found; {}", s.source.handles, types));
  for (const auto& n : s.source.notes) line("  note: " + n);
  for (const auto& n : s.types.notes) line("  note: " + n);
  line(fmt::format("examined {} process and {} thread handles in {} process{}{}{} ({} to running processes); this "
                   "scanner (pid {}) is left out",
                   s.process_handles, s.thread_handles, s.holders_examined, s.holders_examined == 1 ? "" : "es",
                   s.holder_filter ? fmt::format(" (holder {} only)", *s.holder_filter) : std::string(),
                   s.empty_tables ? fmt::format(", {} of them with no handle at all", s.empty_tables) : std::string(),
                   s.live_targets, s.scanner_pid));
  line(fmt::format("{} corpse{}", s.corpses.size(), s.corpses.size() == 1 ? "" : "s"));
  for (const Corpse& c : s.corpses) {
    line(fmt::format("corpse pid {}  {}  exit code {}", c.pid, c.image.empty() ? "(image unknown: " + c.image_error + ")" : c.image,
                     c.exit_code ? code_text(*c.exit_code) : "unknown (" + c.exit_code_error + ")"));
    for (const Holder& h : c.holders) {
      std::string what = kind_name(h.kind);
      if (h.kind == HandleKind::thread)
        what += fmt::format(" (tid {}{})", h.thread_id ? std::to_string(*h.thread_id) : std::string("unknown"),
                            h.thread_exited ? (*h.thread_exited ? ", exited" : ", running") : "");
      line(fmt::format("  held by pid {}  {}  handle 0x{:X}  {}", h.pid,
                       h.image.empty() ? "(image unknown: " + h.image_error + ")" : h.image, h.handle, what));
    }
  }
  if (s.unknowns.empty()) {
    line("cannot tell: nothing (every process and thread handle was examined)");
  } else {
    line("cannot tell:");
    for (const Unknown& u : s.unknowns) {
      std::string handles;
      for (std::size_t i = 0; i < u.handles.size() && i < 8; ++i) handles += fmt::format("{}0x{:X}", i ? " " : "", u.handles[i]);
      if (u.handles.size() > 8) handles += " ...";
      line(fmt::format("  holder pid {}{}: {} {} handle{}{}: {} failed (error {}): {}", u.holder_pid,
                       u.holder_image.empty() ? "" : " " + u.holder_image, u.count, u.kind, u.count == 1 ? "" : "s",
                       handles.empty() ? "" : " [" + handles + "]", u.what, u.error, u.detail));
    }
  }
  line(fmt::format("scan took {:.1f} ms", s.elapsed_ms));
  return out;
}

}  // namespace termsuite::corpses
