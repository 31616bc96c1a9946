// Runs a scenario on the model, one action per step, as the harness would on the live backend,
// and renders the timeline (text or JSON).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "termsuite/termsim/termsim.hpp"

namespace termsuite::termsim {

using sim::ObjectId;
using sim::ObjectKind;
using sim::RunState;

namespace {

std::string hex(std::uint64_t v) { return fmt::format("{:#x}", v); }

std::string exit_text(std::uint32_t code) { return code == kStillActive ? "0x103 (STILL_ACTIVE)" : hex(code); }

std::string blocked_text(sim::ThreadObj::Block b) {
  switch (b) {
    case sim::ThreadObj::Block::none: return "";
    case sim::ThreadObj::Block::object: return "object";
    case sim::ThreadObj::Block::forever: return "forever";
    case sim::ThreadObj::Block::io: return "io";
  }
  return "";
}

}  // namespace

Runner::Runner(const Scenario& scenario, sim::Mutant mutant) : scenario_(scenario), model_(mutant) {}

std::optional<std::string> Runner::process_name(ObjectId process) const {
  auto it = process_names_.find(process);
  if (it == process_names_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Runner::handle_name(std::uint64_t h) const {
  for (const auto& [key, value] : handles_)
    if (value == h) return key;
  return std::nullopt;
}

std::string Runner::describe(ObjectId id) const {
  std::string d = model_.describe(id);
  if (auto n = process_name(id)) d += fmt::format(" \"{}\"", *n);
  if (const auto* p = model_.process(id); p && p->harness) d = fmt::format("the harness (process {})", p->pid);
  return d;
}

std::optional<ObjectId> Runner::object(const Slot& s) const {
  auto it = handles_.find(s.key);
  if (it == handles_.end()) return std::nullopt;
  return model_.resolve(model_.harness_pid(), it->second);
}

std::uint32_t Runner::id_of(const IdRef& r) const {
  if (r.actor.empty()) return r.id;
  auto it = actors_.find(r.actor);  // the parser saw its start; 0 (no object) if that start failed
  if (it == actors_.end()) return 0;
  return r.kind == ObjectKind::thread ? it->second.tid : it->second.pid;
}

std::optional<ObjectId> Runner::object(const IdRef& r) const {
  const std::uint32_t id = id_of(r);
  if (r.kind == ObjectKind::process) {
    const auto* p = model_.process_by_pid(id);
    return p ? std::optional<ObjectId>(p->id) : std::nullopt;
  }
  for (const auto& [oid, t] : model_.threads())
    if (t.tid == id) return oid;
  return std::nullopt;
}

StepResult Runner::step() {
  if (finished()) throw std::logic_error("Runner::step past the end");
  const Action& a = scenario_.actions[next_++];
  StepResult r;
  r.step = static_cast<int>(next_);
  r.action = &a;
  r.t_start = model_.now();
  try {
    model_.run();
    if (a.kind == Action::Kind::expect)
      run_expect(a, r);
    else
      run_action(a, r);
  } catch (const ScenarioError&) {
    throw;
  } catch (const std::exception& e) {
    throw ScenarioError(scenario_.file, a.line, fmt::format("the simulator could not run this step: {}", e.what()));
  }
  r.t_end = model_.now();
  const auto& trace = model_.trace();
  r.trace.assign(trace.begin() + static_cast<std::ptrdiff_t>(trace_seen_), trace.end());
  trace_seen_ = trace.size();
  for (std::size_t i = 0; i < channels_.size(); ++i) {
    const auto& ch = model_.channel(channels_[i]);
    r.records.insert(r.records.end(), ch.begin() + static_cast<std::ptrdiff_t>(channel_seen_[i]), ch.end());
    channel_seen_[i] = ch.size();
  }
  r.objects = snapshot();
  return r;
}

void Runner::run_action(const Action& a, StepResult& r) {
  const std::uint32_t harness = model_.harness_pid();
  auto failed = [&](std::string why) {
    r.outcome = "failed: " + why;
    r.result = Json{{"ok", false}, {"error", why}};
  };
  auto handle = [&](const Slot& s) -> std::optional<std::uint64_t> {
    auto it = handles_.find(s.key);
    return it == handles_.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
  };
  switch (a.kind) {
    case Action::Kind::start: {
      ObjectId job = 0;
      if (a.job) {
        auto j = object(*a.job);
        if (!j || model_.kind(*j) != ObjectKind::job)
          return failed(fmt::format("{} is not an open job handle", a.job->key));
        job = *j;
      }
      const int channel = model_.new_channel();
      auto c = model_.create_process(harness, a.argv, job, channel);
      handles_[a.name + ".process"] = c.process_handle;
      handles_[a.name + ".thread"] = c.thread_handle;
      actors_[a.name] = ActorInfo{c.pid, c.tid, channel};
      if (auto obj = model_.resolve(harness, c.process_handle)) process_names_[*obj] = a.name;
      channels_.push_back(channel);
      channel_seen_.push_back(0);
      model_.run();
      r.outcome = fmt::format(
          "started process {} (main thread {}){}; the harness holds {}.process = {}, {}.thread = {}", c.pid, c.tid,
          a.job ? " in job " + a.job->key : "", a.name, hex(c.process_handle), a.name, hex(c.thread_handle));
      r.result = Json{{"ok", true},
                      {"pid", c.pid},
                      {"tid", c.tid},
                      {"process_handle", c.process_handle},
                      {"thread_handle", c.thread_handle}};
      return;
    }
    case Action::Kind::wait: {
      auto h = handle(a.slot);
      auto obj = h ? model_.resolve(harness, *h) : std::nullopt;
      if (!obj) return failed(fmt::format("WAIT_FAILED: the harness holds no handle {} (its open failed)", a.slot.key));
      const std::uint64_t t0 = model_.now();
      bool released = model_.signaled(*obj);
      if (!released) {
        int w = model_.add_waiter(*obj);
        released = model_.advance_until(t0 + a.number, [&] { return model_.waiter_released(w); });
        model_.remove_waiter(w);
      }
      const std::uint64_t after = model_.now() - t0;
      r.outcome = released ? fmt::format("signaled: {} after {} ms", a.slot.key, after)
                           : fmt::format("timeout: {} not signaled after {} ms", a.slot.key, after);
      r.result = Json{{"ok", true}, {"result", released ? "signaled" : "timeout"}, {"waited_ms", after}};
      return;
    }
    case Action::Kind::terminate: {
      auto h = handle(a.slot);
      auto obj = h ? model_.resolve(harness, *h) : std::nullopt;
      if (!obj || model_.kind(*obj) != ObjectKind::process)
        return failed(fmt::format("TerminateProcess: the harness holds no process handle {}", a.slot.key));
      const bool ok = model_.terminate_process(*obj, static_cast<std::uint32_t>(a.number), "TerminateProcess");
      model_.run();
      if (!ok) return failed(fmt::format("TerminateProcess({}, {}) returned FALSE", a.slot.key, hex(a.number)));
      r.outcome = fmt::format("TerminateProcess({}, {}) returned TRUE", a.slot.key, hex(a.number));
      r.result = Json{{"ok", true}};
      return;
    }
    case Action::Kind::close: {
      auto h = handle(a.slot);
      if (!h) return failed(fmt::format("CloseHandle: the harness holds no handle {} (its open failed)", a.slot.key));
      const bool ok = model_.close_handle(harness, *h);
      handles_.erase(a.slot.key);
      model_.run();
      if (!ok) return failed(fmt::format("CloseHandle({} = {}) returned FALSE", a.slot.key, hex(*h)));
      r.outcome = fmt::format("closed {} (handle {})", a.slot.key, hex(*h));
      r.result = Json{{"ok", true}, {"handle", *h}};
      return;
    }
    case Action::Kind::job: {
      std::uint64_t h = 0;
      ObjectId id = model_.create_job(harness, a.kill_on_close, &h);
      handles_[a.name] = h;
      model_.run();
      r.outcome = fmt::format("created job {}{}; the harness holds {} = {}", id,
                              a.kill_on_close ? " (kill on close)" : "", a.name, hex(h));
      r.result = Json{{"ok", true}, {"job", id}, {"handle", h}};
      return;
    }
    case Action::Kind::open: {
      const std::uint32_t id = id_of(a.open);
      std::uint32_t error = 0;
      auto h = model_.open_by_id(harness, a.open.kind, id, &error);
      const char* api = a.open.kind == ObjectKind::thread ? "OpenThread" : "OpenProcess";
      if (!h) {
        return failed(fmt::format("{}({}) failed with error {}{}: no {} object has that id", api, id, error,
                                  error == kErrorInvalidParameter ? " (ERROR_INVALID_PARAMETER)" : "",
                                  a.open.kind == ObjectKind::thread ? "thread" : "process"));
      }
      handles_[a.name] = *h;
      r.outcome =
          fmt::format("{}({}) opened {} as {} = {}", api, id, describe(*model_.resolve(harness, *h)), a.name, hex(*h));
      r.result = Json{{"ok", true}, {"id", id}, {"handle", *h}};
      return;
    }
    case Action::Kind::advance: {
      const std::uint64_t until = model_.now() + a.number;
      model_.advance_until(until, [] { return false; });
      r.outcome = fmt::format("virtual time advanced by {} ms, to t={} ms", a.number, model_.now());
      r.result = Json{{"ok", true}, {"t", model_.now()}};
      return;
    }
    case Action::Kind::driver_delay:
      model_.set_driver_cancel_delay(a.number);
      r.outcome = fmt::format("the driver now takes {} ms to cancel a pending I/O request", a.number);
      r.result = Json{{"ok", true}, {"ms", a.number}};
      return;
    case Action::Kind::expect: break;
  }
}

void Runner::run_expect(const Action& a, StepResult& r) {
  using P = Expectation::Property;
  const Expectation& e = a.expect;
  std::optional<ObjectId> obj;
  std::string subject;
  bool via_handle = e.subject == Expectation::Subject::handle;
  if (e.subject == Expectation::Subject::handle) {
    obj = object(e.slot);
    subject = e.slot.key;
  } else if (e.subject == Expectation::Subject::id) {
    obj = object(e.id);
    subject = e.id.actor.empty() ? e.id.text() : fmt::format("{} ({})", e.id.text(), id_of(e.id));
  }
  bool ok = false;
  std::string seen;  // what the harness saw
  std::string wanted;
  auto no_object = [&] {
    seen = via_handle ? fmt::format("the harness holds no handle {}", e.slot.key)
                      : fmt::format("no {} object has id {}", e.id.kind == ObjectKind::thread ? "thread" : "process",
                                    id_of(e.id));
  };
  switch (e.property) {
    case P::count: {
      int n = 0;
      for (const auto& [id, p] : model_.processes()) n += !p.harness && p.state == RunState::terminated;
      ok = n == static_cast<int>(e.number);
      subject = "corpses";
      wanted = fmt::format("{} corpse(s) (ended processes whose objects remain)", e.number);
      seen = fmt::format("there are {}", n);
      break;
    }
    case P::exists:
    case P::gone: {
      const bool exists = obj.has_value();
      ok = exists == (e.property == P::exists);
      wanted =
          e.property == P::exists ? "an object with this id (the id reserved)" : "no object with this id (the id free)";
      seen = exists ? fmt::format("it names {}", describe(*obj)) : "no object has it";
      break;
    }
    case P::exit_code: {
      wanted = hex(e.number);
      if (!obj) {
        no_object();
        break;
      }
      const bool thread = model_.kind(*obj) == ObjectKind::thread;
      auto code = thread ? model_.exit_code_thread(*obj) : model_.exit_code_process(*obj);
      ok = code && *code == e.number;
      seen = fmt::format("{} says {}", thread ? "GetExitCodeThread" : "GetExitCodeProcess",
                         code ? exit_text(*code) : "nothing");
      break;
    }
    case P::signaled:
    case P::unsignaled: {
      wanted = e.property == P::signaled ? "signaled" : "not signaled";
      if (!obj) {
        no_object();
        break;
      }
      const bool s = model_.signaled(*obj);
      ok = s == (e.property == P::signaled);
      seen = s ? "signaled" : "not signaled";
      break;
    }
    case P::state: {
      wanted = e.word;
      if (!obj) {
        no_object();
        break;
      }
      RunState st = model_.kind(*obj) == ObjectKind::thread ? model_.thread(*obj)->state : model_.process(*obj)->state;
      seen = std::string(sim::to_string(st));
      ok = seen == e.word;
      break;
    }
    case P::reported: {
      auto actor = actors_.find(e.actor);
      const auto& ch = model_.channel(actor == actors_.end() ? -1 : actor->second.channel);
      const auto n = static_cast<std::uint32_t>(
          std::count_if(ch.begin(), ch.end(), [&](const Event& ev) { return ev.is(e.word); }));
      ok = e.has_number ? n == e.number : n > 0;
      subject = e.actor;
      wanted = e.has_number ? fmt::format("{} '{}' record(s) on its report channel", e.number, e.word)
                            : fmt::format("a '{}' record on its report channel", e.word);
      seen = fmt::format("it reported {} '{}' record(s)", n, e.word);
      break;
    }
  }
  r.passed = ok;
  r.outcome = ok ? fmt::format("ok: {}: {}", subject, seen)
                 : fmt::format("EXPECTATION FAILED ({}:{}): {}: expected {}, but {}", scenario_.file, a.line, subject,
                               wanted, seen);
  r.result = Json{{"ok", ok}, {"subject", subject}, {"expected", wanted}, {"seen", seen}};
}

Snapshot Runner::snapshot() const {
  Snapshot s;
  const std::uint32_t harness = model_.harness_pid();
  for (const auto& [id, p] : model_.processes()) {
    ProcessState ps;
    ps.pid = p.pid;
    ps.parent_pid = p.parent_pid;
    ps.image = p.image;
    ps.harness = p.harness;
    if (auto n = process_name(id)) ps.name = *n;
    ps.state = std::string(sim::to_string(p.state));
    ps.exit_code = model_.exit_code_process(id).value_or(0);
    ps.signaled = p.signaled;
    ps.job = p.job;
    for (const auto& [h, target] : p.handles) {
      std::string what = model_.describe(target);
      if (p.pid == harness)
        if (auto n = handle_name(h)) what = *n + " -> " + what;
      ps.handles.emplace_back(h, what);
    }
    for (ObjectId t : p.threads) {
      const auto* th = model_.thread(t);
      if (!th) continue;
      ThreadState ts;
      ts.tid = th->tid;
      ts.main = th->main;
      ts.state = std::string(sim::to_string(th->state));
      ts.blocked = th->state == RunState::running ? blocked_text(th->blocked) : "";
      ts.io_pending = th->irp_pending;
      ts.exit_code = model_.exit_code_thread(t).value_or(0);
      ts.signaled = th->signaled;
      ps.threads.push_back(std::move(ts));
    }
    if (p.harness)
      s.processes.insert(s.processes.begin(), std::move(ps));
    else
      s.processes.push_back(std::move(ps));
  }
  for (const auto& [id, j] : model_.jobs()) {
    JobState js;
    js.id = id;
    for (const auto& [h, target] : model_.process_by_pid(harness)->handles)
      if (target == id)
        if (auto n = handle_name(h)) js.name = *n;
    js.kill_on_close = j.kill_on_close;
    js.closed = j.closed;
    for (ObjectId m : j.members)
      if (const auto* p = model_.process(m)) js.members.push_back(p->pid);
    s.jobs.push_back(std::move(js));
  }
  return s;
}

// ------------------------------------------------------------------------------------------
// Rendering

namespace {

// One entry per object: a stable key and its lines (so `changed` can compare them).
std::vector<std::pair<std::string, std::string>> object_lines(const Snapshot& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : s.processes) {
    if (p.harness) {
      std::string line = fmt::format("harness, process {}: ", p.pid);
      if (p.handles.empty())
        line += "holds no handles";
      else {
        line += "holds ";
        for (std::size_t i = 0; i < p.handles.size(); ++i)
          line += fmt::format("{}{} {}", i ? ", " : "", hex(p.handles[i].first), p.handles[i].second);
      }
      out.emplace_back("harness", line);
      continue;
    }
    std::string line =
        fmt::format("process {} ({}){}  {}{}  exit {}  {}  parent {}  handles {}{}", p.pid, p.image,
                    p.name.empty() ? "" : " \"" + p.name + "\"", p.state, p.state == "terminated" ? " (corpse)" : "",
                    exit_text(p.exit_code), p.signaled ? "signaled" : "unsignaled", p.parent_pid, p.handles.size(),
                    p.job ? fmt::format("  job {}", p.job) : "");
    for (const auto& t : p.threads) {
      std::string st = t.state;
      if (!t.blocked.empty()) st += ", blocked (" + t.blocked + ")";
      if (t.io_pending && t.state == "terminating") st += ", held by the driver";
      line += fmt::format("\n  thread {}{}  {}  exit {}  {}", t.tid, t.main ? " (main)" : "", st,
                          exit_text(t.exit_code), t.signaled ? "signaled" : "unsignaled");
    }
    out.emplace_back(fmt::format("p{}", p.pid), line);
  }
  for (const auto& j : s.jobs) {
    std::string members;
    for (auto m : j.members) members += fmt::format("{}{}", members.empty() ? "" : ", ", m);
    out.emplace_back(fmt::format("j{}", j.id),
                     fmt::format("job {}{}{}{}  members: {}", j.id, j.name.empty() ? "" : " \"" + j.name + "\"",
                                 j.kill_on_close ? "  kill-on-close" : "", j.closed ? "  (last handle closed)" : "",
                                 members.empty() ? "none" : members));
  }
  return out;
}

void indent(std::string& out, const std::string& text, std::string_view pad) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out += pad;
    out.append(text, pos, end - pos);
    out += '\n';
    pos = end + 1;
  }
}

std::string time_range(std::uint64_t a, std::uint64_t b) {
  return a == b ? fmt::format("t={} ms", a) : fmt::format("t={}..{} ms", a, b);
}

}  // namespace

RunSummary run_text(Runner& runner, std::string& out, const RunOptions& options) {
  RunSummary sum;
  const auto& sc = runner.scenario();
  out += fmt::format(
      "termsim run {}  ({} steps, mutant: {})\n", sc.file, runner.steps(),
      runner.model().mutant() == sim::Mutant::none ? std::string("none") : [&] {
        for (const auto& m : sim::mutants())
          if (m.id == runner.model().mutant()) return std::string(m.name);
        return std::string("?");
      }());
  std::map<std::string, std::string> previous;
  {
    Snapshot s0 = runner.snapshot();
    for (auto& [k, v] : object_lines(s0)) previous[k] = v;
  }
  while (!runner.finished()) {
    StepResult r = runner.step();
    out += fmt::format("\nstep {}  {}  line {}: {}\n", r.step, time_range(r.t_start, r.t_end), r.action->line,
                       r.action->text);
    out += fmt::format("  -> {}\n", r.outcome);
    if (r.passed) {
      ++sum.expectations;
      if (!*r.passed) ++sum.failed;
    }
    if (!r.trace.empty()) {
      out += "  what happened:\n";
      for (const auto& t : r.trace) out += fmt::format("    t={:<6} {}\n", t.time, t.text);
    }
    if (options.objects == RunOptions::Objects::none) continue;
    auto lines = object_lines(r.objects);
    std::map<std::string, std::string> now(lines.begin(), lines.end());
    std::string objects;
    // An expectation changes nothing: show only what did (nothing, normally).
    const bool changed_only = options.objects == RunOptions::Objects::changed || r.action->kind == Action::Kind::expect;
    for (const auto& [k, v] : lines) {
      if (changed_only) {
        auto it = previous.find(k);
        if (it != previous.end() && it->second == v) continue;
      }
      indent(objects, v, "    ");
    }
    if (changed_only)
      for (const auto& [k, v] : previous)
        if (!now.contains(k)) indent(objects, v.substr(0, v.find("  ")) + ": object gone", "    ");
    previous = std::move(now);
    if (!objects.empty()) out += fmt::format("  objects{}:\n{}", changed_only ? " (changed)" : "", objects);
  }
  out += fmt::format("\nend at t={} ms: {} step(s); expectations: {} passed, {} failed\n", runner.model().now(),
                     runner.steps(), sum.expectations - sum.failed, sum.failed);
  return sum;
}

Json to_json(const Snapshot& s) {
  Json processes = Json::array();
  for (const auto& p : s.processes) {
    Json threads = Json::array();
    for (const auto& t : p.threads)
      threads.push_back(Json{{"tid", t.tid},
                             {"main", t.main},
                             {"state", t.state},
                             {"blocked", t.blocked.empty() ? Json(nullptr) : Json(t.blocked)},
                             {"io_pending", t.io_pending},
                             {"exit_code", t.exit_code},
                             {"signaled", t.signaled}});
    Json handles = Json::array();
    for (const auto& [h, what] : p.handles) handles.push_back(Json{{"handle", h}, {"target", what}});
    processes.push_back(Json{{"pid", p.pid},
                             {"parent_pid", p.parent_pid},
                             {"image", p.image},
                             {"name", p.name.empty() ? Json(nullptr) : Json(p.name)},
                             {"harness", p.harness},
                             {"state", p.state},
                             {"exit_code", p.exit_code},
                             {"signaled", p.signaled},
                             {"job", p.job ? Json(p.job) : Json(nullptr)},
                             {"handles", handles},
                             {"threads", threads}});
  }
  Json jobs = Json::array();
  for (const auto& j : s.jobs)
    jobs.push_back(Json{{"id", j.id},
                        {"name", j.name.empty() ? Json(nullptr) : Json(j.name)},
                        {"kill_on_close", j.kill_on_close},
                        {"closed", j.closed},
                        {"members", j.members}});
  return Json{{"processes", processes}, {"jobs", jobs}};
}

Json to_json(const StepResult& r) {
  Json trace = Json::array();
  for (const auto& t : r.trace) trace.push_back(Json{{"t", t.time}, {"text", t.text}});
  Json records = Json::array();
  // The records as the actors wrote them (the writer's field order).
  for (const auto& e : r.records)
    records.push_back(Json::parse(e.raw, nullptr, false).is_discarded() ? Json(e.raw) : Json::parse(e.raw));
  Json j = {{"step", r.step},       {"line", r.action->line}, {"action", r.action->text},
            {"t_start", r.t_start}, {"t", r.t_end},           {"outcome", r.outcome},
            {"result", r.result},   {"trace", trace},         {"records", records}};
  if (r.passed) j["passed"] = *r.passed;
  j["objects"] = to_json(r.objects);
  return j;
}

RunSummary run_json(Runner& runner, Json& out) {
  RunSummary sum;
  Json steps = Json::array();
  while (!runner.finished()) {
    StepResult r = runner.step();
    if (r.passed) {
      ++sum.expectations;
      if (!*r.passed) ++sum.failed;
    }
    steps.push_back(to_json(r));
  }
  std::string mutant = "none";
  for (const auto& m : sim::mutants())
    if (m.id == runner.model().mutant()) mutant = m.name;
  out = Json{{"termsim", 1},
             {"command", "run"},
             {"file", runner.scenario().file},
             {"mutant", mutant},
             {"steps", steps},
             {"t", runner.model().now()},
             {"expectations", Json{{"total", sum.expectations}, {"failed", sum.failed}}},
             {"ok", sum.failed == 0}};
  return sum;
}

}  // namespace termsuite::termsim
