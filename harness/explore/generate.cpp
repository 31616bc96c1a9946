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
  Rng& rng;
  const GenOptions& opt;
  std::vector<std::string> events;  // created, in order
  std::set<std::string> unset;      // events some thread waits for, not yet set

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

  void ending(std::vector<std::string>& v, bool main) {
    switch (rng.below(main ? 10 : 6)) {
      case 0: v.insert(v.end(), {"exit-process", code_text(pick(kCodes))}); break;
      case 1: v.insert(v.end(), {"exit-thread", code_text(pick(kCodes))}); break;
      case 2: v.insert(v.end(), {"terminate-self", code_text(pick(kCodes))}); break;
      case 3: {
        static const char* crashes[][2] = {{"av", nullptr}, {"div0", nullptr}, {"raise", "0xE0000001"},
                                            {"stack-overflow", nullptr}, {"fail-fast", nullptr}};
        const auto& c = crashes[rng.below(5)];
        v.insert(v.end(), {"crash", c[0]});
        if (c[1]) v.push_back(c[1]);
        break;
      }
      case 4: v.insert(v.end(), {"return", code_text(pick(kCodes))}); break;
      case 5: v.push_back("wait-forever"); break;
      case 6: v.push_back("abort"); break;
      case 7: v.insert(v.end(), {"exit", code_text(pick(kCodes))}); break;  // the C runtime's exit()
      default: v.push_back("wait-forever"); break;
    }
  }

  // A worker thread's block: a record or two, then a block forever, or a gate and an ending.
  std::vector<std::string> thread_body() {
    std::vector<std::string> v;
    if (rng.chance(50)) v.push_back("ready");
    if (rng.chance(60)) {
      v.push_back("wait-forever");
    } else {
      v.insert(v.end(), {"wait-event", "@" + new_event()});
      ending(v, false);
    }
    return v;
  }

  // A process's verbs. `depth` 0: a child (no spawns of its own).
  std::vector<std::string> program(int depth) {
    std::vector<std::string> v;
    bool threads = false;
    const int setup = static_cast<int>(rng.below(3));
    for (int i = 0; i < setup; ++i) {
      switch (rng.below(11)) {
        case 0: v.push_back("ready"); break;
        case 1: v.insert(v.end(), {"mark", fmt::format("m{}", rng.below(3))}); break;
        case 2: {
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
            const char* how = spawns[rng.below(opt.ctrl ? 5 : 3)];
            v.insert(v.end(), {how, "["});
            auto body = program(depth - 1);
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
          if (opt.probe && !threads && std::find(v.begin(), v.end(), "load-probe") == v.end())
            v.insert(v.end(), {"load-probe", "[", "]"});
          break;
        case 7: v.push_back("atexit"); break;
        case 8: v.push_back("unhandled-filter"); break;
        case 9: v.push_back("static-object"); break;
        case 10:
          if (opt.ctrl) {
            // A handler registered twice, or registered and taken out again.
            const std::string mode = rng.chance(50) ? "true" : "false";
            v.insert(v.end(), {"ctrl-handler", mode, rng.chance(50) ? "ctrl-handler" : "remove-ctrl-handler", mode});
          }
          break;
      }
    }
    // A process with threads of its own ends only when the harness says so.
    if (threads || rng.chance(35)) v.insert(v.end(), {"wait-event", "@" + new_event()});
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
  Gen g{rng, opt, {}, {}};
  Scenario intent;
  struct ActorState {
    std::string name;
    bool process_open = true, thread_open = true, new_group = false;
  };
  std::vector<ActorState> actors;
  std::vector<std::string> opened;  // open handles from `open`
  std::string job;                  // the scenario's job, if any (open)
  bool ctrl_sent = false;
  bool job_closed = false;

  auto start_actor = [&] {
    Step s = make(Op::start);
    s.name = fmt::format("a{}", actors.size() + 1);
    const std::size_t events_before = g.events.size();
    s.verbs = g.program(1);
    if (opt.ctrl && rng.chance(15)) s.new_group = true;
    if (opt.jobs && rng.chance(20)) {
      if (job.empty()) {
        job = "j1";
        Step j = make(Op::job);
        j.name = job;
        j.kill_on_close = rng.chance(70);
        intent.steps.push_back(j);
      }
      if (!job_closed) s.job = job;
    }
    // The events the actor will wait for exist before it starts.
    for (std::size_t i = events_before; i < g.events.size(); ++i) {
      Step e = make(Op::event);
      e.name = g.events[i];
      intent.steps.push_back(e);
    }
    intent.steps.push_back(s);
    actors.push_back({s.name, true, true, s.new_group});
  };

  const int n_actors = 1 + static_cast<int>(rng.below(static_cast<std::uint32_t>(std::max(1, opt.max_actors))));
  start_actor();
  int actions = 0;
  const int max_actions = 1 + static_cast<int>(rng.below(static_cast<std::uint32_t>(std::max(1, opt.max_actions))));
  while (actions < max_actions) {
    ++actions;
    auto& a = actors[rng.below(static_cast<std::uint32_t>(actors.size()))];
    const std::uint32_t r = rng.below(100);
    if (r < 12 && static_cast<int>(actors.size()) < n_actors) {
      start_actor();
    } else if (r < 30 && !g.unset.empty()) {
      auto it = g.unset.begin();
      std::advance(it, rng.below(static_cast<std::uint32_t>(g.unset.size())));
      Step s = make(Op::set);
      s.name = *it;
      g.unset.erase(it);
      intent.steps.push_back(s);
    } else if (r < 42 && a.process_open) {
      Step s = make(Op::terminate);
      s.ref = Ref{a.name, Ref::Part::process};
      s.number = g.pick(kCodes);
      intent.steps.push_back(s);
    } else if (r < 47 && a.thread_open) {
      Step s = make(Op::terminate_thread);
      s.ref = Ref{a.name, Ref::Part::thread};
      s.number = g.pick(kCodes);
      intent.steps.push_back(s);
    } else if (r < 57 && (a.process_open || a.thread_open)) {
      Step s = make(Op::wait);
      s.ref = Ref{a.name, a.process_open && (!a.thread_open || rng.chance(70)) ? Ref::Part::process : Ref::Part::thread};
      intent.steps.push_back(s);
      Step e = make(Op::exit_code);
      e.ref = s.ref;
      intent.steps.push_back(e);
    } else if (r < 64 && (a.process_open || a.thread_open)) {
      Step s = make(Op::close);
      const bool process = a.process_open && (!a.thread_open || rng.chance(50));
      s.ref = Ref{a.name, process ? Ref::Part::process : Ref::Part::thread};
      (process ? a.process_open : a.thread_open) = false;
      intent.steps.push_back(s);
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
      intent.steps.push_back(s);
      Step e = make(s.limited ? Op::terminate : Op::exit_code);
      e.ref = Ref{s.name, Ref::Part::handle};
      e.number = s.limited ? g.pick(kCodes) : 0;
      intent.steps.push_back(e);
      if (rng.chance(20)) {  // several harness threads waiting on it at once
        Step w = make(Op::wait_all);
        w.ref = e.ref;
        w.number = 2 + rng.below(3);
        intent.steps.push_back(w);
      }
    } else if (r < 86 && opt.ctrl && !ctrl_sent) {
      // One console event a scenario: each delivery is a thread of its own in each process, whose
      // id the next may have again (where ids come back is the platform's choice), and a
      // process's records are grouped by thread.
      ctrl_sent = true;
      Step s = make(Op::ctrl);
      s.number = rng.chance(70) ? 0 : 1;  // CTRL_C_EVENT, CTRL_BREAK_EVENT
      if (a.new_group && rng.chance(70)) s.target = a.name;  // its group (it leads one)
      intent.steps.push_back(s);
    } else if (r < 89 && opt.taskkill) {
      // Only /f: a graceful taskkill's outcome hangs on windows and consoles the grammar does not
      // draw yet.
      Step s = make(Op::taskkill);
      s.target = a.name;
      s.force = true;
      s.tree = rng.chance(30);
      intent.steps.push_back(s);
    } else if (r < 93 && !job.empty() && !job_closed) {
      if (rng.chance(50)) {
        Step s = make(Op::terminate_job);
        s.name = job;
        s.number = g.pick(kCodes);
        intent.steps.push_back(s);
      } else {
        Step s = make(Op::close);
        s.ref = Ref{job, Ref::Part::handle};
        job_closed = true;
        intent.steps.push_back(s);
      }
    } else if (!g.unset.empty()) {
      Step s = make(Op::set);
      s.name = *g.unset.begin();
      g.unset.erase(g.unset.begin());
      intent.steps.push_back(s);
    }
  }
  // The digest: what each process and thread the harness still holds says at the end, and each
  // thread the actor started itself (opened by its id: the actor keeps its handle, so the id
  // still names it).
  for (const auto& a : actors) {
    const auto& verbs = std::find_if(intent.steps.begin(), intent.steps.end(), [&](const Step& st) {
                          return st.op == Op::start && st.name == a.name;
                        })->verbs;
    std::uint32_t threads = 0;
    int depth = 0;
    for (std::size_t i = 0; i < verbs.size(); ++i) {
      if (verbs[i] == "[") ++depth;
      else if (verbs[i] == "]") --depth;
      else if (depth == 0 && verbs[i] == "thread") ++threads;
    }
    for (std::uint32_t k = 1; k <= threads; ++k) {
      Step o = make(Op::open);
      o.name = fmt::format("h{}", opened.size() + 1);
      opened.push_back(o.name);
      o.id_of = Step::IdOf::thread;
      o.target = a.name;
      o.number = k;
      intent.steps.push_back(o);
      Step e = make(Op::exit_code);
      e.ref = Ref{o.name, Ref::Part::handle};
      intent.steps.push_back(e);
    }
    for (auto part : {Ref::Part::process, Ref::Part::thread}) {
      if (!(part == Ref::Part::process ? a.process_open : a.thread_open)) continue;
      Step w = make(Op::wait);
      w.ref = Ref{a.name, part};
      intent.steps.push_back(w);
      Step e = make(Op::exit_code);
      e.ref = w.ref;
      intent.steps.push_back(e);
    }
  }
  return normalize(intent, oracle);
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
    case Op::terminate_job: u.push_back(s.name); break;
    case Op::wait:
    case Op::poll:
    case Op::wait_all:
    case Op::exit_code:
    case Op::terminate:
    case Op::terminate_thread:
    case Op::close: u.push_back(s.ref.name); break;
    case Op::open:
    case Op::taskkill: u.push_back(s.target); break;
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

Scenario normalize(const Scenario& intent, const Oracle& oracle, const std::string& mutant) {
  auto sys = oracle.make(mutant);
  scenario::Player player(*sys, scenario::RunOptions{.own_console = scenario::needs_console(intent)});
  Scenario out;
  std::vector<std::string> actors;
  std::set<std::string> closed;  // "a", "a.thread", handles and jobs closed so far
  std::set<std::string> settled;  // refs waited on since the model said they ended
  std::set<std::string> threads_ended;  // actors whose main thread was waited for once it ended
  bool ctrl_delivered = false;          // the step just played was a console event
  std::map<std::string, std::map<std::string, std::size_t>> counts;
  std::map<std::string, std::set<std::string>> ended;  // per actor: the roles settled

  auto valid = [&](const Step& s) {
    for (const auto& n : uses(s))
      if (!player.defined(n)) return false;
    if (s.op == Op::await || s.op == Op::settle) return false;  // recomputed
    if (s.op == Op::start && std::find(actors.begin(), actors.end(), s.name) != actors.end()) return false;
    if ((s.op == Op::event || s.op == Op::job || s.op == Op::open) && player.defined(s.name)) return false;
    if (!s.ref.name.empty() && closed.contains(s.ref.text())) return false;
    if (s.op == Op::terminate_job && closed.contains(s.name)) return false;
    if (s.op == Op::start && !s.job.empty() && closed.contains(s.job)) return false;
    if (s.op == Op::terminate_thread && s.ref.part != Ref::Part::thread) return false;
    return true;
  };
  auto append = [&](const Step& s) {
    out.steps.push_back(s);
    return player.step(s);
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
          break;
        }
        case Op::close:
          append(s);
          closed.insert(s.ref.text());
          break;
        case Op::ctrl: {
          // Not once the harness has let go of an actor's main thread: once that thread has ended,
          // its id is free, and the event's thread in that process may have it again on one
          // platform and not on another (a process's records are grouped by thread id).
          bool freed = false;
          for (const auto& a : actors) freed |= closed.contains(a + ".thread");
          if (freed) continue;
          append(s);
          ctrl_delivered = true;
          break;
        }
        case Op::taskkill: {
          // Only at a live target: what taskkill says of a process that has ended but whose object
          // a handle keeps (is it still listed?) has no evidence either way.
          auto gone = player.ended_roles(s.target);
          if (std::find(gone.begin(), gone.end(), s.target) != gone.end()) continue;
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
    if (s.op != Op::exit_code && s.op != Op::wait && s.op != Op::poll && s.op != Op::open &&
        s.op != Op::wait_all) settled.clear();
    await_new_records();
    ctrl_delivered = false;
  }
  player.finish();
  // Steps that could not run may have taken the scenario's only console control event with them:
  // then the harness needs no console of its own, which changes what its actors share.
  if (scenario::needs_console(out) != scenario::needs_console(intent)) return normalize(out, oracle, mutant);
  return out;
}

int size(const Scenario& s) {
  int n = 0;
  for (const auto& st : s.steps)
    if (st.op != Op::await && st.op != Op::settle) ++n;
  return n;
}

}  // namespace termsuite::explore
