#pragma once
// The harness's end of a report channel: a message-mode named pipe whose write end an actor
// inherits. A reader thread turns messages into events as they arrive, so records are kept even
// if the writer is terminated a moment later.
#include <windows.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "termsuite/deadline.hpp"
#include "termsuite/report.hpp"

namespace termsuite::live {

class ReportChannel {
 public:
  explicit ReportChannel(int id);
  ~ReportChannel();
  ReportChannel(const ReportChannel&) = delete;
  ReportChannel& operator=(const ReportChannel&) = delete;

  int id() const { return id_; }
  // The inheritable write end, for the actor's command line. Close it once the actor has it.
  HANDLE client() const { return client_; }
  void close_client();

  std::optional<Event> await(std::string_view ev, Deadline d, std::uint32_t pid);
  std::vector<Event> await_n(std::string_view ev, std::size_t count, Deadline d);
  std::vector<Event> snapshot();
  // Every writer has gone (end of file), or the reader was stopped.
  bool wait_closed(Deadline d);
  // Stops the reader (after the writers are dead this returns at once) and joins it.
  void stop();

 private:
  void read_loop();
  void deliver(std::vector<Event> events, bool closed);

  int id_;
  HANDLE server_ = INVALID_HANDLE_VALUE;
  HANDLE client_ = INVALID_HANDLE_VALUE;
  HANDLE read_event_ = nullptr;
  HANDLE stop_event_ = nullptr;
  std::thread reader_;
  // The reader's I/O state lives as long as the channel: a read whose cancellation does not
  // complete in time may still write here later, and must not write into a dead stack.
  OVERLAPPED ov_{};
  std::string buffer_ = std::string(64 * 1024, '\0');
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> events_;
  bool closed_ = false;
};

}  // namespace termsuite::live
