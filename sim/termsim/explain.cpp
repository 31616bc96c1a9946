// The question of Raymond Chen's "Why are there all these processes lingering near death", answered from the model: for every process that has ended (or is ending)
// while its object remains, what keeps it, recursively, from Model::keepers(). termsim adds only
// its reading of each reason (a leaked PROCESS_INFORMATION.hThread, a name from the scenario);
// the reasons themselves are the model's.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "termsuite/termsim/termsim.hpp"

namespace termsuite::termsim {

using sim::ObjectId;
using sim::ObjectKind;
using sim::RunState;

namespace {

class Explainer {
 public:
  explicit Explainer(const Runner& r) : runner_(r), m_(r.model()) {
    // When each process ended, and how it was told to, from the trace (the last line wins: a
    // process id may have named an earlier process, long gone).
    for (const auto& line : m_.trace()) {
      if (auto at = line.text.find(" has ended with "); at != std::string::npos)
        ended_[line.text.substr(0, at)] = line.time;
      if (auto at = line.text.find(" terminating ("); at != std::string::npos) {
        auto close = line.text.find("), exit code", at);
        if (close != std::string::npos)
          terminating_[line.text.substr(0, at)] = {line.time, line.text.substr(at + 14, close - at - 14)};
      }
    }
  }

  Corpse corpse(const sim::ProcessObj& p) {
    Corpse c;
    c.pid = p.pid;
    c.parent_pid = p.parent_pid;
    c.state = std::string(sim::to_string(p.state));
    c.exit_code = p.state == RunState::terminated ? p.exit_code : p.pending_exit_code;
    if (auto n = runner_.process_name(p.id)) c.name = *n;
    c.description = runner_.describe(p.id);
    if (c.name.empty()) {
      if (const auto* parent = m_.process_by_pid(p.parent_pid))
        c.description += fmt::format(", spawned by {}", runner_.describe(parent->id));
      else
        c.description += fmt::format(", spawned by process {} (gone)", p.parent_pid);
    }
    const std::string key = m_.describe(p.id);
    if (p.state == RunState::terminated) {
      if (auto it = ended_.find(key); it != ended_.end()) c.since = it->second;
    } else if (auto it = terminating_.find(key); it != terminating_.end()) {
      c.since = it->second.first;
    }
    if (auto it = terminating_.find(key); it != terminating_.end()) c.how = it->second.second;
    for (ObjectId t : p.threads)
      if (const auto* th = m_.thread(t)) c.thread_ids.push_back(th->tid);
    c.keepers = reasons(p.id, 0);
    std::vector<std::string> causes;
    for (const auto& r : c.keepers) summarize(r, causes);
    for (const auto& s : causes) c.cause += (c.cause.empty() ? "" : "; ") + s;
    if (c.cause.empty()) c.cause = "nothing: it is about to go";
    return c;
  }

 private:
  std::vector<Reason> reasons(ObjectId id, int depth) {
    std::vector<Reason> out;
    if (depth > 8) return out;  // the model's chains are short; never loop
    // The handles that refer to `id`, by the model's wording of them.
    std::map<std::string, std::pair<ObjectId, std::uint64_t>> handles;
    for (const auto& [oid, p] : m_.processes())
      for (const auto& [h, target] : p.handles)
        if (target == id) handles[fmt::format("handle {:#x} in {}", h, m_.describe(oid))] = {oid, h};
    for (const sim::Keeper& k : m_.keepers(id)) {
      Reason r;
      r.text = k.reason;
      if (k.via) {
        r.kind = Reason::Kind::thread;
        r.because = reasons(k.via, depth + 1);
        if (r.because.empty()) r.note = "nothing keeps that thread object: it is about to go";
      } else if (auto it = handles.find(k.reason); it != handles.end()) {
        handle_reason(r, id, it->second.first, it->second.second);
      } else if (k.reason.starts_with("a driver holds")) {
        r.kind = Reason::Kind::driver;
        r.note = "the thread cannot finish ending until the driver completes the cancelled request";
      } else if (k.reason == "it is still terminating") {
        r.kind = Reason::Kind::terminating;
        r.note = "a process finishes ending only when its last thread has";
      } else if (k.reason == "it is still running") {
        r.kind = Reason::Kind::running;
      } else if (k.reason.ends_with(" is in it")) {
        r.kind = Reason::Kind::job_member;
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  void handle_reason(Reason& r, ObjectId target, ObjectId holder_id, std::uint64_t h) {
    const auto* holder = m_.process(holder_id);
    r.kind = Reason::Kind::handle;
    r.text = fmt::format("handle {:#x} in {}", h, runner_.describe(holder_id));  // the model's words, with the name
    r.holder_pid = holder->pid;
    r.handle = h;
    if (holder->harness) {
      auto n = runner_.handle_name(h);
      r.holder_name = n.value_or("");
      r.note = n ? fmt::format("held by the harness as {} (the scenario's `close {}` releases it)", *n, *n)
                 : "held by the harness";
      return;
    }
    r.holder_name = runner_.process_name(holder_id).value_or("");
    const auto* th = m_.thread(target);
    const auto* owner = th ? m_.process(th->process) : nullptr;
    if (th && th->main && owner && owner->parent_pid == holder->pid) {
      // Raymond Chen's "Why are there all these processes lingering near death": the launcher's CreateProcess returned hProcess and hThread; it closed hProcess
      // (spawn-leak-thread closes only that one) and never hThread.
      r.leaked_thread_handle = true;
      r.note = fmt::format("leaked: the PROCESS_INFORMATION.hThread of its CreateProcess of process {}, never closed",
                           owner->pid);
    } else {
      bool waiting = false;
      for (ObjectId t : holder->threads)
        if (const auto* w = m_.thread(t); w && w->blocked == sim::ThreadObj::Block::object && w->wait_handle == h)
          waiting = true;
      r.note = waiting ? "opened by its wait-pid; closed when the wait ends" : "an open handle";
    }
    Reason state;
    state.kind = Reason::Kind::holder;
    std::string how;
    for (ObjectId t : holder->threads)
      if (const auto* w = m_.thread(t); w && w->state == RunState::running) {
        std::string b = w->blocked == sim::ThreadObj::Block::forever  ? "blocked in wait-forever"
                        : w->blocked == sim::ThreadObj::Block::object ? "blocked in a wait"
                        : w->blocked == sim::ThreadObj::Block::io     ? "blocked in I/O"
                                                                      : "runnable";
        how += fmt::format("{}thread {} {}", how.empty() ? "" : ", ", w->tid, b);
      }
    state.text = fmt::format("{} is {}{}", runner_.describe(holder_id), sim::to_string(holder->state),
                             how.empty() ? "" : " (" + how + ")");
    state.note = "a process keeps its handles until it closes them or ends";
    r.because.push_back(std::move(state));
  }

  // The root causes of a corpse, worded without per-corpse numbers, so that corpses kept the
  // same way group together.
  void summarize(const Reason& r, std::vector<std::string>& out) {
    auto add = [&](std::string s) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    };
    switch (r.kind) {
      case Reason::Kind::thread: {
        std::vector<std::string> inner;
        for (const auto& b : r.because) summarize(b, inner);
        for (auto& s : inner) add("its thread object is kept by " + s);
        if (inner.empty()) add("a thread object of it, about to go");
        break;
      }
      case Reason::Kind::handle: {
        const auto* holder = m_.process_by_pid(r.holder_pid);
        std::string who = holder ? runner_.describe(holder->id) : fmt::format("process {}", r.holder_pid);
        if (holder && holder->harness)
          add(fmt::format("the harness's handle {}", r.holder_name.empty() ? "(unnamed)" : r.holder_name));
        else if (r.leaked_thread_handle)
          add(fmt::format("a PROCESS_INFORMATION.hThread handle that {} leaked", who));
        else
          add(fmt::format("a handle in {} ({})", who, r.note));
        break;
      }
      case Reason::Kind::driver: add("a driver holding its pending I/O request"); break;
      case Reason::Kind::terminating: break;  // the threads say why
      case Reason::Kind::running: add("it is running"); break;
      case Reason::Kind::job_member:
      case Reason::Kind::holder:
      case Reason::Kind::other: add(r.text); break;
    }
  }

  const Runner& runner_;
  const sim::Model& m_;
  std::map<std::string, std::uint64_t> ended_;
  std::map<std::string, std::pair<std::uint64_t, std::string>> terminating_;
};

std::string hex(std::uint64_t v) { return fmt::format("{:#x}", v); }

std::string count(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// "112, 120, 128, ... 1704" for long lists.
std::string id_list(const std::vector<std::uint32_t>& ids) {
  std::string s;
  const std::size_t n = ids.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (n > 12 && i == 8) {
      s += fmt::format(", ... ({} more), {}", n - 9, ids.back());
      break;
    }
    s += fmt::format("{}{}", i ? ", " : "", ids[i]);
  }
  return s;
}

void render_reason(std::string& out, const Reason& r, int depth) {
  std::string pad(static_cast<std::size_t>(2 + 2 * depth), ' ');
  std::string line = pad + r.text;
  if (!r.because.empty() && r.kind == Reason::Kind::thread) line += ", because:";
  if (!r.note.empty()) line += "   <- " + r.note;
  out += line + "\n";
  for (const auto& b : r.because) render_reason(out, b, depth + 1);
}

Json reason_json(const Reason& r) {
  static const char* kinds[] = {"running", "terminating", "handle", "thread",
                                "driver",  "job-member",  "holder", "other"};
  Json j = {{"kind", kinds[static_cast<int>(r.kind)]}, {"text", r.text}};
  if (!r.note.empty()) j["note"] = r.note;
  if (r.kind == Reason::Kind::handle) {
    j["holder_pid"] = r.holder_pid;
    j["handle"] = r.handle;
    j["holder_name"] = r.holder_name.empty() ? Json(nullptr) : Json(r.holder_name);
    j["leaked_thread_handle"] = r.leaked_thread_handle;
  }
  Json because = Json::array();
  for (const auto& b : r.because) because.push_back(reason_json(b));
  j["because"] = because;
  return j;
}

}  // namespace

Explanation explain(const Runner& runner) {
  Explanation e;
  e.file = runner.scenario().file;
  e.step = runner.done();
  e.steps = runner.steps();
  if (e.step > 0) {
    const auto& a = runner.scenario().actions[e.step - 1];
    e.line = a.line;
    e.action = a.text;
  }
  e.t = runner.model().now();
  Explainer x(runner);
  for (const auto& [id, p] : runner.model().processes()) {
    if (p.harness || p.state == RunState::running) continue;
    e.corpses.push_back(x.corpse(p));
  }
  return e;
}

std::string render_text(const Explanation& e) {
  std::string out;
  out += fmt::format(
      "termsim explain {}: at step {} of {}{}, t={} ms\n", e.file, e.step, e.steps,
      e.step ? fmt::format(" (line {}: {})", e.line, e.action) : std::string(" (before the first action)"), e.t);
  std::vector<const Corpse*> ended, ending;
  for (const auto& c : e.corpses) (c.state == "terminated" ? ended : ending).push_back(&c);
  if (e.corpses.empty()) {
    out += "\nNo process has ended with its object left behind: there are no corpses here.\n";
    return out;
  }
  out += "\n";
  if (!ended.empty())
    out += fmt::format("{} ended, but {} ({}).\n", count(ended.size(), "process has", "processes have"),
                       ended.size() == 1 ? "its object remains" : "their objects remain",
                       ended.size() == 1 ? "a corpse" : "corpses");
  if (!ending.empty())
    out += fmt::format("{} been told to end but {} not finished ending.\n",
                       count(ending.size(), "process has", "processes have"), ending.size() == 1 ? "has" : "have");

  // Why, grouped by root cause.
  std::vector<std::pair<std::string, std::size_t>> groups;
  for (const auto& c : e.corpses) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == c.cause; });
    if (it == groups.end())
      groups.emplace_back(c.cause, 1);
    else
      ++it->second;
  }
  out += e.corpses.size() == 1 ? "\nWhat keeps it, in short:\n" : "\nWhat keeps them, in short:\n";
  for (const auto& [cause, n] : groups) out += fmt::format("  {}: {}\n", count(n, "process", "processes"), cause);

  std::vector<std::uint32_t> pids, tids;
  for (const auto& c : e.corpses) {
    pids.push_back(c.pid);
    tids.insert(tids.end(), c.thread_ids.begin(), c.thread_ids.end());
  }
  out += "\nWhile such an object exists its id stays reserved: no new process or thread gets it.\n";
  out += fmt::format("  {} reserved: {}\n", count(pids.size(), "process id", "process ids"), id_list(pids));
  out += fmt::format("  {} reserved:  {}\n", count(tids.size(), "thread id", "thread ids"),
                     tids.empty() ? "none" : id_list(tids));

  out += "\nEach one:\n";
  for (const auto& c : e.corpses) {
    const bool done = c.state == "terminated";
    const std::string& how = c.how;
    std::string when = c.since ? fmt::format(" at t={} ms", *c.since) : "";
    if (done)
      out += fmt::format("\n{}{} ended{} with exit code {}{}, but its object remains:\n", c.description,
                         c.name.empty() ? "," : "", how.empty() ? "" : " (" + how + ")", hex(c.exit_code), when);
    else
      out += fmt::format("\n{}{} is ending{} with exit code {}, since t={} ms, and has not finished:\n", c.description,
                         c.name.empty() ? "," : "", how.empty() ? "" : " (" + how + ")", hex(c.exit_code),
                         c.since.value_or(0));
    if (c.keepers.empty()) out += "  nothing keeps it: its object is about to go\n";
    for (const auto& r : c.keepers) render_reason(out, r, 0);
  }
  return out;
}

Json to_json(const Explanation& e) {
  Json corpses = Json::array();
  for (const auto& c : e.corpses) {
    Json keepers = Json::array();
    for (const auto& r : c.keepers) keepers.push_back(reason_json(r));
    corpses.push_back(Json{{"pid", c.pid},
                           {"parent_pid", c.parent_pid},
                           {"name", c.name.empty() ? Json(nullptr) : Json(c.name)},
                           {"description", c.description},
                           {"state", c.state},
                           {"how", c.how},
                           {"exit_code", c.exit_code},
                           {"since", c.since ? Json(*c.since) : Json(nullptr)},
                           {"thread_ids", c.thread_ids},
                           {"cause", c.cause},
                           {"keepers", keepers}});
  }
  return Json{{"termsim", 1},   {"command", "explain"}, {"file", e.file}, {"step", e.step},    {"steps", e.steps},
              {"line", e.line}, {"action", e.action},   {"t", e.t},       {"corpses", corpses}};
}

}  // namespace termsuite::termsim
