#pragma once
// Small Win32 pieces that the actors, the live backend and the corpse finder all need: an owned
// handle, UTF-8 to UTF-16, command lines as the C runtime reads them back, and starting a process
// that inherits exactly the handles it is given. Windows code only.
#include <windows.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace termsuite::win32 {

// An owned handle, closed when it goes (INVALID_HANDLE_VALUE counts as none).
class OwnedHandle {
 public:
  OwnedHandle() = default;
  explicit OwnedHandle(HANDLE h) : h_(h == INVALID_HANDLE_VALUE ? nullptr : h) {}
  OwnedHandle(OwnedHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  OwnedHandle& operator=(OwnedHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~OwnedHandle() { reset(); }
  HANDLE get() const { return h_; }
  HANDLE release() { return std::exchange(h_, nullptr); }  // no longer closed here
  explicit operator bool() const { return h_ != nullptr; }
  void reset() {
    if (h_) CloseHandle(h_);
    h_ = nullptr;
  }

 private:
  HANDLE h_ = nullptr;
};

std::wstring widen(std::string_view text);  // UTF-8 to UTF-16

// The folder of this process's executable (no trailing separator).
std::wstring module_dir();

// Appends one argument (after a space, unless `line` is empty) so that CommandLineToArgvW and
// the C runtime read it back exactly.
void append_quoted(std::wstring& line, const std::wstring& arg);

// What CreateProcessW gets.
struct Launch {
  std::wstring exe;           // the executable's path
  std::wstring command_line;  // the whole line, argv[0] included (append_quoted)
  DWORD flags = 0;            // creation flags (CREATE_SUSPENDED, CREATE_NEW_CONSOLE, ...)
  // The only handles the child inherits (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), each inheritable;
  // whatever else is inheritable in this process stays here. Empty: it inherits nothing.
  std::vector<HANDLE> inherit;
  // Its standard input, output and error (STARTF_USESTDHANDLES), when `use_std_handles`; they
  // must be in `inherit` (or null).
  bool use_std_handles = false;
  HANDLE std_in = nullptr, std_out = nullptr, std_err = nullptr;
};

// CreateProcessW as `launch` says. False (with GetLastError set) if it failed.
bool create_process(const Launch& launch, PROCESS_INFORMATION* pi);

// create_process suspended, AssignProcessToJobObject(job), then resume: the child and everything
// it starts are in the job from its first instruction. False if a step failed, with *what naming
// it ("CreateProcess", "AssignProcessToJobObject") and GetLastError set; a created process is
// then terminated and its handles closed.
bool create_process_in_job(Launch launch, HANDLE job, PROCESS_INFORMATION* pi, const char** what);

}  // namespace termsuite::win32
