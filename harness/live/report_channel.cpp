#include "report_channel.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <fmt/xchar.h>

namespace termsuite::live {

namespace {
std::wstring unique_pipe_name(int id) {
  static std::atomic<unsigned> counter{0};
  return fmt::format(L"\\\\.\\pipe\\termsuite-report-{}-{}-{}", GetCurrentProcessId(), id, counter++);
}
}  // namespace

ReportChannel::ReportChannel(int id) : id_(id) {
  auto name = unique_pipe_name(id);
  server_ = CreateNamedPipeW(name.c_str(), PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                             PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 0, 64 * 1024, 0, nullptr);
  if (server_ == INVALID_HANDLE_VALUE)
    throw std::runtime_error(fmt::format("CreateNamedPipe failed: error {}", GetLastError()));
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  client_ = CreateFileW(name.c_str(), GENERIC_WRITE, 0, &sa, OPEN_EXISTING, 0, nullptr);
  if (client_ == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    CloseHandle(server_);
    throw std::runtime_error(fmt::format("opening the report pipe's write end failed: error {}", err));
  }
  read_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  stop_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  reader_ = std::thread([this] { read_loop(); });
}

ReportChannel::~ReportChannel() {
  stop();
  close_client();
  CloseHandle(server_);
  CloseHandle(read_event_);
  CloseHandle(stop_event_);
}

void ReportChannel::close_client() {
  if (client_ != INVALID_HANDLE_VALUE) {
    CloseHandle(client_);
    client_ = INVALID_HANDLE_VALUE;
  }
}

void ReportChannel::stop() {
  SetEvent(stop_event_);
  if (reader_.joinable()) reader_.join();
}

void ReportChannel::deliver(std::vector<Event> events, bool closed) {
  {
    std::lock_guard lock(mutex_);
    for (auto& e : events) events_.push_back(std::move(e));
    if (closed) closed_ = true;
  }
  changed_.notify_all();
}

void ReportChannel::read_loop() {
  RecordSplitter splitter;
  std::string& buffer = buffer_;
  OVERLAPPED& ov = ov_;
  for (;;) {
    ov = OVERLAPPED{};
    ov.hEvent = read_event_;
    ResetEvent(read_event_);
    DWORD n = 0;
    BOOL ok = ReadFile(server_, buffer.data(), static_cast<DWORD>(buffer.size()), nullptr, &ov);
    DWORD err = ok ? ERROR_SUCCESS : GetLastError();
    if (!ok && err == ERROR_IO_PENDING) {
      HANDLE waits[2] = {read_event_, stop_event_};
      // Bounded by the stop event, which teardown always sets.
      DWORD w = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
      if (w != WAIT_OBJECT_0) {
        CancelIoEx(server_, &ov);
        // Bounded: a cancellation that never completes must not hang the test's teardown.
        if (WaitForSingleObject(read_event_, 5'000) == WAIT_OBJECT_0 && GetOverlappedResult(server_, &ov, &n, FALSE) && n)
          deliver(splitter.feed(std::string_view(buffer.data(), n)), false);
        break;
      }
      ok = GetOverlappedResult(server_, &ov, &n, FALSE);
      err = ok ? ERROR_SUCCESS : GetLastError();
    } else if (ok || err == ERROR_MORE_DATA) {
      GetOverlappedResult(server_, &ov, &n, FALSE);
    }
    if (ok || err == ERROR_MORE_DATA) {
      // A message is one record ending in '\n'; ERROR_MORE_DATA means the rest follows.
      deliver(splitter.feed(std::string_view(buffer.data(), n)), false);
      continue;
    }
    break;  // ERROR_BROKEN_PIPE: every writer is gone (or another error: the channel is over)
  }
  std::vector<Event> last;
  if (auto t = splitter.finish()) last.push_back(std::move(*t));
  deliver(std::move(last), true);
}

std::optional<Event> ReportChannel::await(std::string_view ev, Deadline d, std::uint32_t pid) {
  std::unique_lock lock(mutex_);
  std::optional<Event> found;
  changed_.wait_until(lock, d.at(), [&] {
    for (const auto& e : events_)
      if (e.is(ev) && (pid == 0 || e.pid == pid)) {
        found = e;
        return true;
      }
    return closed_;
  });
  return found;
}

std::vector<Event> ReportChannel::await_n(std::string_view ev, std::size_t count, Deadline d) {
  std::unique_lock lock(mutex_);
  std::vector<Event> found;
  changed_.wait_until(lock, d.at(), [&] {
    found.clear();
    for (const auto& e : events_)
      if (e.is(ev)) found.push_back(e);
    return found.size() >= count || closed_;
  });
  if (found.size() > count) found.resize(count);
  return found;
}

std::vector<Event> ReportChannel::snapshot() {
  std::lock_guard lock(mutex_);
  return events_;
}

bool ReportChannel::wait_closed(Deadline d) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, d.at(), [&] { return closed_; });
}

}  // namespace termsuite::live
