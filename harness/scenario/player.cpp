// The scenario runner (scenario.hpp): one step at a time against any System, each step's result
// as one canonical line, and at the end every actor's records, per process and thread.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "termsuite/scenario.hpp"

namespace termsuite::scenario {

namespace {

// The fields of a record that carry meaning on every platform; ids, sequence numbers, times and
// thread lists do not.
// `mode` and `known_thread` tell console handlers apart and where they ran; `reserved` is
// DllMain's lpReserved; `during` and `seen` the probe's sign of life from a thread started in
// DllMain; `owned` and `ok` a mutex's creation and a pipe read's end.
constexpr std::string_view kMeaningful[] = {"how",      "code",   "kind",         "result", "what",
                                            "error",    "name",   "type",         "reason", "mode",
                                            "known_thread", "reserved", "during", "seen",   "owned", "ok",
                                            "disposition"};

std::string hex(std::uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace

namespace {

using Proc = std::pair<std::uint32_t, int>;  // an id, and which of the processes that had it
struct Roles {
  std::vector<Proc> writer;          // per record
  std::map<Proc, std::string> role;  // "a1", "a1>2", ...
};
Roles roles(const Actor& a, const std::string& name, const std::vector<Event>& evs);

}  // namespace

std::string canonical_record(const Event& e) {
  if (e.kind != Event::Kind::record) return "malformed";
  std::string t = e.name;
  if (!e.fields.is_object()) return t;
  for (auto key : kMeaningful) {
    auto it = e.fields.find(std::string(key));
    if (it == e.fields.end()) continue;
    t += fmt::format(" {}=", key);
    // BroadcastSystemMessage's success is "a positive value"; which one is the platform's, and
    // what GetLastError says after a success is nobody's promise.
    if (e.name == "broadcast" && key == "result" && it->is_number() && it->get<double>() > 0) t += "positive";
    else if (e.name == "broadcast" && key == "error") t += "-";
    else if (it->is_number_unsigned()) t += hex(it->get<std::uint64_t>());
    else if (it->is_string()) t += it->get<std::string>();
    else t += it->dump();
  }
  return t;
}

namespace {

// Which process wrote each record, and each process's role (scenario.hpp).
Roles roles(const Actor& a, const std::string& name, const std::vector<Event>& evs) {
  // Which process wrote each record. An id names one process at a time only: "at this point
  // [the process object is freed], the identifier may be reused" (PROCESS_INFORMATION,
  // https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/ns-processthreadsapi-process_information),
  // within one tree too, and ids are not given in creation order. Every process writes `start`
  // first, so in the channel's order a `start` from an id already seen begins the id's next
  // process; the parent's `spawned` record comes before the child can have gone, so the K-th
  // `spawned` naming an id names its K-th process (the actor itself, not spawned, is its id's
  // first).
  std::map<std::uint32_t, int> started, named;
  std::vector<Proc> writer;
  writer.reserve(evs.size());
  struct Spawn {
    Proc parent;
    std::uint64_t seq;
    Proc child;
  };
  std::vector<Spawn> spawns;
  for (const auto& e : evs) {
    const int k = e.is("start") ? started[e.pid]++ : std::max(0, started[e.pid] - 1);
    writer.emplace_back(e.pid, k);
    auto child = e.is("spawned") ? e.number("child_pid") : std::nullopt;
    if (!child) continue;
    const auto c = static_cast<std::uint32_t>(*child);
    spawns.push_back({writer.back(), e.seq, {c, named[c]++ + (c == a.pid ? 1 : 0)}});
  }
  // Roles: the actor by its name, each child by its parent's role and its place among the
  // parent's `spawned` records (by their sequence numbers), from the actor down: a child's
  // id says nothing of its place.
  std::sort(spawns.begin(), spawns.end(),
            [](const Spawn& x, const Spawn& y) { return std::tie(x.parent, x.seq) < std::tie(y.parent, y.seq); });
  std::map<Proc, std::string> role{{{a.pid, 0}, name}};
  for (std::vector<Proc> todo{{a.pid, 0}}; !todo.empty();) {
    const Proc p = todo.back();
    todo.pop_back();
    int k = 0;
    for (const auto& sp : spawns)
      if (sp.parent == p && role.emplace(sp.child, fmt::format("{}>{}", role.at(p), ++k)).second) todo.push_back(sp.child);
  }
  return {std::move(writer), std::move(role)};
}

}  // namespace

struct Player::Impl {
  System& sys;
  RunOptions options;
  std::map<std::string, Actor> actors;
  std::vector<std::string> order;  // actors in start order
  std::map<std::string, System::NamedEvent> events;
  std::map<std::string, std::string> object_names;  // `name`: the scenario's name -> the run's
  std::map<std::string, System::Pipe> pipes;
  std::map<std::string, WaitGroup> groups;           // `waiters`, until joined
  std::map<std::string, Handle> jobs;
  std::map<std::string, Handle> handles;
  std::map<std::string, bool> handle_is_thread;
  // Names whose `open` failed: the steps on them answer "not opened", so the trace goes on (a
  // platform whose open fails where the model's succeeds differs at the open, not by an error).
  std::set<std::string> unopened;
  bool console = false, console_ok = false;
  bool finished = false;
  int step = 0;
  // After a first wait that ran out, the run already differs from what was expected of it: later
  // waits get a tenth of the deadline, so a platform that never writes a record costs seconds,
  // not minutes, and the first difference is still the one reported.
  bool late = false;
  Deadline settle() const { return Deadline::in(late ? options.settle / 10 : options.settle); }

  Impl(System& s, RunOptions o) : sys(s), options(o) {}

  const Actor& actor(const std::string& n) const {
    auto it = actors.find(n);
    if (it == actors.end()) throw Error("scenario", 0, fmt::format("no actor '{}'", n));
    return it->second;
  }
  Handle handle(const Ref& r) const {
    if (r.part == Ref::Part::handle) {
      auto it = handles.find(r.name);
      if (it == handles.end()) throw Error("scenario", 0, fmt::format("no handle '{}'", r.name));
      return it->second;
    }
    const auto& a = actor(r.name);
    return r.part == Ref::Part::thread ? a.thread : a.process;
  }
  bool is_thread(const Ref& r) const {
    if (r.part == Ref::Part::thread) return true;
    if (r.part == Ref::Part::handle) {
      auto it = handle_is_thread.find(r.name);
      return it != handle_is_thread.end() && it->second;
    }
    return false;
  }

  // The id that the k-th (from 1) record `ev` of process `pid` on the actor's channel names in
  // `field`, by the process's own order of records: its k-th spawned child, its k-th thread.
  std::optional<std::uint32_t> kth(const std::string& actor_name, std::uint32_t pid, std::string_view ev,
                                   std::string_view field, std::uint32_t k) {
    std::vector<Event> found;
    for (const auto& e : sys.events(actor(actor_name)))
      if (e.is(ev) && e.pid == pid) found.push_back(e);
    std::sort(found.begin(), found.end(), [](const Event& x, const Event& y) { return x.seq < y.seq; });
    if (k == 0 || k > found.size()) return std::nullopt;
    auto id = found[k - 1].number(field);
    return id ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*id)) : std::nullopt;
  }
  std::optional<std::uint32_t> child(const std::string& n, std::uint32_t k) {
    return kth(n, actor(n).pid, "spawned", "child_pid", k);
  }

  // How many processes and threads have had this id, by the actors' records (every process
  // writes `start` with its main thread's id; thread-started names each other thread).
  int creations(std::uint32_t id) {
    int n = 0;
    for (const auto& name : order)
      for (const auto& e : sys.events(actors.at(name))) {
        if (e.is("start") && (e.pid == id || e.number("main_tid") == id)) ++n;
        if (e.is("thread-started") && e.number("thread") == id) ++n;
      }
    return n;
  }

  // The id of the process that has this role now ("a1", "a1>2").
  std::optional<std::uint32_t> role_pid(const std::string& r) {
    const std::string base = r.substr(0, r.find('>'));
    const auto& a = actor(base);
    const auto evs = sys.events(a);
    for (const auto& [proc, name] : roles(a, base, evs).role)
      if (name == r) return proc.first;
    return std::nullopt;
  }

  // The k-th (from 1) thread that process `pid` of the actor's channel started (thread-started).
  std::optional<std::uint32_t> nth_thread(const std::string& role, std::uint32_t pid, std::uint32_t k) {
    return kth(role.substr(0, role.find('>')), pid, "thread-started", "thread", k);
  }

  // What of the actor's processes (by role) and their threads (ROLE.tK) has ended, or whose
  // object is gone.
  std::vector<std::string> ended_roles(const std::string& n) {
    const auto& a = actor(n);
    std::vector<std::string> out;
    auto ended = [&](Opened opened) {
      if (!opened.handle) return true;
      const bool signaled = sys.wait(opened.handle, Deadline::now()) == WaitResult::signaled;
      sys.close(opened.handle);
      return signaled;
    };
    for (const auto& [proc, name] : roles(a, n, sys.events(a)).role) {
      if (ended(sys.open_process_without_terminate(proc.first))) {
        out.push_back(name);
        continue;  // its threads with it
      }
      for (std::uint32_t k = 1;; ++k) {
        auto tid = nth_thread(name, proc.first, k);
        if (!tid) break;
        if (ended(sys.open_thread(*tid))) out.push_back(fmt::format("{}.t{}", name, k));
      }
    }
    return out;
  }

  // The k-th (from 1) thread the actor's own process started, by the order of its records.
  std::optional<std::uint32_t> thread_of(const std::string& n, std::uint32_t k) {
    return kth(n, actor(n).pid, "thread-started", "thread", k);
  }

  // The role of the process that has this id now, over every actor's processes; "" if none.
  std::string role_of_pid(std::uint32_t pid) {
    for (const auto& name : order) {
      const auto& a = actors.at(name);
      for (const auto& [proc, role] : roles(a, name, sys.events(a)).role)
        if (proc.first == pid) return role;
    }
    return "";
  }

  // What a job's port got up to its first ACTIVE_PROCESS_ZERO (a port is read until then, and a
  // job that gets processes again afterwards starts another story): how many processes joined and
  // left (exit and abnormal exit alike: which of the two an exception code gives is not compared).
  // Counts, not ids: whether an id came back by then is the platform's choice. Only the scenario's
  // own processes count: a platform may put processes of its own in the job (Wine 8.0 starts a
  // conhost.exe for a new console there).
  std::string port_text(const std::vector<JobMessage>& msgs) {
    int joined = 0, left = 0, other = 0;
    for (const auto& m : msgs) {
      if (m.message != kJobMsgActiveProcessZero && role_of_pid(m.pid).empty()) continue;
      if (m.message == kJobMsgActiveProcessZero) return fmt::format("{} new, {} exit{}, zero", joined, left,
                                                                   other ? fmt::format(", {} other", other) : "");
      if (m.message == kJobMsgNewProcess) ++joined;
      else if (m.message == kJobMsgExitProcess || m.message == kJobMsgAbnormalExitProcess) ++left;
      else ++other;
    }
    return fmt::format("{} new, {} exit{}, no zero", joined, left, other ? fmt::format(", {} other", other) : "");
  }

  // What an open step says: the handle is kept under the step's name, or the steps on that name
  // answer "not opened" from now on.
  std::string keep(const std::string& name, Opened opened, bool thread) {
    if (!opened.handle) {
      unopened.insert(name);
      return fmt::format("error {}", opened.error);
    }
    handles[name] = opened.handle;
    handle_is_thread[name] = thread;
    return "ok";
  }

  // A record's text with the run's object and pipe names put back as the scenario names them.
  std::string scenario_names(std::string t) const {
    auto put_back = [&](const std::string& real, const std::string& alias) {
      for (std::size_t at = t.find(real); at != std::string::npos; at = t.find(real, at + alias.size()))
        t.replace(at, real.size(), alias);
    };
    for (const auto& [alias, real] : object_names) put_back(real, alias);
    for (const auto& [alias, pipe] : pipes) put_back(pipe.name, alias);
    return t;
  }

  std::string verb_word(const std::string& v, int line) {
    if (v.size() < 2 || v[0] != '@') return v;
    const auto n = v.substr(1);
    if (auto it = events.find(n); it != events.end()) return it->second.name;
    if (auto it = object_names.find(n); it != object_names.end()) return it->second;
    if (auto it = pipes.find(n); it != pipes.end()) return it->second.name;
    throw Error("scenario", line, fmt::format("no event, name or pipe '{}'", n));
  }

  std::optional<std::uint32_t> id_of(const Step& s) {
    if (s.id_of == Step::IdOf::pid) return actor(s.target).pid;
    if (s.id_of == Step::IdOf::tid) return actor(s.target).tid;
    if (s.id_of == Step::IdOf::thread) return thread_of(s.target, s.number);
    return child(s.target, s.number);
  }

  std::string run(const Step& s) {
    if (s.ref.part == Ref::Part::handle && unopened.contains(s.ref.name)) return "not opened";
    switch (s.op) {
      case Op::start: {
        ActorSpec spec;
        for (const auto& v : s.verbs) spec.verbs.push_back(verb_word(v, s.line));
        if (!s.job.empty()) spec.job = jobs.at(s.job);
        if (s.gui) spec.kind = "gui";
        spec.new_group = s.new_group;
        spec.new_console = s.new_console;
        try {
          actors[s.name] = sys.start(spec);
        } catch (const std::exception& e) {
          throw Error("scenario", s.line, fmt::format("start {}: {}", s.name, e.what()));
        }
        order.push_back(s.name);
        return "started";
      }
      case Op::job:
        jobs[s.name] = sys.create_job(JobOptions{.kill_on_close = s.kill_on_close,
                                                 .breakaway_ok = s.breakaway_ok,
                                                 .silent_breakaway_ok = s.silent_breakaway_ok,
                                                 .completion_port = s.port});
        return "created";
      case Op::assign: return std::to_string(sys.assign_to_job(jobs.at(s.name), actor(s.target).process));
      case Op::job_messages: {
        auto msgs = sys.job_messages(jobs.at(s.name), settle());
        const auto t = port_text(msgs);
        if (t.ends_with("no zero")) late = true;
        return t;
      }
      case Op::waiters:
        groups[s.name] = sys.wait_async(handle(s.ref), static_cast<int>(s.number), settle());
        return "waiting";
      case Op::join: {
        auto it = groups.find(s.name);
        if (it == groups.end()) throw Error("scenario", s.line, fmt::format("no waiters '{}'", s.name));
        auto results = sys.join(it->second);
        groups.erase(it);
        const auto released = std::count(results.begin(), results.end(), WaitResult::signaled);
        if (released < static_cast<long>(results.size())) late = true;
        return fmt::format("{} of {} signaled", released, results.size());
      }
      case Op::name:
        // Unique to the run: an event's name is, and nothing else is called by it.
        object_names[s.name] = sys.create_event("name").name + "-" + s.name;
        return "ok";
      case Op::open_named: {
        const auto type = s.event == "mutex"     ? System::NamedType::mutex
                          : s.event == "section" ? System::NamedType::section
                                                 : System::NamedType::event;
        return keep(s.name, sys.open_named(type, object_names.at(s.target)), false);
      }
      case Op::release: return sys.release_mutex(handle(s.ref)) ? "ok" : "failed";
      case Op::pipe:
        pipes[s.name] = sys.create_pipe(s.name, s.event == "reads" ? System::PipeUse::harness_reads
                                                                  : System::PipeUse::harness_writes);
        return "created";
      case Op::read_pipe:
      case Op::write_pipe: {
        auto r = s.op == Op::read_pipe ? sys.read_pipe(pipes.at(s.name).handle, settle())
                                       : sys.write_pipe(pipes.at(s.name).handle);
        // Which error a broken pipe gives (ERROR_BROKEN_PIPE, ERROR_NO_DATA) is not compared.
        switch (r.io) {
          case System::PipeIo::data: return s.op == Op::read_pipe ? "data" : "ok";
          case System::PipeIo::broken: return "broken";
          case System::PipeIo::timeout: late = true; return "timeout";
          case System::PipeIo::failed: return fmt::format("failed {}", r.error);
        }
        return "?";
      }
      case Op::close_window: {
        auto hwnd = kth(s.target, actor(s.target).pid, "window-created", "hwnd", s.number);
        if (!hwnd) return "no such window";
        return std::to_string(sys.post_close(*hwnd));
      }
      case Op::shutdown: {
        const auto set = sys.set_shutdown_parameters(s.number, 0);
        auto now = sys.shutdown_parameters();
        return now ? fmt::format("{}, {:#x} {:#x}", set, now->level, now->flags) : fmt::format("{}, failed", set);
      }
      case Op::parent: {
        // Whether the recorded parent id is still its creator's (the `start` record's ppid):
        // ids come back at the platform's choice, so no other id is named.
        const std::string base = s.name.substr(0, s.name.find('>'));
        const auto& a = actor(base);
        const auto evs = sys.events(a);
        const auto r = roles(a, base, evs);
        std::optional<std::uint32_t> pid, creator;
        for (const auto& [proc, role] : r.role)
          if (role == s.name) pid = proc.first;
        if (!pid) return "no such process";
        for (std::size_t i = 0; i < evs.size(); ++i)
          if (evs[i].is("start") && r.role.contains(r.writer[i]) && r.role.at(r.writer[i]) == s.name)
            if (auto pp = evs[i].number("ppid")) creator = static_cast<std::uint32_t>(*pp);
        auto parent = sys.parent_pid(*pid);
        if (!parent) return "none";
        return creator && *parent == *creator ? "its creator" : "other";
      }
      case Op::event: events[s.name] = sys.create_event(s.name); return "created";
      case Op::set: return sys.set_event(events.at(s.name).handle) ? "ok" : "failed";
      case Op::await: {
        auto got = sys.await_n(actor(s.name), s.event, s.number, settle());
        if (got.size() >= s.number) return "ok";
        late = true;
        return fmt::format("timeout ({} of {})", got.size(), s.number);
      }
      case Op::wait: {
        auto w = sys.wait(handle(s.ref), settle());
        if (w == WaitResult::timeout) late = true;
        return std::string(to_string(w));
      }
      case Op::poll: return std::string(to_string(sys.wait(handle(s.ref), Deadline::now())));
      case Op::wait_all: {
        // Every waiter is released, or the line says how many were not (signal.process-object).
        auto results = sys.join(sys.wait_async(handle(s.ref), static_cast<int>(s.number), settle()));
        const auto released = std::count(results.begin(), results.end(), WaitResult::signaled);
        if (released < static_cast<long>(results.size())) late = true;
        return fmt::format("{} of {} signaled", released, results.size());
      }
      case Op::exit_code: {
        auto h = handle(s.ref);
        auto code = is_thread(s.ref) ? sys.thread_exit_code(h) : sys.exit_code(h);
        return code ? hex(*code) : "failed";
      }
      case Op::terminate: return std::to_string(sys.terminate_status(handle(s.ref), s.number));
      case Op::terminate_thread: return std::to_string(sys.terminate_thread(handle(s.ref), s.number));
      case Op::terminate_job: return sys.terminate_job(jobs.at(s.name), s.number) ? "ok" : "failed";
      case Op::close:
        if (s.ref.part == Ref::Part::handle && jobs.contains(s.ref.name)) {
          sys.close(jobs.at(s.ref.name));
          jobs.erase(s.ref.name);
        } else {
          sys.close(handle(s.ref));
          if (s.ref.part == Ref::Part::handle) handles.erase(s.ref.name);
        }
        return "closed";
      case Op::open: {
        auto id = id_of(s);
        if (!id) {
          unopened.insert(s.name);
          return s.id_of == Step::IdOf::thread ? "no such thread" : "no such child";
        }
        const bool thread = s.id_of == Step::IdOf::tid || s.id_of == Step::IdOf::thread;
        // An id that has named two objects by now (the first had gone, the platform gave its id to
        // another) opens whichever has it: the step says so, as when its open fails. When ids
        // come back is the platform's choice.
        if (creations(*id) > 1) {
          unopened.insert(s.name);
          return "the id has named another object too";
        }
        return keep(s.name,
                    thread      ? sys.open_thread(*id)
                    : s.limited ? sys.open_process_without_terminate(*id)
                                : sys.open_process(*id),
                    thread);
      }
      case Op::settle: {
        // The process with this role (or the thread: ROLE.tK), if it still exists, has ended by
        // the deadline.
        const auto dot = s.name.find('.');
        auto pid = role_pid(s.name.substr(0, dot));
        if (!pid) return "no such process";
        if (dot != std::string::npos && s.name.substr(dot) == ".ctrl") {
          // The threads that ran its console control handlers (each wrote ctrl-event).
          const auto base = s.name.substr(0, s.name.find_first_of(">."));
          std::string result = "ok";
          for (const auto& e : sys.events(actor(base))) {
            if (!e.is("ctrl-event") || e.pid != *pid) continue;
            auto opened = sys.open_thread(e.tid);
            if (!opened.handle) continue;  // gone already
            auto w = sys.wait(opened.handle, settle());
            sys.close(opened.handle);
            if (w != WaitResult::signaled) late = true, result = std::string(to_string(w));
          }
          return result;
        }
        std::optional<std::uint32_t> tid;
        if (dot != std::string::npos) {
          tid = nth_thread(s.name.substr(0, dot), *pid, static_cast<std::uint32_t>(std::stoul(s.name.substr(dot + 2))));
          if (!tid) return "no such thread";
        }
        auto opened = tid ? sys.open_thread(*tid) : sys.open_process_without_terminate(*pid);
        if (!opened.handle) return "ok";  // gone already
        auto w = sys.wait(opened.handle, settle());
        sys.close(opened.handle);
        if (w == WaitResult::timeout) late = true;
        return w == WaitResult::signaled ? "ok" : std::string(to_string(w));
      }
      case Op::taskkill: {
        auto status = sys.taskkill(actor(s.target).pid, System::TaskkillOptions{.force = s.force, .tree = s.tree}, settle());
        if (!status) late = true;
        // Without /f, which non-zero status a refusal gives is taskkill's own (1 on Windows, 128
        // under Wine 8.0; neither is documented): a refusal is one answer.
        if (status && *status != 0 && !s.force) return "refused";
        return status ? std::to_string(*status) : "timeout";
      }
      case Op::ctrl: {
        if (!console) {
          console = true;
          console_ok = sys.own_console();
        }
        if (!console_ok) return "no console";
        std::uint32_t group = s.target.empty() ? 0 : actor(s.target).pid;
        return std::to_string(sys.ctrl_event(s.number, group));
      }
    }
    return "?";
  }
};

Player::Player(System& system, RunOptions options) : impl_(new Impl(system, options)) {
  if (options.own_console) {
    impl_->console = true;
    impl_->console_ok = system.own_console();
  }
}

bool needs_console(const Scenario& s) {
  // A console event is sent from the harness's console; a taskkill without /f asks a process that
  // shares it (and so owns no console window of its own).
  return std::any_of(s.steps.begin(), s.steps.end(),
                     [](const Step& st) { return st.op == Op::ctrl || (st.op == Op::taskkill && !st.force); });
}
Player::~Player() {
  if (!impl_->finished) {
    try {
      impl_->sys.reap();
    } catch (...) {
    }
  }
  delete impl_;
}

std::string Player::step(const Step& s) {
  ++impl_->step;
  return fmt::format("{} {}: {}", impl_->step, s.text(), impl_->run(s));
}

std::vector<std::string> Player::finish() {
  auto& I = *impl_;
  I.finished = true;
  for (auto& p : I.sys.reap()) notes_.push_back("reap: " + p);
  std::vector<std::string> lines;
  for (const auto& name : I.order) {
    const auto& a = I.actors.at(name);
    if (!I.sys.drained(a, Deadline::in(I.options.drain))) notes_.push_back(fmt::format("{}: channel not drained", name));
    const auto evs = I.sys.events(a);
    const auto [writer, role] = roles(a, name, evs);
    // Each process's records in its own order.
    std::vector<std::size_t> order(evs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      return std::tie(writer[x], evs[x].seq) < std::tie(writer[y], evs[y].seq);
    });
    // Per process: the sequence of each thread, the sequences sorted (threads have no names
    // two platforms share).
    std::map<std::string, std::map<std::uint32_t, std::vector<std::string>>> threads;
    // The windows the actors created (window-created): the WH_CBT hook's calls are compared for
    // those only, and only their creation and destruction. The others (activation, focus, size;
    // the windows a platform makes for a GUI thread of its own accord, such as an input method's)
    // follow the desktop.
    std::set<std::uint64_t> own_windows;
    for (const auto& e : evs)
      if (e.is("window-created"))
        if (auto h = e.number("hwnd")) own_windows.insert(static_cast<std::uint64_t>(*h));
    for (std::size_t i : order) {
      if (evs[i].is("cbt")) {
        const auto n = evs[i].fields.is_object() ? evs[i].fields.value("name", std::string()) : std::string();
        const auto h = evs[i].number("hwnd");
        if ((n != "create-window" && n != "destroy-window") || !h || !own_windows.contains(static_cast<std::uint64_t>(*h)))
          continue;
      }
      auto r = role.find(writer[i]);
      std::string who = r == role.end() ? "?" : r->second;
      threads[who][evs[i].tid].push_back(I.scenario_names(canonical_record(evs[i])));
    }
    for (auto& [who, by_tid] : threads) {
      std::vector<std::string> seqs;
      for (auto& [tid, recs] : by_tid) {
        std::string t = "[";
        for (std::size_t i = 0; i < recs.size(); ++i) t += (i ? ", " : "") + recs[i];
        seqs.push_back(t + "]");
      }
      std::sort(seqs.begin(), seqs.end());
      std::string line = fmt::format("records {}:", who);
      for (const auto& q : seqs) line += " " + q;
      lines.push_back(line);
    }
  }
  return lines;
}

std::map<std::string, std::size_t> Player::record_counts(const std::string& actor) {
  std::map<std::string, std::size_t> counts;
  for (const auto& e : impl_->sys.events(impl_->actor(actor)))
    if (e.kind == Event::Kind::record) ++counts[e.name];
  return counts;
}

std::optional<bool> Player::signaled(const Ref& r) {
  auto w = impl_->sys.wait(impl_->handle(r), Deadline::now());
  if (w == WaitResult::failed) return std::nullopt;
  return w == WaitResult::signaled || w == WaitResult::abandoned;
}

bool Player::defined(const std::string& name) const {
  return impl_->actors.contains(name) || impl_->handles.contains(name) || impl_->jobs.contains(name) ||
         impl_->events.contains(name) || impl_->object_names.contains(name) || impl_->pipes.contains(name) ||
         impl_->groups.contains(name);
}

bool Player::job_idle(const std::string& job) {
  auto it = impl_->jobs.find(job);
  if (it == impl_->jobs.end()) return false;
  // Idle once, and never given a process again since: a job that emptied and filled again would
  // depend on when a platform's own processes in it (a console's host) leave.
  auto msgs = impl_->sys.job_messages(it->second, Deadline::now());
  return !msgs.empty() && msgs.back().message == kJobMsgActiveProcessZero &&
         std::count_if(msgs.begin(), msgs.end(), [](const JobMessage& m) { return m.message == kJobMsgActiveProcessZero; }) == 1;
}

bool Player::window_exists(const std::string& actor, std::uint32_t k) {
  if (!impl_->actors.contains(actor)) return false;
  auto hwnd = impl_->kth(actor, impl_->actor(actor).pid, "window-created", "hwnd", k);
  return hwnd && impl_->sys.window_class(*hwnd).has_value();
}

std::optional<bool> Player::pipe_ready(const std::string& pipe) {
  auto it = impl_->pipes.find(pipe);
  if (it == impl_->pipes.end()) return std::nullopt;
  return impl_->sys.read_pipe(it->second.handle, Deadline::now()).io != System::PipeIo::timeout;
}

std::optional<std::uint32_t> Player::id_of(const Step& open_step) { return impl_->id_of(open_step); }

std::vector<std::string> Player::ended_roles(const std::string& actor) { return impl_->ended_roles(actor); }

std::vector<std::string> Player::roles_with(const std::string& actor, const std::string& ev) {
  const auto& a = impl_->actor(actor);
  const auto evs = impl_->sys.events(a);
  const auto r = roles(a, actor, evs);
  std::set<std::string> out;
  for (std::size_t i = 0; i < evs.size(); ++i)
    if (evs[i].is(ev))
      if (auto it = r.role.find(r.writer[i]); it != r.role.end()) out.insert(it->second);
  return {out.begin(), out.end()};
}

Trace run(const Scenario& s, System& system, RunOptions options) {
  auto t0 = std::chrono::steady_clock::now();
  Trace t;
  options.own_console = options.own_console || needs_console(s);
  Player p(system, options);
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    t.lines.push_back(p.step(s.steps[i]));
    if (!options.expected.empty() && (i >= options.expected.size() || t.lines.back() != options.expected[i])) {
      t.notes.push_back(fmt::format("stopped at step {}, the first that differs from the expected trace", i + 1));
      break;
    }
  }
  auto records = p.finish();
  t.lines.insert(t.lines.end(), records.begin(), records.end());
  for (auto& n : p.notes()) t.notes.push_back(std::move(n));
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace termsuite::scenario
