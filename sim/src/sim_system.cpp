#include "termsuite/sim/sim_system.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace termsuite::sim {

SimSystem::SimSystem(Mutant mutant) : model_(mutant) { sandbox_ = create_job(JobOptions{.kill_on_close = true}); }

std::optional<ObjectId> SimSystem::object(Handle h) const { return model_.resolve(model_.harness_pid(), h.value); }

// Virtual time: a deadline is as far in the model's future as it is in real time.
std::uint64_t SimSystem::until(Deadline d) const {
  return model_.now() + static_cast<std::uint64_t>(d.remaining().count());
}

Actor SimSystem::start(const ActorSpec& spec) {
  Model::CreateOptions options;
  if (spec.kind == "gui") options.image = Image::gui;
  else if (spec.kind != "console") throw std::runtime_error(fmt::format("the simulator has no '{}' actor", spec.kind));
  options.new_group = spec.new_group;
  options.new_console = spec.new_console;
  auto job = object(spec.job ? spec.job : sandbox_);
  if (!job || model_.kind(*job) != ObjectKind::job) throw std::runtime_error("start: not a job handle");
  int channel = model_.new_channel();
  auto c = model_.create_process(model_.harness_pid(), spec.verbs, *job, channel, options);
  model_.run();
  return Actor{channel, c.pid, c.tid, Handle{c.process_handle}, Handle{c.thread_handle}};
}

WaitResult SimSystem::wait(Handle h, Deadline d) {
  auto obj = object(h);
  if (!obj) return WaitResult::failed;
  model_.run();
  // A mutex is taken by the waiter that gets it; WAIT_ABANDONED if its owner died holding it.
  auto take = [&] {
    if (model_.kind(*obj) != ObjectKind::mutex) return WaitResult::signaled;
    auto [taken, abandoned] = model_.take_mutex(*obj, model_.harness_object());
    return !taken ? WaitResult::timeout : abandoned ? WaitResult::abandoned : WaitResult::signaled;
  };
  if (model_.signaled(*obj)) return take();
  int w = model_.add_waiter(*obj);
  bool released = model_.advance_until(until(d), [&] { return model_.waiter_released(w); });
  model_.remove_waiter(w);
  return released ? take() : WaitResult::timeout;
}

WaitGroup SimSystem::wait_async(Handle h, int waiters, Deadline d) {
  auto obj = object(h);
  if (!obj) throw std::logic_error("wait_async on a handle the harness does not hold");
  Group g;
  g.until = until(d);
  for (int i = 0; i < waiters; ++i) g.waiters.push_back(model_.add_waiter(*obj));
  int id = next_group_++;
  groups_[id] = std::move(g);
  return WaitGroup{id};
}

std::vector<WaitResult> SimSystem::join(WaitGroup wg) {
  auto it = groups_.find(wg.id);
  if (it == groups_.end()) throw std::logic_error("join of an unknown wait group");
  auto& g = it->second;
  model_.advance_until(g.until, [&] {
    return std::all_of(g.waiters.begin(), g.waiters.end(), [&](int w) { return model_.waiter_released(w); });
  });
  std::vector<WaitResult> results;
  for (int w : g.waiters) {
    results.push_back(model_.waiter_released(w) ? WaitResult::signaled : WaitResult::timeout);
    model_.remove_waiter(w);
  }
  groups_.erase(it);
  return results;
}

bool SimSystem::terminate(Handle process, std::uint32_t code) { return terminate_status(process, code) == 0; }

std::uint32_t SimSystem::terminate_status(Handle process, std::uint32_t code) {
  model_.run();
  auto obj = object(process);
  if (!obj || model_.kind(*obj) != ObjectKind::process) return kErrorInvalidHandle;
  const auto* harness = model_.process(model_.harness_object());
  const bool right = !harness->without_terminate.contains(process.value);
  const std::uint32_t error = model_.terminate_process_status(*obj, code, right);
  model_.run();
  return error;
}

std::uint32_t SimSystem::terminate_thread(Handle thread, std::uint32_t code) {
  model_.run();
  auto obj = object(thread);
  if (!obj || model_.kind(*obj) != ObjectKind::thread) return kErrorInvalidHandle;
  const std::uint32_t error = model_.terminate_thread(*obj, code);
  model_.run();
  return error;
}

Opened SimSystem::open_process_without_terminate(std::uint32_t pid) {
  auto opened = open_process(pid);
  if (opened.handle) model_.mark_without_terminate(model_.harness_pid(), opened.handle.value);
  return opened;
}

std::optional<std::uint32_t> SimSystem::exit_code(Handle process) {
  model_.run();
  auto obj = object(process);
  return obj ? model_.exit_code_process(*obj) : std::nullopt;
}

std::optional<std::uint32_t> SimSystem::thread_exit_code(Handle thread) {
  model_.run();
  auto obj = object(thread);
  return obj ? model_.exit_code_thread(*obj) : std::nullopt;
}

void SimSystem::close(Handle h) {
  if (!model_.close_handle(model_.harness_pid(), h.value))
    throw std::logic_error("close of a handle this System does not own");
  std::erase(jobs_, h);
  model_.run();
}

Opened SimSystem::open_process(std::uint32_t pid) {
  model_.run();
  std::uint32_t error = 0;
  auto h = model_.open_by_id(model_.harness_pid(), ObjectKind::process, pid, &error);
  return h ? Opened{Handle{*h}, 0} : Opened{{}, error};
}

Opened SimSystem::open_thread(std::uint32_t tid) {
  model_.run();
  std::uint32_t error = 0;
  auto h = model_.open_by_id(model_.harness_pid(), ObjectKind::thread, tid, &error);
  return h ? Opened{Handle{*h}, 0} : Opened{{}, error};
}

std::optional<std::uint32_t> SimSystem::parent_pid(std::uint32_t pid) {
  model_.run();
  return model_.parent_of(pid);
}

Handle SimSystem::create_job(JobOptions options) {
  std::uint64_t h = 0;
  const ObjectId job = model_.create_job(model_.harness_pid(), options.kill_on_close, &h);
  model_.set_job_limits(job, options.breakaway_ok, options.silent_breakaway_ok, options.completion_port);
  jobs_.push_back(Handle{h});
  return Handle{h};
}

bool SimSystem::terminate_job(Handle job, std::uint32_t exit_code) {
  auto obj = object(job);
  if (!obj || model_.kind(*obj) != ObjectKind::job) return false;
  const bool ok = model_.terminate_job(*obj, exit_code);
  model_.run();
  return ok;
}

std::uint32_t SimSystem::assign_to_job(Handle job, Handle process) {
  auto j = object(job);
  auto p = object(process);
  if (!j || !p || model_.kind(*j) != ObjectKind::job || model_.kind(*p) != ObjectKind::process) return kErrorInvalidHandle;
  const std::uint32_t error = model_.assign_to_job(*j, *p);
  model_.run();
  return error;
}

std::vector<JobMessage> SimSystem::job_messages(Handle job, Deadline d) {
  auto obj = object(job);
  if (!obj || model_.kind(*obj) != ObjectKind::job) return {};
  auto zero = [&] {
    const auto& m = model_.job(*obj)->messages;
    return std::any_of(m.begin(), m.end(), [](const auto& x) { return x.first == kJobMsgActiveProcessZero; });
  };
  model_.run();
  model_.advance_until(until(d), zero);
  std::vector<JobMessage> out;
  for (const auto& [message, pid] : model_.job(*obj)->messages) out.push_back(JobMessage{message, pid});
  return out;
}

System::NamedEvent SimSystem::create_event(std::string_view hint) {
  std::string name = fmt::format("termsuite-sim-{}-{}", hint, next_event_++);
  std::uint64_t h = 0;
  model_.create_event(model_.harness_pid(), name, &h);
  return NamedEvent{Handle{h}, name};
}

bool SimSystem::set_event(Handle event) {
  auto obj = object(event);
  if (!obj || model_.kind(*obj) != ObjectKind::event) return false;
  bool ok = model_.set_event(*obj);
  model_.run();
  return ok;
}

Opened SimSystem::open_named(NamedType type, std::string_view name) {
  model_.run();
  const ObjectKind kind = type == NamedType::event     ? ObjectKind::event
                          : type == NamedType::section ? ObjectKind::section
                                                       : ObjectKind::mutex;
  std::uint32_t error = 0;
  auto h = model_.open_named(model_.harness_pid(), kind, name, &error);
  return h ? Opened{Handle{*h}, 0} : Opened{{}, error};
}

std::optional<std::string> SimSystem::read_section(Handle section) {
  auto obj = object(section);
  const auto* n = obj ? model_.named(*obj) : nullptr;
  if (!n || n->kind != ObjectKind::section) return std::nullopt;
  return n->text;
}

bool SimSystem::release_mutex(Handle mutex) {
  auto obj = object(mutex);
  bool ok = obj && model_.release_mutex(*obj, model_.harness_object());
  model_.run();
  return ok;
}

System::Pipe SimSystem::create_pipe(std::string_view hint, PipeUse use) {
  std::string name = fmt::format("termsuite-sim-{}-{}", hint, next_pipe_++);
  std::uint64_t h = 0;
  model_.create_pipe(model_.harness_pid(), name, use == PipeUse::harness_reads, &h);
  return Pipe{Handle{h}, name};
}

constexpr std::uint32_t kErrorBrokenPipe = 109, kErrorNoData = 232, kErrorPipeListening = 536;

System::PipeResult SimSystem::read_pipe(Handle pipe, Deadline d) {
  auto obj = object(pipe);
  if (!obj || model_.kind(*obj) != ObjectKind::pipe) return PipeResult{PipeIo::failed, kErrorInvalidHandle};
  model_.run();
  if (!model_.pipe_connected(*obj)) return PipeResult{PipeIo::failed, kErrorPipeListening};
  if (model_.advance_until(until(d), [&] { return model_.pipe_broken(*obj); })) return PipeResult{PipeIo::broken, kErrorBrokenPipe};
  return PipeResult{PipeIo::timeout, 0};
}

System::PipeResult SimSystem::write_pipe(Handle pipe) {
  auto obj = object(pipe);
  if (!obj || model_.kind(*obj) != ObjectKind::pipe) return PipeResult{PipeIo::failed, kErrorInvalidHandle};
  model_.run();
  if (!model_.pipe_connected(*obj)) return PipeResult{PipeIo::failed, kErrorPipeListening};
  if (model_.pipe_broken(*obj)) return PipeResult{PipeIo::broken, kErrorNoData};
  return PipeResult{PipeIo::data, 0};
}

std::optional<System::ThreadTimes> SimSystem::thread_times(Handle thread) {
  model_.run();
  auto obj = object(thread);
  const auto* t = obj ? model_.thread(*obj) : nullptr;
  if (!t) return std::nullopt;
  // corpse.terminated-thread-queryable: the thread object keeps its id and times.
  const bool forgets = model_.is(Mutant::dead_thread_forgets) && t->state == RunState::terminated;
  return ThreadTimes{forgets ? 0 : t->tid, t->created_at * 10'000,
                     t->state == RunState::terminated ? t->exited_at * 10'000 : 0, 0, 0};
}

std::uint32_t SimSystem::set_shutdown_parameters(std::uint32_t level, std::uint32_t flags) {
  return model_.set_shutdown_parameters(level, flags);
}

std::optional<System::ShutdownParameters> SimSystem::shutdown_parameters() {
  auto [level, flags] = model_.shutdown_parameters();
  return ShutdownParameters{level, flags};
}

std::optional<std::uint64_t> SimSystem::process_creation_time(Handle process) {
  model_.run();
  auto obj = object(process);
  const auto* p = obj ? model_.process(*obj) : nullptr;
  if (!p) return std::nullopt;
  return p->created_at * 10'000;
}

// The classes the live platform reports: the classic console host's window, the GUI actor's.
std::optional<std::string> SimSystem::window_class(std::uint64_t hwnd) {
  model_.run();
  auto it = model_.windows().find(hwnd);
  if (it == model_.windows().end()) return std::nullopt;
  return it->second.role == WindowObj::Role::console ? "ConsoleWindowClass" : "termsuite.actor-gui";
}

// taskkill.console-close: a console's window is reported as its creator's (the root process).
std::optional<std::uint32_t> SimSystem::window_process(std::uint64_t hwnd) {
  model_.run();
  auto it = model_.windows().find(hwnd);
  if (it == model_.windows().end()) return std::nullopt;
  ObjectId owner = it->second.process;
  if (it->second.role == WindowObj::Role::console) owner = model_.console_root(it->second.console);
  const auto* p = model_.process(owner);
  return p ? p->pid : 0;
}

bool SimSystem::own_console() { return model_.own_console(model_.harness_pid()); }

std::uint32_t SimSystem::ctrl_event(std::uint32_t type, std::uint32_t group) {
  model_.run();
  const std::uint32_t error = model_.generate_ctrl_event(model_.harness_pid(), type, group);
  model_.run();
  return error;
}

std::uint32_t SimSystem::post_close(std::uint64_t hwnd) {
  model_.run();
  const std::uint32_t error = model_.post_close(hwnd);
  model_.run();
  return error;
}

// taskkill runs in the harness's console and group, and finishes at once in virtual time.
std::optional<std::uint32_t> SimSystem::taskkill(std::uint32_t pid, TaskkillOptions options, Deadline d) {
  model_.run();
  const std::uint32_t status = model_.taskkill(pid, options.force, options.tree, until(d));
  model_.run();
  return status;
}

// The channel is drained when every process that reports on it has ended.
bool SimSystem::drained(const Actor& a, Deadline d) {
  return model_.advance_until(until(d), [&] {
    for (const auto& [id, p] : model_.processes())
      if (p.channel == a.channel && p.state != RunState::terminated) return false;
    return true;
  });
}

std::optional<Event> SimSystem::await(const Actor& a, std::string_view ev, Deadline d, std::uint32_t pid) {
  auto find = [&]() -> std::optional<Event> {
    for (const auto& e : model_.channel(a.channel))
      if (e.is(ev) && (pid == 0 || e.pid == pid)) return e;
    return std::nullopt;
  };
  model_.advance_until(until(d), [&] { return find().has_value(); });
  return find();
}

std::vector<Event> SimSystem::await_n(const Actor& a, std::string_view ev, std::size_t count, Deadline d) {
  auto find = [&] {
    std::vector<Event> found;
    for (const auto& e : model_.channel(a.channel))
      if (e.is(ev) && found.size() < count) found.push_back(e);
    return found;
  };
  model_.advance_until(until(d), [&] { return find().size() >= count; });
  return find();
}

std::vector<Event> SimSystem::events(const Actor& a) {
  model_.run();
  return model_.channel(a.channel);
}

std::vector<std::string> SimSystem::reap() {
  std::vector<std::string> problems;
  groups_.clear();
  // Close the test's jobs: the sandbox (kill on close) ends whatever is left in it.
  std::vector<ObjectId> members;
  for (Handle j : jobs_)
    if (auto obj = object(j))
      if (const auto* job = model_.job(*obj))
        members.insert(members.end(), job->members.begin(), job->members.end());
  for (Handle j : std::vector<Handle>(jobs_)) {
    if (auto obj = object(j); obj && j != sandbox_) {
      // A copy: a process that ends leaves the job's list of members. Every member of every job
      // is ended before any thread runs again, as the live backend's TerminateJobObject does.
      for (ObjectId m : std::vector<ObjectId>(model_.job(*obj)->members)) model_.terminate_process(m, 0x7E5A, "reap");
    }
    model_.close_handle(model_.harness_pid(), j.value);
  }
  jobs_.clear();
  model_.advance_until(model_.now() + 3'000, [&] {
    return std::all_of(members.begin(), members.end(), [&](ObjectId m) {
      const auto* p = model_.process(m);
      return !p || p->state == RunState::terminated;
    });
  });
  for (ObjectId m : members)
    if (const auto* p = model_.process(m); p && p->state != RunState::terminated) {
      problems.push_back(fmt::format("process {} outlived the test's job (closing a kill-on-close job did not end it)", p->pid));
      model_.terminate_process(m, 0x7E5A, "reap");
    }
  for (const auto& [id, p] : model_.processes())
    if (!p.harness && p.state == RunState::running)
      problems.push_back(fmt::format("process {} outlived the test", p.pid));
  return problems;
}

Mutant mutant_from_environment() {
  const char* name = std::getenv("TERMSUITE_SIM_MUTANT");
  if (!name || !*name) return Mutant::none;
  auto m = find_mutant(name);
  if (!m) throw std::runtime_error(fmt::format("TERMSUITE_SIM_MUTANT={} names no mutant", name));
  return *m;
}

}  // namespace termsuite::sim

namespace termsuite {

std::unique_ptr<System> make_system() { return std::make_unique<sim::SimSystem>(sim::mutant_from_environment()); }

Platform backend_platform() {
  Platform p;
  p.os = "sim";
  p.version = "termsim 1";
  p.arch = "model";
  p.id = make_platform_id(p);
  return p;
}

std::string backend_path(std::string_view path) { return std::string(path); }

// The simulator runs on no machine's Windows: nothing for a preflight to find.
std::optional<preflight::WindowsFacts> backend_machine_facts() { return std::nullopt; }

std::string_view backend_name() { return "sim"; }

}  // namespace termsuite
