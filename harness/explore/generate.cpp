// The explorer's generator and the normalizer (explore.hpp; the rules: docs/explore.md).
//
// A generated scenario is deterministic by construction:
// - In a process, at most one thread runs at a time once the model has settled: a worker thread
//   ends in a block (wait-forever) or waits for an event of its own before it acts, and a main
//   thread that started threads waits for an event before it ends the process. The harness sets
//   each event only after it has awaited every record the model says exists by then.
// - Every event gates one thread; a child never waits for its parent.
// - The harness observes only what can no longer change: the normalizer waits for whatever the
//   model says has ended before it asks anything of it, and polls what the model says is blocked.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "termsuite/explore.hpp"

namespace termsuite::explore {

using scenario::Op;
using scenario::Ref;
using scenario::Scenario;
using scenario::Step;

std::uint64_t Rng::next() {
  // splitmix64: fixed arithmetic, the same numbers on every compiler and OS.
  std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

namespace {

constexpr std::uint32_t kCodes[] = {0, 1, 3, 7, 0x103, 0xBADA, 0xC000013A};

std::string code_text(std::uint32_t c) { return c < 16 ? std::to_string(c) : fmt::format("{:#x}", c); }

struct Gen {
  Gen(Rng& r, const GenOptions& o) : rng(r), opt(o) {}
  Rng& rng;
  const GenOptions& opt;
  std::vector<std::string> events;  // created, in order
  std::set<std::string> unset;      // events some thread waits for, not yet set
  struct Object {
    std::string name, type;  // type: event, section or mutex
  };
  std::vector<Object> objects;     // names an actor creates an object under
  std::size_t objects_declared = 0;
  struct PipeDecl {
    std::string name;
    bool harness_reads;  // an actor writes (write-pipe); else an actor reads it (read-pipe) and
                         // the harness never writes
  };
  std::vector<PipeDecl> pipes;
  std::size_t pipes_declared = 0;

  template <class T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[rng.below(N)];
  }

  std::string new_event() {
    std::string e = fmt::format("e{}", events.size() + 1);
    events.push_back(e);
    unset.insert(e);
    return e;
  }
  std::string new_object(const std::string& type) {
    std::string n = fmt::format("o{}", objects.size() + 1);
    objects.push_back({n, type});
    return n;
  }
  std::string new_pipe(bool harness_reads) {
    std::string n = fmt::format("p{}", pipes.size() + 1);
    pipes.push_back({n, harness_reads});
    return n;
  }

  void ending(std::vector<std::string>& v, bool main) {
    switch (rng.below(main ? 10 : 6)) {
      case 0: v.insert(v.end(), {"exit-process", code_text(pick(kCodes))}); break;
      case 1: v.insert(v.end(), {"exit-thread", code_text(pick(kCodes))}); break;
      case 2:
        v.insert(v.end(), {"terminate-self", code_text(pick(kCodes))});
        // terminate.self-does-not-return: a verb after it that must never run.
        if (rng.chance(40)) v.insert(v.end(), {"mark", "after"});
        break;
      case 3: {
        static const char* crashes[][2] = {{"av", nullptr}, {"div0", nullptr}, {"raise", "0xE0000001"},
                                            {"stack-overflow", nullptr}, {"fail-fast", nullptr}};
        auto k = rng.below(5);
        if (k == 3 && opt.skip_claims.contains("fatal.stack-overflow")) k = 4;  // a known deviation
        const auto& c = crashes[k];
        v.insert(v.end(), {"crash", c[0]});
        if (c[1]) v.push_back(c[1]);
        break;
      }
      case 4: v.insert(v.end(), {"return", code_text(pick(kCodes))}); break;
      case 5: block(v); break;
      case 6: v.push_back("abort"); break;
      case 7: v.insert(v.end(), {"exit", code_text(pick(kCodes))}); break;  // the C runtime's exit()
      default: block(v); break;
    }
  }

  // A block nothing ends but the end of the thread: a private event, or a synchronous read of a
  // pipe the harness never writes to (io.pending-cancelled).
  void block(std::vector<std::string>& v) {
    if (opt.objects && rng.chance(20)) v.insert(v.end(), {"read-pipe", "@" + new_pipe(false)});
    else v.push_back("wait-forever");
  }

  // A gate: the thread blocks until the harness sets an event, in a frame with a termination
  // handler or not.
  void gate(std::vector<std::string>& v) {
    const auto r = rng.below(10);
    if (r < 2) v.insert(v.end(), {"guarded-wait", "@" + new_event()});
    else v.insert(v.end(), {"wait-event", "@" + new_event()});
  }

  // A worker thread's block: a record or two, then a block forever, or a gate and an ending.
  std::vector<std::string> thread_body() {
    std::vector<std::string> v;
    if (rng.chance(50)) v.push_back("ready");
    // A mutex the thread owns, abandoned when it ends (terminate-thread.mutex-abandoned).
    if (opt.objects && rng.chance(35)) v.insert(v.end(), {"own-mutex", "@" + new_object("mutex")});
    if (rng.chance(60)) {
      block(v);
    } else {
      gate(v);
      ending(v, false);
    }
    return v;
  }

  // A child that ends by itself once its parent has: what a child that leaves the scenario's jobs
  // must be (no job of the run would end it).
  std::vector<std::string> self_ending_program() {
    std::vector<std::string> v;
    if (rng.chance(50)) v.push_back("ready");
    v.push_back("wait-parent");
    static const char* ends[][2] = {{"exit-process", "5"}, {"return", "7"}, {"exit", "3"}, {"terminate-self", "1"},
                                    {"crash", "av"}};
    const auto& e = ends[rng.below(5)];
    v.insert(v.end(), {e[0], e[1]});
    return v;
  }

  std::vector<std::string> messages;  // registered private messages' names (name steps)

  // The GUI actor's verbs: hidden windows only (a visible one's end waits on the window manager
  // under Wine), polite or stubborn; a listener for a private message, a broadcast of one; the
  // WH_CBT hook; then its message loop, or an exit.
  std::vector<std::string> gui_program() {
    std::vector<std::string> v;
    if (rng.chance(30)) v.push_back("cbt-hook");
    for (int k = static_cast<int>(rng.below(3)); k > 0; --k)
      v.insert(v.end(), {"window", rng.chance(50) ? "hidden-polite" : "hidden-stubborn"});
    bool listens = false;
    if (rng.chance(45)) {
      if (messages.empty() || rng.chance(40)) messages.push_back(new_object("message"));
      v.insert(v.end(), {"listen-private", "@" + messages[rng.below(static_cast<std::uint32_t>(messages.size()))]});
      listens = true;
    }
    if (!messages.empty() && rng.chance(40)) {
      // Posted to every other top-level window; `drain`: what was posted to itself has been
      // handled by the time it writes `drained` (graceful.private-message).
      v.insert(v.end(), {"broadcast-private", "@" + messages[rng.below(static_cast<std::uint32_t>(messages.size()))]});
      if (listens) v.push_back("drain");
    }
    v.push_back("ready");
    if (rng.chance(15)) v.insert(v.end(), {"exit-process", code_text(pick(kCodes))});
    return v;
  }

  // A process's verbs. `depth` 0: a child (no spawns of its own). `in_job`: the process starts in
  // a job of the scenario; `escape`: that job lets children leave it, so every child ends by itself.
  std::vector<std::string> program(int depth, bool in_job = false, bool escape = false) {
    std::vector<std::string> v;
    bool threads = false;
    const int setup = static_cast<int>(rng.below(4));
    for (int i = 0; i < setup; ++i) {
      switch (rng.below(14)) {
        case 0: v.push_back("ready"); break;
        case 1: v.insert(v.end(), {"mark", fmt::format("m{}", rng.below(3))}); break;
        case 2: {
          // The probe, often, before the first thread: what its DLL_THREAD_* calls say of how the
          // thread ends (terminate-thread.no-detach, thread-end.exit-thread-detach).
          if (!threads && opt.probe && rng.chance(35) && std::find(v.begin(), v.end(), "load-probe") == v.end())
            v.insert(v.end(), {"load-probe", "[", "]"});
          threads = true;
          v.insert(v.end(), {"thread", "["});
          auto body = thread_body();
          v.insert(v.end(), body.begin(), body.end());
          v.push_back("]");
          break;
        }
        case 3:
          if (depth > 0) {
            static const char* spawns[] = {"spawn", "spawn", "spawn-leak-thread", "spawn-group", "spawn-console"};
            std::string how = spawns[rng.below(opt.ctrl ? 5 : 3)];
            if (in_job && opt.jobs && rng.chance(40)) how = "spawn-breakaway";
            v.insert(v.end(), {how, "["});
            auto body = escape || how == "spawn-breakaway" ? self_ending_program() : program(depth - 1);
            v.insert(v.end(), body.begin(), body.end());
            v.push_back("]");
          }
          break;
        case 4:
          if (opt.ctrl) v.insert(v.end(), {"ctrl-handler", rng.chance(50) ? "true" : "false"});
          break;
        case 5:
          if (opt.ctrl) v.push_back(rng.chance(60) ? "ignore-ctrl-c" : "accept-ctrl-c");
          break;
        case 6:
          // Before any thread of its own: a thread that starts while a DLL loads may or may not get
          // its DLL_THREAD_ATTACH, as it won the race to the loader lock or not.
          if (opt.probe && !threads && std::find(v.begin(), v.end(), "load-probe") == v.end()) {
            v.insert(v.end(), {"load-probe", "["});
            const auto r = rng.below(12);
            // DLL_PROCESS_DETACH blocks until the harness sets the event: what ExitProcess has
            // signaled by then (exitprocess.*), seen from outside.
            if (r < 4) v.insert(v.end(), {"block-detach", "@" + new_event()});
            v.push_back("]");
          }
          break;
        case 7: v.push_back("atexit"); break;
        case 8: v.push_back("unhandled-filter"); break;
        case 9: v.push_back("static-object"); break;
        case 10:
          if (opt.ctrl) {
            // Handlers in the order they are called (last registered first), registered twice, or
            // taken out again: two routines, so each call's `mode` names it.
            const int n = 2 + static_cast<int>(rng.below(3));
            for (int k = 0; k < n; ++k) {
              const std::string mode = rng.chance(50) ? "true" : "false";
              v.insert(v.end(), {k > 0 && rng.chance(30) ? "remove-ctrl-handler" : "ctrl-handler", mode});
            }
          }
          break;
        case 11:
          if (opt.objects) {
            static const char* kinds[][2] = {{"create-event", "event"}, {"create-section", "section"}, {"own-mutex", "mutex"}};
            const auto& k = kinds[rng.below(3)];
            v.insert(v.end(), {k[0], "@" + new_object(k[1])});
          }
          break;
        case 12:
          if (opt.objects) v.insert(v.end(), {"write-pipe", "@" + new_pipe(true)});
          break;
        case 13:
          if (opt.probe && !threads && std::find(v.begin(), v.end(), "load-probe") == v.end())
            v.insert(v.end(), {"load-probe", "[", "]"});
          break;
      }
    }
    // A process with threads of its own ends only when the harness says so.
    if (threads || rng.chance(35)) {
      gate(v);
      // A child started once the harness has had its say (the process may have been nested in
      // another job by then: job.breakaway-chain); the parent then stays, mostly, so the child's
      // jobs can be seen at work on it.
      if (depth > 0 && in_job && opt.jobs && rng.chance(45)) {
        v.insert(v.end(), {rng.chance(60) ? "spawn-breakaway" : "spawn", "["});
        auto body = self_ending_program();
        v.insert(v.end(), body.begin(), body.end());
        v.push_back("]");
        if (rng.chance(70)) {
          block(v);
          return v;
        }
      }
    }
    ending(v, true);
    return v;
  }
};

Step make(Op op) {
  Step s;
  s.op = op;
  return s;
}

}  // namespace

Scenario generate(std::uint64_t seed, const Oracle& oracle, const GenOptions& opt) {
  Rng rng(seed);
  Gen g{rng, opt};
  Scenario intent;
  struct ActorState {
    std::string name;
    bool process_open = true, thread_open = true, new_group = false, new_console = false, spawns = false, gui = false;
  };
  std::vector<ActorState> actors;
  std::vector<std::string> opened;         // open handles from `open`
  std::vector<std::string> opened_threads;  // those that are threads (thread-of, tid-of)
  struct JobState {
    std::string name;
    bool port = false, closed = false, used = false, escape = false, kill_on_close = false;
  };
  std::vector<JobState> jobs;
  std::vector<std::pair<std::string, Ref>> waiting;  // `waiters` not joined yet
  int n_waiters = 0;
  bool ctrl_sent = false;
  bool gui_actors = false;

  auto push = [&](Step st) { intent.steps.push_back(std::move(st)); };
  auto new_job = [&] {
    Step j = make(Op::job);
    j.name = fmt::format("j{}", jobs.size() + 1);
    j.kill_on_close = rng.chance(70);
    j.breakaway_ok = rng.chance(30);
    // Silent breakaway with breakaway: whether CREATE_BREAKAWAY_FROM_JOB is allowed in a job that
    // permits silent breakaway only has no evidence (Wine 8.0 allows it, the model does not).
    j.silent_breakaway_ok = rng.chance(15);
    if (j.silent_breakaway_ok) j.breakaway_ok = true;
    j.port = rng.chance(35);
    push(j);
    jobs.push_back({j.name, j.port, false, false, j.breakaway_ok || j.silent_breakaway_ok, j.kill_on_close});
    return jobs.size() - 1;
  };
  auto open_jobs = [&] {
    std::vector<std::size_t> v;
    for (std::size_t i = 0; i < jobs.size(); ++i)
      if (!jobs[i].closed) v.push_back(i);
    return v;
  };
  // What the actors declared (events, names, pipes) exists before they start.
  auto declare = [&](std::size_t events_before) {
    for (std::size_t i = events_before; i < g.events.size(); ++i) {
      Step e = make(Op::event);
      e.name = g.events[i];
      push(e);
    }
    for (; g.objects_declared < g.objects.size(); ++g.objects_declared) {
      Step n = make(Op::name);
      n.name = g.objects[g.objects_declared].name;
      push(n);
    }
    for (; g.pipes_declared < g.pipes.size(); ++g.pipes_declared) {
      Step pp = make(Op::pipe);
      pp.name = g.pipes[g.pipes_declared].name;
      pp.event = g.pipes[g.pipes_declared].harness_reads ? "reads" : "writes";
      push(pp);
    }
  };

  auto start_actor = [&] {
    Step s = make(Op::start);
    s.name = fmt::format("a{}", actors.size() + 1);
    const std::size_t events_before = g.events.size();
    std::optional<std::size_t> job;
    bool nest = false;
    if (opt.jobs && rng.chance(40)) {
      auto open = open_jobs();
      job = open.empty() || (jobs.size() < 3 && rng.chance(30)) ? new_job() : open[rng.below(static_cast<std::uint32_t>(open.size()))];
      // The second process of a job, often nested at once in a job of its own: a chain whose
      // parent job has a process of its own (job.*-chain, job.nested-kill-on-close).
      nest = jobs[*job].used && jobs.size() < 3 && rng.chance(60);
      jobs[*job].used = true;
      s.job = jobs[*job].name;
    }
    // A GUI actor, in a scenario without console events (a GUI child attached to its creator's
    // console is Wine 8.0's known deviation).
    s.gui = opt.gui && !ctrl_sent && rng.chance(20);
    if (s.gui) {
      gui_actors = true;
      s.verbs = g.gui_program();
    } else {
      s.verbs = g.program(1, job.has_value(), job && jobs[*job].escape);
      if (opt.ctrl && rng.chance(15)) s.new_group = true;
    }
    declare(events_before);
    push(s);
    const bool spawns = std::any_of(s.verbs.begin(), s.verbs.end(), [](const std::string& v) { return v.starts_with("spawn"); });
    actors.push_back({s.name, true, true, s.new_group, s.new_console, spawns, s.gui});
    if (nest) {
      const auto inner = new_job();
      jobs[inner].used = true;
      // Often the limits of the job it nests in, so a breakaway can climb past both.
      if (rng.chance(50))
        for (auto& st : intent.steps)
          if (st.op == Op::job && st.name == jobs[inner].name) {
            st.breakaway_ok = st.silent_breakaway_ok ||
                              std::find_if(intent.steps.begin(), intent.steps.end(), [&](const Step& x) {
                                return x.op == Op::job && x.name == s.job;
                              })->breakaway_ok;
            jobs[inner].escape = st.breakaway_ok || st.silent_breakaway_ok;
          }
      Step as = make(Op::assign);
      as.name = jobs[inner].name;
      as.target = s.name;
      push(as);
    }
  };
  // OpenThread / OpenProcess of the actor's k-th thread or child, as a new handle: its name.
  auto open_kth = [&](Step::IdOf how, const std::string& actor, std::uint32_t k) {
    Step o = make(Op::open);
    o.name = fmt::format("h{}", opened.size() + 1);
    opened.push_back(o.name);
    o.id_of = how;
    o.target = actor;
    o.number = k;
    push(o);
    return o.name;
  };
  // SetEvent on one of the events some thread still waits for, drawn at random.
  auto set_some_event = [&] {
    auto it = g.unset.begin();
    std::advance(it, rng.below(static_cast<std::uint32_t>(g.unset.size())));
    Step s = make(Op::set);
    s.name = *it;
    g.unset.erase(it);
    push(s);
  };
  auto join_one = [&](std::size_t i) {
    Step j = make(Op::join);
    j.name = waiting[i].first;
    push(j);
    waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
  };
  auto has_waiters = [&](const Ref& r) {
    return std::any_of(waiting.begin(), waiting.end(), [&](const auto& w) { return w.second == r; });
  };

  const int n_actors = 1 + static_cast<int>(rng.below(static_cast<std::uint32_t>(std::max(1, opt.max_actors))));
  start_actor();
  int actions = 0;
  const int max_actions = 1 + static_cast<int>(rng.below(static_cast<std::uint32_t>(std::max(1, opt.max_actions))));
  while (actions < max_actions) {
    ++actions;
    // Threads of the harness waiting on an object are let go sooner or later.
    if (!waiting.empty() && rng.chance(30)) join_one(rng.below(static_cast<std::uint32_t>(waiting.size())));
    auto& a = actors[rng.below(static_cast<std::uint32_t>(actors.size()))];
    const std::uint32_t r = rng.below(140);
    if (r < 12 && static_cast<int>(actors.size()) < n_actors) {
      start_actor();
    } else if (r < 30 && !g.unset.empty()) {
      set_some_event();
    } else if (r < 42 && a.process_open) {
      Step s = make(Op::terminate);
      s.ref = Ref{a.name, Ref::Part::process};
      s.number = g.pick(kCodes);
      push(s);
    } else if (r < 47 && a.thread_open && !a.gui) {
      Step s = make(Op::terminate_thread);
      s.ref = Ref{a.name, Ref::Part::thread};
      s.number = g.pick(kCodes);
      push(s);
    } else if (r < 57 && (a.process_open || a.thread_open)) {
      Step s = make(Op::wait);
      s.ref = Ref{a.name, a.process_open && (!a.thread_open || rng.chance(70)) ? Ref::Part::process : Ref::Part::thread};
      push(s);
      Step e = make(Op::exit_code);
      e.ref = s.ref;
      push(e);
    } else if (r < 64 && (a.process_open || a.thread_open)) {
      Step s = make(Op::close);
      const bool process = a.process_open && (!a.thread_open || rng.chance(50));
      s.ref = Ref{a.name, process ? Ref::Part::process : Ref::Part::thread};
      if (has_waiters(s.ref)) continue;  // closing a handle others wait on is undefined
      (process ? a.process_open : a.thread_open) = false;
      push(s);
    } else if (r < 76) {
      Step s = make(Op::open);
      s.name = fmt::format("h{}", opened.size() + 1);
      const std::uint32_t how = rng.below(4);
      s.id_of = how == 0 ? Step::IdOf::pid : how == 1 ? Step::IdOf::tid : how == 2 ? Step::IdOf::child : Step::IdOf::thread;
      s.target = a.name;
      if (s.id_of == Step::IdOf::child || s.id_of == Step::IdOf::thread) s.number = 1 + rng.below(2);
      // A process opened without PROCESS_TERMINATE, then TerminateProcess through that handle.
      s.limited = s.id_of != Step::IdOf::tid && s.id_of != Step::IdOf::thread && rng.chance(25);
      opened.push_back(s.name);
      if (s.id_of == Step::IdOf::tid || s.id_of == Step::IdOf::thread) opened_threads.push_back(s.name);
      push(s);
      Step e = make(s.limited ? Op::terminate : Op::exit_code);
      e.ref = Ref{s.name, Ref::Part::handle};
      e.number = s.limited ? g.pick(kCodes) : 0;
      push(e);
      if (rng.chance(20)) {  // several harness threads waiting on it at once
        Step w = make(Op::wait_all);
        w.ref = e.ref;
        w.number = 2 + rng.below(3);
        push(w);
      }
    } else if (r < 86 && opt.ctrl && !ctrl_sent && !gui_actors) {
      // One console event a scenario: each delivery is a thread of its own in each process, whose
      // id the next may have again (where ids come back is the platform's choice), and a
      // process's records are grouped by thread.
      ctrl_sent = true;
      Step s = make(Op::ctrl);
      s.number = rng.chance(70) ? 0 : 1;  // CTRL_C_EVENT, CTRL_BREAK_EVENT
      if (a.new_group && rng.chance(70)) s.target = a.name;  // its group (it leads one)
      push(s);
    } else if (r < 89 && opt.taskkill) {
      Step s = make(Op::taskkill);
      s.target = a.name;
      s.force = true;
      s.tree = !opt.skip_claims.contains("taskkill.tree") && rng.chance(30);
      push(s);
    } else if (r < 96 && !open_jobs().empty()) {
      auto open = open_jobs();
      auto& j = jobs[open[rng.below(static_cast<std::uint32_t>(open.size()))]];
      // A job that does not kill on close is not closed: its processes would be in no job of the
      // harness's then, and the end of the scenario would wait for them a whole exit budget.
      if (rng.chance(50) || !j.kill_on_close) {
        Step s = make(Op::terminate_job);
        s.name = j.name;
        s.number = g.pick(kCodes);
        push(s);
      } else {
        if (j.port && rng.chance(50)) {
          Step m = make(Op::job_messages);
          m.name = j.name;
          push(m);
        }
        Step s = make(Op::close);
        s.ref = Ref{j.name, Ref::Part::handle};
        j.closed = true;
        push(s);
      }
    } else if (r < 100 && opt.jobs) {
      // Nesting, the documented way: an actor (in a job, or in the harness's) assigned to a job
      // nothing was ever put in, which becomes the child of the actor's job.
      std::optional<std::size_t> fresh;
      for (std::size_t i = 0; i < jobs.size(); ++i)
        if (!jobs[i].used && !jobs[i].closed) fresh = i;
      if (!fresh && jobs.size() < 3) fresh = new_job();
      if (!fresh) continue;
      jobs[*fresh].used = true;
      Step s = make(Op::assign);
      s.name = jobs[*fresh].name;
      s.target = a.name;
      push(s);
    } else if (r < 111 && opt.objects && !g.objects.empty()) {
      // A named object an actor created, opened by name: it outlives its creator while a handle
      // holds it, and goes with the last one (objects.*); a mutex its owner left is abandoned.
      // Mostly the last one declared: opened again, once its creator has gone, it tells whether
      // it outlived it.
      std::vector<const Gen::Object*> named;
      for (const auto& o : g.objects)
        if (o.type != "message") named.push_back(&o);
      if (named.empty()) continue;
      const auto& o = rng.chance(50) ? *named.back() : *named[rng.below(static_cast<std::uint32_t>(named.size()))];
      Step s = make(Op::open_named);
      s.name = fmt::format("h{}", opened.size() + 1);
      opened.push_back(s.name);
      s.event = o.type;
      s.target = o.name;
      push(s);
      const Ref h{s.name, Ref::Part::handle};
      if (o.type == "mutex") {
        // A poll that gets the mutex makes the harness its owner: it lets go at once (a second
        // wait of the owner would only count once more), and may take it again: abandonment is
        // told once.
        for (int k = 1 + static_cast<int>(rng.below(2)); k > 0; --k) {
          Step w = make(Op::poll);
          w.ref = h;
          push(w);
          Step rl = make(Op::release);
          rl.ref = h;
          push(rl);
        }
      } else if (rng.chance(50)) {
        Step c = make(Op::close);
        c.ref = h;
        push(c);
      }
    } else if (r < 114 && opt.objects && !g.pipes.empty()) {
      const auto& pp = g.pipes[rng.below(static_cast<std::uint32_t>(g.pipes.size()))];
      if (!pp.harness_reads) continue;  // the harness never writes to a pipe an actor reads
      Step s = make(Op::read_pipe);
      s.name = pp.name;
      push(s);
    } else if (r < 119 && (a.process_open || a.thread_open)) {
      // Several harness threads waiting on a process or a thread before it ends.
      Step s = make(Op::waiters);
      s.name = fmt::format("w{}", ++n_waiters);
      s.ref = Ref{a.name, a.process_open && (!a.thread_open || rng.chance(60)) ? Ref::Part::process : Ref::Part::thread};
      // A thread the actor started, opened by its id (thread-end.waiters-released).
      if (!opened_threads.empty() && rng.chance(40))
        s.ref = Ref{opened_threads[rng.below(static_cast<std::uint32_t>(opened_threads.size()))], Ref::Part::handle};
      s.number = 2 + rng.below(3);
      push(s);
      waiting.emplace_back(s.name, s.ref);
      // What may end it: a gate opened.
      if (!g.unset.empty() && rng.chance(50)) set_some_event();
    } else if (r < 125) {
      // TerminateThread on a thread the actor started, opened by its id.
      if (opened_threads.empty() || rng.chance(40)) {
        Step o = make(Op::open);
        o.name = fmt::format("h{}", opened.size() + 1);
        o.id_of = Step::IdOf::thread;
        o.target = a.name;
        o.number = 1 + rng.below(2);
        opened.push_back(o.name);
        opened_threads.push_back(o.name);
        push(o);
      }
      Step s = make(Op::terminate_thread);
      s.ref = Ref{opened_threads[rng.below(static_cast<std::uint32_t>(opened_threads.size()))], Ref::Part::handle};
      s.number = g.pick(kCodes);
      push(s);
      // The mutex a thread owned, if it was this one: abandoned (terminate-thread.mutex-abandoned).
      for (auto it = g.objects.rbegin(); it != g.objects.rend() && opt.objects; ++it) {
        if (it->type != "mutex") continue;
        Step o = make(Op::open_named);
        o.name = fmt::format("h{}", opened.size() + 1);
        opened.push_back(o.name);
        o.event = "mutex";
        o.target = it->name;
        push(o);
        Step w = make(Op::poll);
        w.ref = Ref{o.name, Ref::Part::handle};
        push(w);
        Step rl = make(Op::release);
        rl.ref = w.ref;
        push(rl);
        break;
      }
    } else if (r < 129 && a.spawns) {
      Step s = make(Op::parent);
      s.name = a.name + ">1";
      push(s);
    } else if (r < 131) {
      Step s = make(Op::shutdown);
      s.number = 0x100 + rng.below(0x300);
      push(s);
    } else if (r < 134 && opt.taskkill && !a.new_console && !a.gui) {
      // Without /f, at a console process that shares the harness's console: it owns no window,
      // so taskkill has nothing to ask it (taskkill.windowless-needs-force).
      Step s = make(Op::taskkill);
      s.target = a.name;
      push(s);
    } else if (a.gui && r >= 134) {
      // WM_CLOSE to one of its windows: a polite one goes (and with the last one, the process,
      // with PostQuitMessage's code), a stubborn one and the listener stay.
      Step s = make(Op::close_window);
      s.target = a.name;
      s.number = 1 + rng.below(2);
      push(s);
    } else if (!g.unset.empty()) {
      Step s = make(Op::set);
      s.name = *g.unset.begin();
      g.unset.erase(g.unset.begin());
      push(s);
    }
  }
  while (!waiting.empty()) join_one(0);
  // What each port job got, once its processes have ended (after TerminateJobObject, at times).
  for (auto& j : jobs) {
    if (j.closed || !j.port) continue;
    // Its actors ended one by one (TerminateProcess), at times, so the job empties.
    if (rng.chance(50))
      for (auto& a : actors) {
        const auto st = std::find_if(intent.steps.begin(), intent.steps.end(),
                                     [&](const Step& x) { return x.op == Op::start && x.name == a.name; });
        if (!a.process_open || st->job != j.name) continue;
        Step t = make(Op::terminate);
        t.ref = Ref{a.name, Ref::Part::process};
        t.number = g.pick(kCodes);
        push(t);
      }
    Step m = make(Op::job_messages);
    m.name = j.name;
    push(m);
  }
  // The digest: what each process and thread the harness still holds says at the end, and each
  // thread the actor started itself (opened by its id: the actor keeps its handle, so the id
  // still names it).
  for (const auto& a : actors) {
    const auto& verbs = std::find_if(intent.steps.begin(), intent.steps.end(), [&](const Step& st) {
                          return st.op == Op::start && st.name == a.name;
                        })->verbs;
    std::uint32_t threads = 0, children = 0;
    int depth = 0;
    for (std::size_t i = 0; i < verbs.size(); ++i) {
      if (verbs[i] == "[") ++depth;
      else if (verbs[i] == "]") --depth;
      else if (depth == 0 && verbs[i] == "thread") ++threads;
      else if (depth == 0 && verbs[i].starts_with("spawn")) ++children;
    }
    for (std::uint32_t k = 1; k <= threads; ++k) {
      Step e = make(Op::exit_code);
      e.ref = Ref{open_kth(Step::IdOf::thread, a.name, k), Ref::Part::handle};
      push(e);
    }
    if (a.spawns && rng.chance(50)) {
      Step s = make(Op::parent);
      s.name = a.name + ">1";
      push(s);
    }
    // A child that waits for its parent (it may have left every job) is ended here, while its
    // parent lives: at the end, whether it sees its parent go before its own job ends it would be
    // a race.
    const bool waits_for_parent = std::find(verbs.begin(), verbs.end(), "wait-parent") != verbs.end();
    for (std::uint32_t k = 1; waits_for_parent && k <= children; ++k) {
      Step t = make(Op::terminate);
      t.ref = Ref{open_kth(Step::IdOf::child, a.name, k), Ref::Part::handle};
      t.number = 0x7;
      push(t);
    }
    for (auto part : {Ref::Part::process, Ref::Part::thread}) {
      if (!(part == Ref::Part::process ? a.process_open : a.thread_open)) continue;
      Step w = make(Op::wait);
      w.ref = Ref{a.name, part};
      push(w);
      Step e = make(Op::exit_code);
      e.ref = w.ref;
      push(e);
    }
  }
  return normalize(intent, oracle, "", &opt.skip_claims);
}

namespace {

// The names a step uses (not those it defines).
std::vector<std::string> uses(const Step& s) {
  std::vector<std::string> u;
  switch (s.op) {
    case Op::start:
      if (!s.job.empty()) u.push_back(s.job);
      for (const auto& v : s.verbs)
        if (v.size() > 1 && v[0] == '@') u.push_back(v.substr(1));
      break;
    case Op::set:
    case Op::await:
    case Op::terminate_job:
    case Op::job_messages:
    case Op::join:
    case Op::read_pipe:
    case Op::write_pipe: u.push_back(s.name); break;
    case Op::assign: u.push_back(s.name), u.push_back(s.target); break;
    case Op::open_named: u.push_back(s.target); break;
    case Op::parent: u.push_back(s.name.substr(0, s.name.find('>'))); break;
    case Op::waiters:
    case Op::release: u.push_back(s.ref.name); break;
    case Op::wait:
    case Op::poll:
    case Op::wait_all:
    case Op::exit_code:
    case Op::terminate:
    case Op::terminate_thread:
    case Op::close: u.push_back(s.ref.name); break;
    case Op::open:
    case Op::taskkill:
    case Op::close_window: u.push_back(s.target); break;
    case Op::settle: u.push_back(s.name.substr(0, s.name.find_first_of(">."))); break;
    case Op::ctrl:
      if (!s.target.empty()) u.push_back(s.target);
      break;
    default: break;
  }
  return u;
}

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Scenario normalize(const Scenario& intent, const Oracle& oracle, const std::string& mutant,
                   const std::set<std::string>* skip_claims) {
  auto skipping = [&](std::string_view claim) { return skip_claims && skip_claims->contains(std::string(claim)); };
  auto sys = oracle.make(mutant);
  scenario::RunOptions run_options;
  run_options.own_console = scenario::needs_console(intent);
  scenario::Player player(*sys, run_options);
  Scenario out;
  std::vector<std::string> actors;
  std::set<std::string> closed;  // "a", "a.thread", handles and jobs closed so far
  std::set<std::string> settled;  // refs waited on since the model said they ended
  std::set<std::string> threads_ended;  // actors whose main thread was waited for once it ended
  bool ctrl_delivered = false;          // the step just played was a console event
  std::map<std::string, std::map<std::string, std::size_t>> counts;
  std::map<std::string, std::set<std::string>> ended;  // per actor: the roles settled
  std::map<std::string, Ref> pending;                   // `waiters` not joined yet, and what they wait on
  std::set<std::string> mutexes;                        // opened mutexes
  bool job_ended_processes = false;  // TerminateJobObject, or a job closed (kill-on-close)
  bool ctrl_sent_already = false;    // a console event was sent
  std::set<std::string> thread_handles;                 // threads opened by id

  // Whether some actor's process is blocked in DLL_PROCESS_DETACH (the probe's block-detach) and
  // has not ended yet, by the model.
  auto exiting_in_detach = [&] {
    for (const auto& a : actors) {
      auto c = player.record_counts(a);
      if (c["dllmain-blocked"] == 0) continue;
      for (const auto& r : player.roles_with(a, "dllmain-blocked")) {
        auto gone = player.ended_roles(a);
        if (std::find(gone.begin(), gone.end(), r) == gone.end()) return true;
      }
    }
    return false;
  };
  auto valid = [&](const Step& s) {
    for (const auto& n : uses(s))
      if (!player.defined(n)) return false;
    if (s.op == Op::await || s.op == Op::settle) return false;  // recomputed
    if (s.op == Op::start && std::find(actors.begin(), actors.end(), s.name) != actors.end()) return false;
    if ((s.op == Op::event || s.op == Op::job || s.op == Op::open || s.op == Op::open_named || s.op == Op::name ||
         s.op == Op::pipe || s.op == Op::waiters) &&
        player.defined(s.name))
      return false;
    if (!s.ref.name.empty() && closed.contains(s.ref.text())) return false;
    if ((s.op == Op::terminate_job || s.op == Op::assign || s.op == Op::job_messages) && closed.contains(s.name))
      return false;
    if (s.op == Op::join && !pending.contains(s.name)) return false;
    if (s.op == Op::assign && closed.contains(s.target)) return false;  // its process handle is closed
    // After a console event, no TerminateThread: the thread the system started in each process
    // for the event may still be on its way out (it wrote its last record, or none at all in a
    // process that ignores the event), so whether the terminated thread was the last one, and
    // the process ends with its code, would be a race.
    if (s.op == Op::terminate_thread && ctrl_sent_already) return false;
    // What TerminateProcess does to a process whose ExitProcess is under way (blocked in
    // DLL_PROCESS_DETACH) has no evidence: its threads' exit codes differ between the model and
    // Wine 8.0. Nothing is ended from outside while one is.
    if ((s.op == Op::terminate || s.op == Op::terminate_thread || s.op == Op::terminate_job || s.op == Op::taskkill ||
         (s.op == Op::close && s.ref.part == Ref::Part::handle &&
          std::any_of(out.steps.begin(), out.steps.end(),
                      [&](const Step& st) { return st.op == Op::job && st.name == s.ref.name; }))) &&
        exiting_in_detach())
      return false;
    // Closing a handle that harness threads wait on is undefined.
    if (s.op == Op::close)
      for (const auto& [w, r] : pending)
        if (r.text() == s.ref.text()) return false;
    if (s.op == Op::waiters && mutexes.contains(s.ref.name)) return false;  // a wait acquires a mutex
    if (s.op == Op::start && !s.job.empty() && closed.contains(s.job)) return false;
    if (s.op == Op::terminate_thread && s.ref.part != Ref::Part::thread && !thread_handles.contains(s.ref.name))
      return false;
    return true;
  };
  auto append = [&](const Step& s) {
    out.steps.push_back(s);
    return player.step(s);
  };
  // Whether the model says the process with this role (ACTOR, ACTOR>K...) has ended, or its
  // object is gone.
  auto has_ended = [&](const std::string& role) {
    const auto base = role.substr(0, role.find('>'));
    const auto gone = player.ended_roles(base);
    return ended[base].contains(role) || std::find(gone.begin(), gone.end(), role) != gone.end();
  };
  // Waiters that are not joined are taken out again: they change nothing the model plays.
  auto drop_waiters = [&](const std::string& name) {
    std::erase_if(out.steps, [&](const Step& st) { return st.op == Op::waiters && st.name == name; });
  };
  auto await_new_records = [&] {
    for (const auto& a : actors) {
      auto now = player.record_counts(a);
      auto& before = counts[a];
      for (const auto& [ev, n] : now) {
        if (before[ev] >= n) continue;
        Step w = make(Op::await);
        w.name = a;
        w.event = ev;
        w.number = static_cast<std::uint32_t>(n);
        append(w);
        before[ev] = n;
      }
      // A main thread the model says has ended (TerminateThread, ExitThread) is waited for before
      // the next step: on the platform its end may still be under way.
      if (!closed.contains(a + ".thread")) {
        Ref r{a, Ref::Part::thread};
        if (!threads_ended.contains(a) && player.signaled(r).value_or(false)) {
          Step w = make(Op::wait);
          w.ref = r;
          append(w);
          threads_ended.insert(a);
        }
      }
      // A console event's handler threads end after their last record: wait for them too.
      if (ctrl_delivered)
        for (const auto& r : player.roles_with(a, "ctrl-event")) {
          Step st = make(Op::settle);
          st.name = r + ".ctrl";
          append(st);
        }
      // What the model says has ended by now has ended on the platform before the next step
      // (its end may still be under way there, after its last record).
      for (const auto& r : player.ended_roles(a)) {
        if (!ended[a].insert(r).second) continue;
        Step st = make(Op::settle);
        st.name = r;
        append(st);
      }
    }
  };
  // Before anything is asked of a process or thread that the model says has ended, the harness
  // waits for it: on the platform its end may still be under way.
  auto settle = [&](const Ref& r) {
    if (settled.contains(r.text())) return;
    if (r.part == Ref::Part::thread && threads_ended.contains(r.name)) return;
    auto sig = player.signaled(r);
    if (sig && *sig) {
      Step w = make(Op::wait);
      w.ref = r;
      append(w);
      settled.insert(r.text());
    }
  };

  for (Step s : intent.steps) {
    s.line = 0;
    if (!valid(s)) continue;
    try {
      switch (s.op) {
        case Op::wait:
        case Op::poll: {
          if (mutexes.contains(s.ref.name)) {
            // A wait acquires a mutex: asked once, as a poll, never of the model beforehand.
            s.op = Op::poll;
            append(s);
            break;
          }
          if (settled.contains(s.ref.text())) continue;  // said already
          if (s.ref.part == Ref::Part::thread && threads_ended.contains(s.ref.name)) continue;
          auto sig = player.signaled(s.ref);
          if (!sig) continue;
          s.op = *sig ? Op::wait : Op::poll;
          append(s);
          if (*sig) settled.insert(s.ref.text());
          break;
        }
        case Op::exit_code:
        case Op::terminate:
        case Op::terminate_thread:
          // Known deviations: TerminateProcess, TerminateThread on what has ended.
          if ((s.op == Op::terminate && skipping("terminate.ended-access-denied")) ||
              (s.op == Op::terminate_thread && skipping("terminate-thread.ended-code-kept")))
            if (player.signaled(s.ref).value_or(false)) continue;
          settle(s.ref);
          append(s);
          break;
        case Op::wait_all: {
          // Only on what the model says is signaled: every waiter must be released at once.
          auto sig = player.signaled(s.ref);
          if (!sig || !*sig) continue;
          settle(s.ref);
          append(s);
          break;
        }
        case Op::open: {
          // Only an id the model says is still taken: a freed id may name another process by
          // now, on a platform where other programs run.
          auto id = player.id_of(s);
          if (!id) continue;
          auto line = append(s);
          if (!ends_with(line, ": ok")) {
            out.steps.pop_back();
            continue;
          }
          if (s.id_of == Step::IdOf::tid || s.id_of == Step::IdOf::thread) thread_handles.insert(s.name);
          break;
        }
        case Op::close:
          append(s);
          closed.insert(s.ref.text());
          if (std::any_of(out.steps.begin(), out.steps.end(),
                          [&](const Step& st) { return st.op == Op::job && st.name == s.ref.name; }))
            job_ended_processes = true;
          break;
        case Op::open_named:
          append(s);
          if (s.event == "mutex") mutexes.insert(s.name);
          break;
        case Op::waiters:
          append(s);
          pending.emplace(s.name, s.ref);
          break;
        case Op::join: {
          // Only once the model says the object is signaled: every waiter is then released. If it
          // is not, the waiters were never needed: they go, unseen.
          const Ref r = pending.at(s.name);
          pending.erase(s.name);
          auto sig = player.signaled(r);
          if (!sig || !*sig) {
            drop_waiters(s.name);
            continue;
          }
          append(s);
          break;
        }
        case Op::job_messages:
          // Only when ACTIVE_PROCESS_ZERO has come (the model says), so the answer is complete;
          // and not once a job has ended processes (TerminateJobObject, a kill-on-close job
          // closed): which messages a port gets for them has no evidence either way (Wine 8.0
          // posts no JOB_OBJECT_MSG_EXIT_PROCESS for them).
          if (!player.job_idle(s.name) || job_ended_processes) continue;
          append(s);
          break;
        case Op::terminate_job:
          append(s);
          job_ended_processes = true;
          break;
        case Op::assign:
          // Only a process that still runs: what assigning one that has ended does has no
          // evidence (Wine 8.0 refuses it with ERROR_ACCESS_DENIED).
          if (has_ended(s.target)) continue;
          append(s);
          break;
        case Op::read_pipe:
          // Only when the read returns at once (the model says): the writer has gone.
          if (!player.pipe_ready(s.name).value_or(false)) continue;
          append(s);
          break;
        case Op::close_window:
          // Only to a window the model says still exists: a destroyed window's handle may name
          // another process's window by now.
          if (!player.window_exists(s.target, s.number)) continue;
          append(s);
          break;
        case Op::parent: {
          // Only of a process that still runs: a freed id may name another process by now.
          if (has_ended(s.name)) continue;
          auto line = append(s);
          if (ends_with(line, "no such process")) {
            out.steps.pop_back();
            continue;
          }
          break;
        }
        case Op::ctrl: {
          // Not once the harness has let go of an actor's main thread: once that thread has ended,
          // its id is free, and the event's thread in that process may have it again on one
          // platform and not on another (a process's records are grouped by thread id).
          bool freed = false;
          for (const auto& a : actors) freed |= closed.contains(a + ".thread");
          if (freed) continue;
          if (s.number == 1 && skipping("ctrl.default-handler-exits")) continue;  // Ctrl+Break, known
          append(s);
          ctrl_delivered = true;
          ctrl_sent_already = true;
          break;
        }
        case Op::taskkill: {
          // Only at a live target: what taskkill says of a process that has ended but whose object
          // a handle keeps (is it still listed?) has no evidence either way.
          if (has_ended(s.target)) continue;
          append(s);
          break;
        }
        case Op::start:
          append(s);
          actors.push_back(s.name);
          break;
        default: append(s); break;
      }
    } catch (const scenario::Error&) {
      if (!out.steps.empty() && out.steps.back() == s) out.steps.pop_back();
      continue;
    }
    // Only a query leaves what has ended as it was: after anything else, wait again.
    static constexpr Op kQueries[] = {Op::exit_code, Op::wait,         Op::poll,       Op::open,   Op::wait_all,
                                      Op::job_messages, Op::open_named, Op::parent,     Op::read_pipe, Op::shutdown,
                                      Op::name,      Op::pipe,         Op::waiters,    Op::join};
    if (std::find(std::begin(kQueries), std::end(kQueries), s.op) == std::end(kQueries)) settled.clear();
    await_new_records();
    ctrl_delivered = false;
  }
  for (const auto& [w, r] : pending) drop_waiters(w);
  player.finish();
  // Steps that could not run may have taken the scenario's only console control event with them:
  // then the harness needs no console of its own, which changes what its actors share.
  if (scenario::needs_console(out) != scenario::needs_console(intent)) return normalize(out, oracle, mutant, skip_claims);
  return out;
}

int size(const Scenario& s) {
  int n = 0;
  for (const auto& st : s.steps)
    if (st.op != Op::await && st.op != Op::settle) ++n;
  return n;
}

}  // namespace termsuite::explore
