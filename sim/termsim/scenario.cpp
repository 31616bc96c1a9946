// The scenario grammar (docs/termsim.md): one action per line, words separated by blanks, a
// word that starts with '#' begins a comment. Every check that does not need the simulator is
// made here, so a bad file fails before anything runs, with FILE:LINE and what was expected.
#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "termsuite/termsim/termsim.hpp"
#include "termsuite/verbs.hpp"

namespace termsuite::termsim {

ScenarioError::ScenarioError(std::string file, int line, std::string message)
    : std::runtime_error(line > 0 ? fmt::format("{}:{}: {}", file, line, message)
                                  : fmt::format("{}: {}", file, message)),
      file_(std::move(file)),
      line_(line),
      message_(std::move(message)) {}

std::string IdRef::text() const {
  const char* what = kind == sim::ObjectKind::thread ? "tid" : "pid";
  return actor.empty() ? fmt::format("{} {}", what, id) : fmt::format("{}-of {}", what, actor);
}

namespace {

constexpr std::size_t kMaxNesting = 64;    // '[' and '{' depth in one start line
constexpr std::size_t kMaxArgv = 100'000;  // verbs in one actor's argv, after repeat
constexpr std::uint32_t kMaxRepeat = 10'000;

// A word as it may appear in a message: printable, and not too long.
std::string shown(std::string_view w) {
  std::string s;
  for (unsigned char c : w.substr(0, 40)) {
    if (c >= 0x20 && c < 0x7f)
      s += static_cast<char>(c);
    else
      s += fmt::format("\\x{:02x}", c);
  }
  if (w.size() > 40) s += "...";
  return "'" + s + "'";
}

const std::set<std::string, std::less<>> kReserved = {
    "start", "wait", "terminate", "close",  "job",     "open",          "advance", "driver-delay", "expect", "in",
    "pid",   "tid",  "pid-of",    "tid-of", "corpses", "kill-on-close", "process", "thread",       "repeat", "harness"};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Scenario parse(std::string_view text) {
    Scenario s;
    s.file = file_;
    std::size_t pos = 0;
    while (pos <= text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      ++line_;
      words_ = split(text.substr(pos, end - pos));
      at_ = 0;
      if (!words_.empty()) s.actions.push_back(action());
      pos = end + 1;
    }
    return s;
  }

 private:
  // --- words -------------------------------------------------------------------------------
  std::vector<std::string> split(std::string_view line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    line_text_.clear();
    while (i < line.size()) {
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i >= line.size() || line[i] == '#') break;
      std::size_t j = i;
      while (j < line.size() && !is_blank(line[j])) ++j;
      words.emplace_back(line.substr(i, j - i));
      i = j;
    }
    for (const auto& w : words) line_text_ += (line_text_.empty() ? "" : " ") + w;
    return words;
  }
  static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

  [[noreturn]] void fail(const std::string& message) const { throw ScenarioError(file_, line_, message); }

  bool more() const { return at_ < words_.size(); }
  const std::string& peek() const { return words_[at_]; }
  std::string next(const std::string& what) {
    if (!more()) fail(fmt::format("'{}': expected {}, but the line ends", words_[0], what));
    return words_[at_++];
  }
  void end() {
    if (more()) fail(fmt::format("'{}': unexpected {} (the action is complete before it)", words_[0], shown(peek())));
  }
  std::uint32_t number(const std::string& what) {
    std::string w = next(what);
    auto v = verbs::parse_u32(w);
    if (!v)
      fail(fmt::format("'{}': expected {} (an unsigned 32-bit number, decimal or 0x hex), got {}", words_[0], what,
                       shown(w)));
    return *v;
  }

  // --- names -------------------------------------------------------------------------------
  struct Binding {
    enum class Kind { actor, job, handle } kind{};
    sim::ObjectKind handle_kind = sim::ObjectKind::process;  // handle
    int line = 0;
    std::map<std::string, int> closed;  // slot key -> line it was closed
  };

  static bool valid_name(std::string_view n) {
    if (n.empty() || n.size() > 64) return false;
    if (!std::isalpha(static_cast<unsigned char>(n[0])) && n[0] != '_') return false;
    for (unsigned char c : n)
      if (!std::isalnum(c) && c != '_' && c != '-') return false;
    return true;
  }

  std::string new_name(const std::string& what) {
    std::string n = next(what);
    if (!valid_name(n))
      fail(fmt::format("'{}': expected {} (a letter or '_', then letters, digits, '_' or '-'), got {}", words_[0], what,
                       shown(n)));
    if (kReserved.contains(n))
      fail(fmt::format("'{}': {} cannot be named {}: that word is part of the grammar", words_[0], what, shown(n)));
    if (auto it = names_.find(n); it != names_.end())
      fail(fmt::format("'{}': the name {} is already used (line {}); pick another", words_[0], shown(n),
                       it->second.line));
    return n;
  }

  static const char* kind_name(Binding::Kind k) {
    switch (k) {
      case Binding::Kind::actor: return "an actor";
      case Binding::Kind::job: return "a job";
      case Binding::Kind::handle: return "an opened handle";
    }
    return "?";
  }

  // A reference to a harness handle. `allow`: which kinds of object the action takes.
  enum Allow { kProcess = 1, kThread = 2, kJob = 4 };
  Slot handle_ref(const std::string& what, int allow, std::string* actor = nullptr, bool bare_actor = true) {
    std::string w = next(what);
    std::string base = w, part;
    if (auto dot = w.find('.'); dot != std::string::npos) {
      base = w.substr(0, dot);
      part = w.substr(dot + 1);
      if (part != "process" && part != "thread")
        fail(
            fmt::format("'{}': expected {}; after '.' comes 'process' or 'thread', got {}", words_[0], what, shown(w)));
    }
    auto it = names_.find(base);
    if (it == names_.end()) {
      if (!valid_name(base)) fail(fmt::format("'{}': expected {}, got {}", words_[0], what, shown(w)));
      fail(fmt::format("'{}': unknown name {} (names are defined by start, job and open, before they are used)",
                       words_[0], shown(base)));
    }
    Binding& b = it->second;
    Slot s;
    if (b.kind == Binding::Kind::actor) {
      if (!(allow & (kProcess | kThread)))
        fail(fmt::format("'{}': expected {}, but {} is an actor (line {})", words_[0], what, shown(base), b.line));
      if (part.empty() && allow == kThread) part = "thread";
      if (part.empty()) {
        if (!(allow & kProcess) || !bare_actor)
          fail(fmt::format("'{}': expected {}; say {}.process or {}.thread", words_[0], what, base, base));
        part = "process";
        if (actor) *actor = base;
      }
      s.key = base + "." + part;
      s.kind = part == "thread" ? sim::ObjectKind::thread : sim::ObjectKind::process;
    } else {
      if (!part.empty())
        fail(fmt::format("'{}': {} is {} (line {}), it has no .{}", words_[0], shown(base), kind_name(b.kind), b.line,
                         part));
      s.key = base;
      s.kind = b.kind == Binding::Kind::job ? sim::ObjectKind::job : b.handle_kind;
    }
    int needed = s.kind == sim::ObjectKind::process ? kProcess : s.kind == sim::ObjectKind::thread ? kThread : kJob;
    if (!(allow & needed)) {
      const char* k = s.kind == sim::ObjectKind::process  ? "a process"
                      : s.kind == sim::ObjectKind::thread ? "a thread"
                                                          : "a job";
      fail(fmt::format("'{}': expected {}, but {} is {} handle", words_[0], what, shown(w), k));
    }
    if (auto c = b.closed.find(s.key); c != b.closed.end())
      fail(fmt::format("'{}': {} was closed at line {}; the harness no longer holds it", words_[0], s.key, c->second));
    return s;
  }

  std::string actor_ref(const std::string& what) {
    std::string n = next(what);
    auto it = names_.find(n);
    if (it == names_.end() || it->second.kind != Binding::Kind::actor)
      fail(fmt::format(
          "'{}': expected {}, got {}{}", words_[0], what, shown(n),
          it == names_.end() ? " (no actor has that name)" : fmt::format(", which is {}", kind_name(it->second.kind))));
    return n;
  }

  // pid N | tid N | pid-of NAME | tid-of NAME; `w` is the keyword already read.
  IdRef id_ref(const std::string& w) {
    IdRef r;
    r.kind = w.starts_with("tid") ? sim::ObjectKind::thread : sim::ObjectKind::process;
    if (w == "pid" || w == "tid")
      r.id = number(fmt::format("a {} after '{}'", w == "pid" ? "process id" : "thread id", w));
    else
      r.actor = actor_ref(fmt::format("an actor's name after '{}'", w));
    return r;
  }
  static bool is_id_word(std::string_view w) { return w == "pid" || w == "tid" || w == "pid-of" || w == "tid-of"; }

  // --- actions ------------------------------------------------------------------------------
  Action action() {
    Action a;
    a.line = line_;
    a.text = line_text_;
    const std::string kw = next("an action");
    if (kw == "start") return start(a);
    if (kw == "wait") {
      a.kind = Action::Kind::wait;
      a.slot = handle_ref("a process or thread to wait on (NAME, NAME.process, NAME.thread or an opened handle)",
                          kProcess | kThread);
      a.number = more() ? number("a timeout in virtual milliseconds") : kDefaultWaitMs;
      end();
      return a;
    }
    if (kw == "terminate") {
      a.kind = Action::Kind::terminate;
      a.slot = handle_ref("a process to terminate (NAME, NAME.process or an opened process handle)", kProcess);
      a.number = number("an exit code");
      end();
      return a;
    }
    if (kw == "close") {
      a.kind = Action::Kind::close;
      a.slot = handle_ref("a handle to close (NAME.process, NAME.thread, a job or an opened handle)",
                          kProcess | kThread | kJob, nullptr, false);
      end();
      names_.at(a.slot.key.substr(0, a.slot.key.find('.'))).closed[a.slot.key] = line_;
      return a;
    }
    if (kw == "job") {
      a.kind = Action::Kind::job;
      a.name = new_name("a name for the job");
      if (more()) {
        std::string w = next("kill-on-close");
        if (w != "kill-on-close")
          fail(fmt::format("'job': expected 'kill-on-close' or the end of the line, got {}", shown(w)));
        a.kill_on_close = true;
      }
      end();
      names_[a.name] = Binding{Binding::Kind::job, sim::ObjectKind::job, line_, {}};
      return a;
    }
    if (kw == "open") {
      a.kind = Action::Kind::open;
      a.name = new_name("a name for the handle");
      std::string w = next("pid N, tid N, pid-of NAME or tid-of NAME");
      if (!is_id_word(w))
        fail(fmt::format("'open': expected pid N, tid N, pid-of NAME or tid-of NAME, got {}", shown(w)));
      a.open = id_ref(w);
      end();
      names_[a.name] = Binding{Binding::Kind::handle, a.open.kind, line_, {}};
      return a;
    }
    if (kw == "advance") {
      a.kind = Action::Kind::advance;
      a.number = number("a time in virtual milliseconds");
      end();
      return a;
    }
    if (kw == "driver-delay") {
      a.kind = Action::Kind::driver_delay;
      a.number = number("the driver's cancel time in virtual milliseconds");
      end();
      return a;
    }
    if (kw == "expect") return expect(a);
    fail(fmt::format(
        "expected an action (start, wait, terminate, close, job, open, advance, driver-delay, expect), got {}",
        shown(kw)));
  }

  Action start(Action& a) {
    a.kind = Action::Kind::start;
    a.name = new_name("a name for the actor");
    if (more() && peek() == "in") {
      ++at_;
      a.job = handle_ref("a job after 'in'", kJob);
    }
    std::vector<std::string> rest(words_.begin() + static_cast<std::ptrdiff_t>(at_), words_.end());
    at_ = words_.size();
    bool repeated = false;
    a.argv = expand(rest, repeated);
    try {
      verbs::parse(a.argv);
    } catch (const verbs::UsageError& e) {
      fail(fmt::format("'start': the actor would reject its verbs{}: {} (see docs/actors.md)",
                       repeated ? " (counted after repeat expansion)" : "", e.message));
    }
    names_[a.name] = Binding{Binding::Kind::actor, sim::ObjectKind::process, line_, {}};
    return a;
  }

  // termsim's one piece of sugar: `repeat N { VERB... }` is the verbs N times over. The actor
  // gets plain verbs; braces are not part of its language.
  std::vector<std::string> expand(const std::vector<std::string>& w, bool& repeated) {
    std::size_t depth = 0;
    for (const auto& x : w) {
      if (x == "[" || x == "{") {
        if (++depth > kMaxNesting) fail(fmt::format("'start': brackets nest deeper than {}", kMaxNesting));
      } else if ((x == "]" || x == "}") && depth > 0) {
        --depth;
      }
    }
    std::size_t i = 0;
    auto out = expand_block(w, i, false, repeated);
    return out;
  }

  std::vector<std::string> expand_block(const std::vector<std::string>& w, std::size_t& i, bool inner, bool& repeated) {
    std::vector<std::string> out;
    while (i < w.size()) {
      if (w[i] == "}") {
        if (!inner) fail("'start': '}' without a matching 'repeat N {'");
        ++i;
        return out;
      }
      if (w[i] == "{") fail("'start': '{' must follow 'repeat N'");
      if (w[i] != "repeat") {
        out.push_back(w[i++]);
        if (out.size() > kMaxArgv) fail(fmt::format("'start': more than {} verbs", kMaxArgv));
        continue;
      }
      repeated = true;
      ++i;
      if (i >= w.size()) fail("'start': expected a count after 'repeat', but the line ends");
      auto n = verbs::parse_u32(w[i]);
      if (!n || *n > kMaxRepeat)
        fail(fmt::format("'start': expected a count from 0 to {} after 'repeat', got {}", kMaxRepeat, shown(w[i])));
      ++i;
      if (i >= w.size() || w[i] != "{")
        fail(fmt::format("'start': expected '{{' after 'repeat {}'{}", *n,
                         i < w.size() ? ", got " + shown(w[i]) : ", but the line ends"));
      ++i;
      auto body = expand_block(w, i, true, repeated);  // consumes the matching '}', or fails
      if (static_cast<std::uint64_t>(body.size()) * *n + out.size() > kMaxArgv)
        fail(fmt::format("'start': more than {} verbs after repeat expansion", kMaxArgv));
      for (std::uint32_t k = 0; k < *n; ++k) out.insert(out.end(), body.begin(), body.end());
    }
    if (inner) fail("'start': 'repeat N {' without a matching '}'");
    return out;
  }

  Action expect(Action& a) {
    a.kind = Action::Kind::expect;
    Expectation& e = a.expect;
    std::string w =
        next("what to check: NAME, NAME.process, NAME.thread, pid N, tid N, pid-of NAME, tid-of NAME or corpses");
    if (w == "corpses") {
      e.subject = Expectation::Subject::corpses;
      e.property = Expectation::Property::count;
      e.number = number("the number of corpses");
      end();
      return a;
    }
    if (is_id_word(w)) {
      e.subject = Expectation::Subject::id;
      e.id = id_ref(w);
    } else if (at_ < words_.size() && words_[at_] == "reported") {
      // The actor's report channel: no handle needed (it may be closed already).
      --at_;
      if (w.find('.') != std::string::npos)
        fail(
            "'expect': 'reported' takes an actor's plain name (its report channel), not a .process/.thread or opened "
            "handle");
      e.subject = Expectation::Subject::handle;
      e.actor = actor_ref("an actor's name before 'reported'");
      e.slot = Slot{e.actor + ".process", sim::ObjectKind::process};
    } else {
      --at_;
      e.subject = Expectation::Subject::handle;
      e.slot = handle_ref(
          "what to check: NAME, NAME.process, NAME.thread, pid N, tid N, pid-of NAME, tid-of NAME or corpses",
          kProcess | kThread, &e.actor);
    }
    const bool by_id = e.subject == Expectation::Subject::id;
    std::string p =
        next(by_id ? "a property: exists, gone, exit-code CODE, signaled, unsignaled or state STATE"
                   : "a property: exit-code CODE, signaled, unsignaled, state STATE or reported EVENT [COUNT]");
    using P = Expectation::Property;
    if (p == "exit-code") {
      e.property = P::exit_code;
      e.number = number("an exit code");
    } else if (p == "signaled") {
      e.property = P::signaled;
    } else if (p == "unsignaled") {
      e.property = P::unsignaled;
    } else if (p == "state") {
      e.property = P::state;
      e.word = next("running, terminating or terminated");
      if (e.word != "running" && e.word != "terminating" && e.word != "terminated")
        fail(fmt::format("'expect': expected running, terminating or terminated after 'state', got {}", shown(e.word)));
    } else if ((p == "exists" || p == "gone") && by_id) {
      e.property = p == "exists" ? P::exists : P::gone;
    } else if (p == "reported" && !by_id) {
      if (e.actor.empty())
        fail(
            "'expect': 'reported' takes an actor's plain name (its report channel), not a .process/.thread or opened "
            "handle");
      e.property = P::reported;
      e.word = next("an event name (start, ready, spawned, ...)");
      if (more()) {
        e.number = number("how many records of that event");
        e.has_number = true;
      }
    } else if (p == "exists" || p == "gone") {
      fail(
          "'expect': 'exists' and 'gone' take pid N, tid N, pid-of NAME or tid-of NAME (a handle always names an "
          "object)");
    } else if (p == "reported") {
      fail("'expect': 'reported' takes an actor's name, not an id");
    } else {
      fail(fmt::format("'expect': expected {}, got {}",
                       by_id ? "exists, gone, exit-code CODE, signaled, unsignaled or state STATE"
                             : "exit-code CODE, signaled, unsignaled, state STATE or reported EVENT [COUNT]",
                       shown(p)));
    }
    end();
    return a;
  }

  std::string file_;
  int line_ = 0;
  std::vector<std::string> words_;
  std::string line_text_;
  std::size_t at_ = 0;
  std::map<std::string, Binding> names_;
};

}  // namespace

Scenario parse_scenario(std::string_view text, const std::string& file) { return Parser(file).parse(text); }

Scenario load_scenario(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ScenarioError(path, 0, "is a directory, not a scenario file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path, 0, "cannot open the scenario file");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw ScenarioError(path, 0, "cannot read the scenario file");
  std::string text = s.str();
  if (text.size() > 16 * 1024 * 1024) throw ScenarioError(path, 0, "the scenario file is larger than 16 MiB");
  return parse_scenario(text, path);
}

}  // namespace termsuite::termsim
