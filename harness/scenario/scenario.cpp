// The scenario language (scenario.hpp): parsing, checking and the canonical text.
#include <fmt/format.h>

#include <map>
#include <set>

#include "termsuite/scenario.hpp"
#include "termsuite/gui_verbs.hpp"
#include "termsuite/verbs.hpp"

namespace termsuite::scenario {

Error::Error(const std::string& file, int line, const std::string& message)
    : std::runtime_error(line > 0 ? fmt::format("{}:{}: {}", file, line, message) : fmt::format("{}: {}", file, message)),
      line_(line) {}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::start: return "start";
    case Op::job: return "job";
    case Op::event: return "event";
    case Op::set: return "set";
    case Op::await: return "await";
    case Op::wait: return "wait";
    case Op::poll: return "poll";
    case Op::exit_code: return "exit-code";
    case Op::terminate: return "terminate";
    case Op::terminate_thread: return "terminate-thread";
    case Op::terminate_job: return "terminate-job";
    case Op::close: return "close";
    case Op::open: return "open";
    case Op::ctrl: return "ctrl";
    case Op::taskkill: return "taskkill";
    case Op::settle: return "settle";
    case Op::wait_all: return "wait-all";
    case Op::assign: return "assign";
    case Op::job_messages: return "job-messages";
    case Op::waiters: return "waiters";
    case Op::join: return "join";
    case Op::name: return "name";
    case Op::open_named: return "open-named";
    case Op::release: return "release";
    case Op::pipe: return "pipe";
    case Op::read_pipe: return "read-pipe";
    case Op::write_pipe: return "write-pipe";
    case Op::parent: return "parent-of";
    case Op::shutdown: return "shutdown";
    case Op::close_window: return "close-window";
  }
  return "?";
}

std::string Ref::text() const {
  switch (part) {
    case Part::process: return name;
    case Part::thread: return name + ".thread";
    case Part::handle: return name;
  }
  return name;
}

std::string Step::text() const {
  std::string t{op_name(op)};
  auto add = [&](std::string_view w) {
    t += ' ';
    t += w;
  };
  switch (op) {
    case Op::start:
      add(name);
      if (gui) add("gui");
      if (new_group) add("new-group");
      if (new_console) add("new-console");
      if (!job.empty()) add("in"), add(job);
      for (const auto& v : verbs) add(v);
      break;
    case Op::job:
      add(name);
      if (kill_on_close) add("kill-on-close");
      if (breakaway_ok) add("breakaway-ok");
      if (silent_breakaway_ok) add("silent-breakaway-ok");
      if (port) add("port");
      break;
    case Op::assign: add(name), add(target); break;
    case Op::job_messages:
    case Op::join:
    case Op::name:
    case Op::read_pipe:
    case Op::write_pipe:
    case Op::parent: add(name); break;
    case Op::waiters: add(name), add(ref.text()), add(std::to_string(number)); break;
    case Op::open_named: add(name), add(event), add(target); break;
    case Op::release: add(ref.text()); break;
    case Op::pipe: add(name), add(event); break;
    case Op::shutdown: add(fmt::format("{:#x}", number)); break;
    case Op::close_window: add(target), add(std::to_string(number)); break;
    case Op::event: add(name); break;
    case Op::set: add(name); break;
    case Op::await: add(name), add(event), add(std::to_string(number)); break;
    case Op::wait:
    case Op::poll:
    case Op::exit_code:
    case Op::close: add(ref.text()); break;
    case Op::terminate:
    case Op::terminate_thread: add(ref.text()), add(fmt::format("{:#x}", number)); break;
    case Op::terminate_job: add(name), add(fmt::format("{:#x}", number)); break;
    case Op::open:
      add(name);
      add(id_of == IdOf::pid ? "pid-of" : id_of == IdOf::tid ? "tid-of" : id_of == IdOf::child ? "child-of" : "thread-of");
      add(target);
      if (id_of == IdOf::child || id_of == IdOf::thread) add(std::to_string(number));
      if (limited) add("limited");
      break;
    case Op::settle: add(name); break;
    case Op::wait_all: add(ref.text()), add(std::to_string(number)); break;
    case Op::taskkill:
      add(target);
      if (tree) add("tree");
      if (force) add("force");
      break;
    case Op::ctrl:
      add(std::to_string(number));
      if (target.empty()) add("0");
      else add("pid-of"), add(target);
      break;
  }
  return t;
}

std::string Scenario::text() const {
  std::string t{kHeader};
  t += '\n';
  for (const auto& s : steps) t += s.text() + '\n';
  return t;
}

namespace {

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  if (!(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

const std::set<std::string, std::less<>> kWords = {"start", "job",   "event",     "set",  "await",  "wait", "poll",
                                                    "exit-code", "terminate", "terminate-thread", "terminate-job",
                                                    "close", "open", "ctrl", "taskkill", "settle", "wait-all", "thread-of", "limited", "tree", "force", "in", "pid-of", "tid-of", "child-of",
                                                    "new-group", "new-console", "kill-on-close", "breakaway-ok",
                                                    "silent-breakaway-ok", "port", "assign", "job-messages", "waiters",
                                                    "join", "name", "open-named", "release", "pipe", "read-pipe",
                                                    "write-pipe", "parent-of", "shutdown", "close-window", "gui", "reads", "writes", "mutex", "section"};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Scenario parse(std::string_view text) {
    Scenario s;
    std::size_t pos = 0;
    while (pos <= text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      ++line_;
      split(text.substr(pos, end - pos));
      if (!words_.empty()) s.steps.push_back(step());
      pos = end + 1;
    }
    return s;
  }

 private:
  enum class Kind { actor, job, event, handle, waiters, object, pipe };
  struct Name {
    Kind kind;
    bool process_closed = false, thread_closed = false, closed = false;
  };

  void split(std::string_view line) {
    words_.clear();
    at_ = 0;
    std::size_t i = 0;
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (i < line.size()) {
      while (i < line.size() && blank(line[i])) ++i;
      if (i >= line.size() || line[i] == '#') break;
      std::size_t j = i;
      while (j < line.size() && !blank(line[j])) ++j;
      words_.emplace_back(line.substr(i, j - i));
      i = j;
    }
  }
  [[noreturn]] void fail(const std::string& m) const { throw Error(file_, line_, m); }
  bool more() const { return at_ < words_.size(); }
  std::string next(std::string_view what) {
    if (!more()) fail(fmt::format("'{}': expected {}, but the line ends", words_[0], what));
    return words_[at_++];
  }
  void end() {
    if (more()) fail(fmt::format("'{}': unexpected '{}'", words_[0], words_[at_]));
  }
  std::uint32_t number(std::string_view what) {
    auto w = next(what);
    auto v = verbs::parse_u32(w);
    if (!v) fail(fmt::format("'{}': expected {} (a number), got '{}'", words_[0], what, w));
    return *v;
  }
  std::string define(Kind k) {
    auto n = next("a name");
    if (!valid_name(n) || kWords.contains(n)) fail(fmt::format("'{}' is not a usable name", n));
    if (names_.contains(n)) fail(fmt::format("'{}' is defined twice", n));
    names_[n] = Name{k};
    return n;
  }
  Name& use(const std::string& n, Kind k, std::string_view what) {
    auto it = names_.find(n);
    if (it == names_.end() || it->second.kind != k) fail(fmt::format("'{}': expected {}, got '{}'", words_[0], what, n));
    return it->second;
  }
  Ref ref(bool closing) {
    auto w = next("a handle");
    Ref r;
    auto dot = w.find('.');
    std::string base = w.substr(0, dot);
    auto it = names_.find(base);
    if (it == names_.end()) fail(fmt::format("'{}': '{}' names nothing", words_[0], w));
    Name& n = it->second;
    if (n.kind == Kind::actor) {
      r.name = base;
      std::string part = dot == std::string::npos ? "process" : w.substr(dot + 1);
      if (part == "process") r.part = Ref::Part::process;
      else if (part == "thread") r.part = Ref::Part::thread;
      else fail(fmt::format("'{}': '{}' is not NAME.process or NAME.thread", words_[0], w));
      bool& closed = r.part == Ref::Part::process ? n.process_closed : n.thread_closed;
      if (closed) fail(fmt::format("'{}': '{}' was closed", words_[0], w));
      if (closing) closed = true;
    } else if (n.kind == Kind::handle || (closing && n.kind == Kind::job)) {
      if (dot != std::string::npos) fail(fmt::format("'{}': '{}' has no parts", words_[0], w));
      if (n.closed) fail(fmt::format("'{}': '{}' was closed", words_[0], w));
      r.name = base;
      r.part = Ref::Part::handle;
      if (closing) n.closed = true;
    } else {
      fail(fmt::format("'{}': '{}' is not a handle", words_[0], w));
    }
    return r;
  }

  Step step() {
    Step s;
    s.line = line_;
    const std::string op = next("a step");
    if (op == "start") {
      s.op = Op::start;
      s.name = define(Kind::actor);
      while (more()) {
        const auto& w = words_[at_];
        if (w == "gui") s.gui = true, ++at_;
        else if (w == "new-group") s.new_group = true, ++at_;
        else if (w == "new-console") s.new_console = true, ++at_;
        else if (w == "in") {
          ++at_;
          s.job = next("a job");
          if (use(s.job, Kind::job, "a job").closed) fail(fmt::format("job '{}' was closed", s.job));
        } else break;
      }
      while (more()) {
        auto w = next("a verb");
        if (w.size() > 1 && w[0] == '@') {
          auto it = names_.find(w.substr(1));
          if (it == names_.end() ||
              (it->second.kind != Kind::event && it->second.kind != Kind::object && it->second.kind != Kind::pipe))
            fail(fmt::format("'{}': '{}' names no event, name or pipe", words_[0], w));
        }
        s.verbs.push_back(std::move(w));
      }
      try {
        if (s.gui) gui_verbs::parse(s.verbs);
        else verbs::parse(s.verbs);
      } catch (const verbs::UsageError& e) {
        fail(fmt::format("start {}: {}", s.name, e.message));
      } catch (const gui_verbs::UsageError& e) {
        fail(fmt::format("start {}: {}", s.name, e.message));
      }
    } else if (op == "job") {
      s.op = Op::job;
      s.name = define(Kind::job);
      while (more()) {
        auto w = next("an option");
        if (w == "kill-on-close") s.kill_on_close = true;
        else if (w == "breakaway-ok") s.breakaway_ok = true;
        else if (w == "silent-breakaway-ok") s.silent_breakaway_ok = true;
        else if (w == "port") s.port = true;
        else fail(fmt::format("job: unknown option '{}'", w));
      }
    } else if (op == "assign" || op == "job-messages") {
      s.op = op == "assign" ? Op::assign : Op::job_messages;
      s.name = next("a job");
      if (use(s.name, Kind::job, "a job").closed) fail(fmt::format("job '{}' was closed", s.name));
      if (s.op == Op::assign) {
        s.target = next("an actor");
        use(s.target, Kind::actor, "an actor");
      }
    } else if (op == "waiters") {
      s.op = Op::waiters;
      s.name = define(Kind::waiters);
      s.ref = ref(false);
      s.number = number("how many waiters");
      if (s.number < 1 || s.number > 8) fail("waiters: from 1 to 8 waiters");
    } else if (op == "join") {
      s.op = Op::join;
      s.name = next("waiters");
      auto& w = use(s.name, Kind::waiters, "waiters");
      if (w.closed) fail(fmt::format("join: '{}' joined already", s.name));
      w.closed = true;
    } else if (op == "name") {
      s.op = Op::name;
      s.name = define(Kind::object);
    } else if (op == "open-named") {
      s.op = Op::open_named;
      s.name = define(Kind::handle);
      s.event = next("event, section or mutex");
      if (s.event != "event" && s.event != "section" && s.event != "mutex")
        fail(fmt::format("open-named: expected event, section or mutex, got '{}'", s.event));
      s.target = next("a name");
      use(s.target, Kind::object, "a name");
    } else if (op == "release") {
      s.op = Op::release;
      s.ref = ref(false);
      if (s.ref.part != Ref::Part::handle) fail("release: expected an opened mutex");
    } else if (op == "pipe") {
      s.op = Op::pipe;
      s.name = define(Kind::pipe);
      s.event = next("reads or writes");
      if (s.event != "reads" && s.event != "writes") fail(fmt::format("pipe: expected reads or writes, got '{}'", s.event));
    } else if (op == "read-pipe" || op == "write-pipe") {
      s.op = op == "read-pipe" ? Op::read_pipe : Op::write_pipe;
      s.name = next("a pipe");
      use(s.name, Kind::pipe, "a pipe");
    } else if (op == "close-window") {
      s.op = Op::close_window;
      s.target = next("an actor");
      use(s.target, Kind::actor, "an actor");
      s.number = number("which window (1 = the first it created)");
      if (s.number == 0) fail("close-window: windows count from 1");
    } else if (op == "shutdown") {
      s.op = Op::shutdown;
      s.number = number("a shutdown level");
    } else if (op == "parent-of") {
      s.op = Op::parent;
      s.name = next("a process's role (ACTOR or ACTOR>K...)");
      use(s.name.substr(0, s.name.find('>')), Kind::actor, "an actor's role");
    } else if (op == "event") {
      s.op = Op::event;
      s.name = define(Kind::event);
    } else if (op == "set") {
      s.op = Op::set;
      s.name = next("an event");
      use(s.name, Kind::event, "an event");
    } else if (op == "await") {
      s.op = Op::await;
      s.name = next("an actor");
      use(s.name, Kind::actor, "an actor");
      s.event = next("a record's name");
      s.number = number("a count");
    } else if (op == "wait" || op == "poll" || op == "exit-code" || op == "close") {
      s.op = op == "wait" ? Op::wait : op == "poll" ? Op::poll : op == "exit-code" ? Op::exit_code : Op::close;
      s.ref = ref(s.op == Op::close);
    } else if (op == "terminate" || op == "terminate-thread") {
      s.op = op == "terminate" ? Op::terminate : Op::terminate_thread;
      s.ref = ref(false);
      s.number = number("an exit code");
    } else if (op == "terminate-job") {
      s.op = Op::terminate_job;
      s.name = next("a job");
      if (use(s.name, Kind::job, "a job").closed) fail(fmt::format("job '{}' was closed", s.name));
      s.number = number("an exit code");
    } else if (op == "open") {
      s.op = Op::open;
      s.name = define(Kind::handle);
      auto how = next("pid-of, tid-of, child-of or thread-of");
      if (how == "pid-of") s.id_of = Step::IdOf::pid;
      else if (how == "tid-of") s.id_of = Step::IdOf::tid;
      else if (how == "child-of") s.id_of = Step::IdOf::child;
      else if (how == "thread-of") s.id_of = Step::IdOf::thread;
      else fail(fmt::format("open: expected pid-of, tid-of, child-of or thread-of, got '{}'", how));
      s.target = next("an actor");
      use(s.target, Kind::actor, "an actor");
      if (s.id_of == Step::IdOf::child) s.number = number("which child (1 = the first)");
      if (s.id_of == Step::IdOf::thread) s.number = number("which thread (1 = the first it started)");
      if (more()) {
        auto w = next("limited");
        if (w != "limited") fail(fmt::format("open: unexpected '{}'", w));
        if (s.id_of == Step::IdOf::tid || s.id_of == Step::IdOf::thread) fail("open: limited is for processes");
        s.limited = true;
      }
    } else if (op == "ctrl") {
      s.op = Op::ctrl;
      s.number = number("an event type");
      auto g = next("a group");
      if (g == "pid-of") {
        s.target = next("an actor");
        use(s.target, Kind::actor, "an actor");
      } else if (g != "0") {
        fail(fmt::format("ctrl: the group is 0 or pid-of ACTOR, got '{}'", g));
      }
    } else if (op == "wait-all") {
      s.op = Op::wait_all;
      s.ref = ref(false);
      s.number = number("how many waiters");
      if (s.number < 1 || s.number > 8) fail("wait-all: from 1 to 8 waiters");
    } else if (op == "settle") {
      s.op = Op::settle;
      s.name = next("a process's role (ACTOR or ACTOR>K...), or one of its threads (ROLE.tK)");
      const auto base = s.name.substr(0, s.name.find_first_of(">."));
      use(base, Kind::actor, "an actor's role");
      const auto dot = s.name.find('.');
      if (dot != std::string::npos && s.name.substr(dot) != ".ctrl") {
        auto k = s.name.compare(dot, 2, ".t") == 0 ? verbs::parse_u32(s.name.substr(dot + 2)) : std::nullopt;
        if (!k || *k == 0)
          fail(fmt::format("settle: '{}' is not ROLE.tK (the K-th thread the process started) or ROLE.ctrl", s.name));
      }
      const std::string role = s.name.substr(0, dot);
      for (std::size_t i = base.size(); i < role.size();) {
        std::size_t j = role.find('>', i + 1);
        if (j == std::string::npos) j = role.size();
        auto k = verbs::parse_u32(role.substr(i + 1, j - i - 1));
        if (role[i] != '>' || !k || *k == 0) fail(fmt::format("settle: '{}' is not a role (ACTOR>K>...)", s.name));
        i = j;
      }
    } else if (op == "taskkill") {
      s.op = Op::taskkill;
      s.target = next("an actor");
      use(s.target, Kind::actor, "an actor");
      while (more()) {
        auto w = next("an option");
        if (w == "tree" && !s.tree) s.tree = true;
        else if (w == "force" && !s.force) s.force = true;
        else fail(fmt::format("taskkill: expected tree or force, got '{}'", w));
      }
    } else {
      fail(fmt::format("unknown step '{}'", op));
    }
    end();
    return s;
  }

  std::string file_;
  int line_ = 0;
  std::vector<std::string> words_;
  std::size_t at_ = 0;
  std::map<std::string, Name, std::less<>> names_;
};

}  // namespace

Scenario parse(std::string_view text, const std::string& file) { return Parser(file).parse(text); }

}  // namespace termsuite::scenario
