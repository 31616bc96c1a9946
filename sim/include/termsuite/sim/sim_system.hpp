#pragma once
// The simulator's backend of the System interface: the same suite, run on the model.
#include <memory>

#include "termsuite/sim/model.hpp"
#include "termsuite/system.hpp"

namespace termsuite::sim {

class SimSystem final : public System {
 public:
  explicit SimSystem(Mutant mutant = Mutant::none);

  std::string_view backend() const override { return "sim"; }
  Actor start(const ActorSpec& spec) override;
  WaitResult wait(Handle h, Deadline d) override;
  WaitGroup wait_async(Handle h, int waiters, Deadline d) override;
  std::vector<WaitResult> join(WaitGroup g) override;
  bool terminate(Handle process, std::uint32_t exit_code) override;
  std::uint32_t terminate_status(Handle process, std::uint32_t exit_code) override;
  std::uint32_t terminate_thread(Handle thread, std::uint32_t exit_code) override;
  Opened open_process_without_terminate(std::uint32_t pid) override;
  std::optional<std::uint32_t> exit_code(Handle process) override;
  std::optional<std::uint32_t> thread_exit_code(Handle thread) override;
  void close(Handle h) override;
  Opened open_process(std::uint32_t pid) override;
  Opened open_thread(std::uint32_t tid) override;
  std::optional<std::uint32_t> parent_pid(std::uint32_t pid) override;
  Handle create_job(JobOptions options) override;
  bool terminate_job(Handle job, std::uint32_t exit_code) override;
  std::uint32_t assign_to_job(Handle job, Handle process) override;
  std::vector<JobMessage> job_messages(Handle job, Deadline d) override;
  NamedEvent create_event(std::string_view hint) override;
  bool set_event(Handle event) override;
  bool drained(const Actor& a, Deadline d) override;
  Opened open_named(NamedType type, std::string_view name) override;
  std::optional<std::string> read_section(Handle section) override;
  bool release_mutex(Handle mutex) override;
  Pipe create_pipe(std::string_view hint, PipeUse use) override;
  PipeResult read_pipe(Handle pipe, Deadline d) override;
  PipeResult write_pipe(Handle pipe) override;
  std::optional<ThreadTimes> thread_times(Handle thread) override;
  std::optional<std::uint64_t> process_creation_time(Handle process) override;
  std::uint32_t set_shutdown_parameters(std::uint32_t level, std::uint32_t flags) override;
  std::optional<ShutdownParameters> shutdown_parameters() override;
  bool own_console() override;
  std::uint32_t ctrl_event(std::uint32_t type, std::uint32_t group) override;
  std::uint32_t post_close(std::uint64_t hwnd) override;
  std::optional<std::string> window_class(std::uint64_t hwnd) override;
  std::optional<std::uint32_t> window_process(std::uint64_t hwnd) override;
  std::optional<std::uint32_t> taskkill(std::uint32_t pid, TaskkillOptions options, Deadline d) override;
  std::optional<Event> await(const Actor& a, std::string_view ev, Deadline d, std::uint32_t pid) override;
  std::vector<Event> await_n(const Actor& a, std::string_view ev, std::size_t count, Deadline d) override;
  std::vector<Event> events(const Actor& a) override;
  std::vector<std::string> reap() override;

  // What only the simulator can do.
  Model& model() { return model_; }
  void set_driver_cancel_delay(milliseconds d) { model_.set_driver_cancel_delay(static_cast<std::uint64_t>(d.count())); }

 private:
  std::optional<ObjectId> object(Handle h) const;
  std::uint64_t until(Deadline d) const;

  Model model_;
  Handle sandbox_;
  struct Group {
    std::vector<int> waiters;
    std::uint64_t until;
  };
  std::map<int, Group> groups_;
  int next_group_ = 1;
  std::vector<Handle> jobs_;
  int next_event_ = 0;
  int next_pipe_ = 0;
};

// The mutant the sim backend runs with: TERMSUITE_SIM_MUTANT (a name from mutants()).
Mutant mutant_from_environment();

}  // namespace termsuite::sim
