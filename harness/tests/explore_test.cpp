// The scenario language and the explorer, on the simulator: the parser's errors and canonical
// text, the generator's determinism and validity, the Player's trace, compare's signatures,
// shrink and triage against a mutant standing in for the platform, and what the expectations
// already know.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "termsuite/explore.hpp"
#include "termsuite/scenario.hpp"
#include "termsuite/sim/sim_system.hpp"

namespace termsuite {
namespace {

using explore::Oracle;
using scenario::Scenario;
using scenario::Trace;

// The model as the explorer sees it: a fresh SimSystem per question, each mutant by its name.
Oracle sim_oracle() {
  Oracle o;
  o.make = [](const std::string& mutant) -> std::unique_ptr<System> {
    auto m = sim::find_mutant(mutant);
    if (!m) throw std::runtime_error("no mutant " + mutant);
    return std::make_unique<sim::SimSystem>(*m);
  };
  for (const auto& m : sim::mutants()) o.mutants.push_back({std::string(m.name), std::string(m.claim), std::string(m.wrong_rule)});
  o.consulted = [](System& s) {
    std::vector<std::string> out;
    for (const auto& m : sim::mutants())
      if (static_cast<sim::SimSystem&>(s).model().consulted().test(static_cast<std::size_t>(m.id))) out.emplace_back(m.name);
    return out;
  };
  return o;
}

std::string file(const std::string& body) { return std::string(scenario::kHeader) + "\n" + body; }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

Trace play(const std::string& body, const std::string& mutant = "none") {
  sim::SimSystem sys(*sim::find_mutant(mutant));
  return scenario::run(scenario::parse(file(body)), sys);
}

// ------------------------------------------------------------------------------------------
// The parser

struct BadInput {
  std::string body;  // after the header (line 1)
  int line;
  std::string says;  // a part of the message
};

TEST(Scenario, ParserErrorsNameTheLineAndTheProblem) {
  const std::vector<BadInput> cases = {
      {"frobnicate a", 2, "unknown step 'frobnicate'"},
      {"# a comment\n\n   \t\nwait a", 5, "'wait': 'a' names nothing"},
      {"start a ready\nstart a ready", 3, "'a' is defined twice"},
      {"job j\nevent j", 3, "'j' is defined twice"},
      {"start a ready\nopen a pid-of a", 3, "'a' is defined twice"},
      {"set e1\nevent e1", 2, "'set': expected an event, got 'e1'"},
      {"await a start 1\nstart a ready", 2, "'await': expected an actor, got 'a'"},
      {"start a in j ready\njob j", 2, "'start': expected a job, got 'j'"},
      {"open h pid-of a\nstart a ready", 2, "'open': expected an actor, got 'a'"},
      {"start a ready\nclose a\nwait a", 4, "'wait': 'a' was closed"},
      {"start a ready\nclose a.process\nterminate a 1", 4, "'terminate': 'a' was closed"},
      {"start a ready\nclose a.thread\nexit-code a.thread", 4, "'exit-code': 'a.thread' was closed"},
      {"start a ready\nclose a.thread\nclose a.thread", 4, "'close': 'a.thread' was closed"},
      {"start a ready\nopen h pid-of a\nclose h\npoll h", 5, "'poll': 'h' was closed"},
      {"job j\nclose j\nstart a in j ready", 4, "job 'j' was closed"},
      {"job j\nclose j\nterminate-job j 0", 4, "job 'j' was closed"},
      {"start a ready\nterminate a x", 3, "'terminate': expected an exit code (a number), got 'x'"},
      {"start a ready\nterminate a -1", 3, "got '-1'"},
      {"start a ready\nterminate-thread a.thread 0x1FFFFFFFF", 3, "got '0x1FFFFFFFF'"},
      {"start a ready\nawait a ready many", 3, "'await': expected a count (a number), got 'many'"},
      {"ctrl zero 0", 2, "'ctrl': expected an event type (a number), got 'zero'"},
      {"ctrl 0 7", 2, "ctrl: the group is 0 or pid-of ACTOR, got '7'"},
      {"start a ready\nopen h child-of a many", 3, "expected which child (1 = the first) (a number), got 'many'"},
      {"start a ready bogus-verb", 2, "start a: argument 2: unknown verb 'bogus-verb'"},
      {"start a spawn [ return 0", 2, "start a: argument 1: 'spawn [' without a matching ']'"},
      {"start a crash sideways", 2, "start a: argument 2: unknown crash kind 'sideways'"},
      {"start a return", 2, "start a: expected"},
      {"start a wait-event @e1 return 0", 2, "'start': '@e1' names no event, name or pipe"},
      {"start b ready\nstart a wait-event @b return 0", 3, "'start': '@b' names no event, name or pipe"},
      {"start a ready\nwait a.handle", 3, "'a.handle' is not NAME.process or NAME.thread"},
      {"job j\nwait j", 3, "'wait': 'j' is not a handle"},
      {"event e\nexit-code e", 3, "'exit-code': 'e' is not a handle"},
      {"job j\nclose j.process", 3, "'j.process' has no parts"},
      {"job j maybe", 2, "job: unknown option 'maybe'"},
      {"start wait ready", 2, "'wait' is not a usable name"},
      {"start 9lives ready", 2, "'9lives' is not a usable name"},
      {"event a.b", 2, "'a.b' is not a usable name"},
      {"start a ready\nopen h sid-of a", 3, "open: expected pid-of, tid-of, child-of or thread-of, got 'sid-of'"},
      {"start a ready\nopen h child-of a", 3, "'open': expected which child (1 = the first), but the line ends"},
      {"start a ready\nwait a extra", 3, "'wait': unexpected 'extra'"},
      {"start a ready\nawait a", 3, "'await': expected a record's name, but the line ends"},
      {"start", 2, "'start': expected a name, but the line ends"},
      {"event e\r\nset e\r\nset f", 4, "'set': expected an event, got 'f'"}};
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.body);
    try {
      scenario::parse(file(bad.body), "bad.scn");
      ADD_FAILURE() << "parsed without an error";
    } catch (const scenario::Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.line(), bad.line) << what;
      EXPECT_EQ(what.rfind("bad.scn:" + std::to_string(bad.line) + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(bad.says), std::string::npos) << what << "\n  does not say: " << bad.says;
    }
  }
}

TEST(Scenario, CanonicalTextIsWhatTheParserReadsBack) {
  const auto s = scenario::parse(file("job j kill-on-close breakaway-ok   # a comment\n"
                                      "event go\n"
                                      "start a new-console in j new-group wait-event @go return 7\n"
                                      "await a waiting 1\n"
                                      "set go\n"
                                      "wait a.process\n"
                                      "terminate a 10\n"
                                      "terminate-thread a.thread 0x0\n"
                                      "terminate-job j 3\n"
                                      "open h child-of a 2\n"
                                      "open t tid-of a\n"
                                      "ctrl 1 pid-of a\n"
                                      "ctrl 0 0\n"
                                      "close t\n"
                                      "close j\n"));
  ASSERT_EQ(s.steps.size(), 15u);
  EXPECT_EQ(s.steps[2].line, 4);
  EXPECT_EQ(s.steps[2].verbs, (std::vector<std::string>{"wait-event", "@go", "return", "7"}));
  const std::vector<std::string> expected = {std::string(scenario::kHeader),
                                             "job j kill-on-close breakaway-ok",
                                             "event go",
                                             "start a new-group new-console in j wait-event @go return 7",
                                             "await a waiting 1",
                                             "set go",
                                             "wait a",
                                             "terminate a 0xa",
                                             "terminate-thread a.thread 0x0",
                                             "terminate-job j 0x3",
                                             "open h child-of a 2",
                                             "open t tid-of a",
                                             "ctrl 1 pid-of a",
                                             "ctrl 0 0",
                                             "close t",
                                             "close j"};
  EXPECT_EQ(lines(s.text()), expected);
  EXPECT_EQ(scenario::parse(s.text()).text(), s.text());
}

// ------------------------------------------------------------------------------------------
// The generator

TEST(Explore, TheSameSeedGivesTheSameBytes) {
  // Each generation on oracles of its own: nothing carries over from one to the next.
  for (std::uint64_t seed : {1ull, 7ull, 123456789ull}) {
    const auto a = explore::generate(seed, sim_oracle()).text();
    const auto b = explore::generate(seed, sim_oracle()).text();
    EXPECT_EQ(a, b) << "seed " << seed;
    EXPECT_EQ(a.rfind(std::string(scenario::kHeader) + "\n", 0), 0u) << a;
  }
}

TEST(Explore, DifferentSeedsGiveDifferentScenarios) {
  const auto oracle = sim_oracle();
  std::set<std::string> texts;
  for (std::uint64_t i = 0; i < 100; ++i) texts.insert(explore::generate(explore::scenario_seed(3, i), oracle).text());
  EXPECT_GE(texts.size(), 90u);
}

// Over many seeds: every scenario parses and reads back as itself, the normalizer has nothing
// left to do on what it made (or on what it made of a cut-down one), and the model answers the
// same twice.
TEST(Explore, GeneratedScenariosAreValidNormalAndDeterministic) {
  const auto oracle = sim_oracle();
  std::map<std::string, int> ops;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    const std::uint64_t seed = explore::scenario_seed(11, i);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto s = explore::generate(seed, oracle);
    const auto text = s.text();
    Scenario parsed;
    try {
      parsed = scenario::parse(text, "generated");
    } catch (const scenario::Error& e) {
      ADD_FAILURE() << e.what() << "\n" << text;
      continue;
    }
    ASSERT_EQ(parsed.text(), text);
    const auto again = explore::normalize(s, oracle);
    ASSERT_EQ(again.text(), text) << "normalize changed what it made";
    ASSERT_EQ(explore::normalize(parsed, oracle).text(), text) << "normalize of the parsed file";
    // An intent that is not normal, as shrink makes them: a step left out (what depended on it
    // goes too, an await no longer due goes, one newly due comes).
    Scenario cut = s;
    cut.steps.erase(cut.steps.begin() + static_cast<std::ptrdiff_t>(seed % cut.steps.size()));
    const auto once = explore::normalize(cut, oracle);
    ASSERT_EQ(explore::normalize(once, oracle).text(), once.text()) << "from\n" << cut.text();
    const auto t1 = explore::predict(s, oracle), t2 = explore::predict(s, oracle);
    ASSERT_EQ(t1.lines, t2.lines) << text;
    ASSERT_FALSE(explore::compare(t1, t2));
    for (const auto& st : s.steps) ++ops[std::string(scenario::op_name(st.op))];
  }
  // The seeds reach every step the generator writes (a generator stuck on a few proves little).
  for (const char* op : {"start", "job", "event", "set", "await", "wait", "poll", "exit-code", "terminate",
                         "terminate-thread", "terminate-job", "close", "open", "ctrl"})
    EXPECT_GT(ops[op], 0) << op;
}

// An intent that is not runnable as written: the normalizer drops what cannot run, turns a wait
// the model says is not signaled into a poll, and awaits the records.
TEST(Explore, NormalizeMakesAnIntentRunnable) {
  const auto oracle = sim_oracle();
  auto intent = scenario::parse(file("start a ready wait-forever\nwait a\nterminate a 7\nexit-code a\n"));
  // A step naming nothing (the parser would refuse it; a shrunk intent can hold one).
  scenario::Step stray;
  stray.op = scenario::Op::exit_code;
  stray.ref = scenario::Ref{"nobody", scenario::Ref::Part::process};
  intent.steps.insert(intent.steps.begin() + 2, stray);
  const auto n = explore::normalize(intent, oracle);
  const std::vector<std::string> expected = {std::string(scenario::kHeader),
                                             "start a ready wait-forever",
                                             "await a ready 1",
                                             "await a start 1",
                                             "poll a",
                                             "terminate a 0x7",
                                             "wait a.thread",  // the model says it has ended
                                             "settle a",  // its end may be under way on a platform
                                             "wait a",
                                             "exit-code a"};
  EXPECT_EQ(lines(n.text()), expected);
  EXPECT_EQ(explore::size(n), 6);  // neither awaits nor settles count
  for (const auto& st : n.steps) EXPECT_EQ(st.line, 0) << st.text();
}

// ------------------------------------------------------------------------------------------
// The Player on the simulator

TEST(Scenario, PlayerTraceOfAnActorThatReturns7) {
  const auto t = play("start a return 7\nwait a\nexit-code a\nexit-code a.thread\npoll a.thread\n");
  const std::vector<std::string> expected = {"1 start a return 7: started", "2 wait a: signaled", "3 exit-code a: 0x7",
                                             "4 exit-code a.thread: 0x7", "5 poll a.thread: signaled",
                                             "records a: [start, about-to-exit how=return code=0x7]"};
  EXPECT_EQ(t.lines, expected);
  EXPECT_TRUE(t.notes.empty());
}

TEST(Scenario, PlayerTraceOfWhatIsStillRunning) {
  // A process blocked forever: a poll says timeout and the exit code is STILL_ACTIVE.
  // TerminateProcess on its thread handle fails (ERROR_INVALID_HANDLE); TerminateThread on its
  // only thread ends it with that thread's code. A record that never comes is a timeout.
  const auto t = play("start a ready wait-forever\nawait a ready 1\npoll a\nexit-code a\nterminate a.thread 0xbada\n"
                      "terminate-thread a.thread 0xbada\nwait a\nexit-code a\nawait a nothing 1\n");
  const std::vector<std::string> expected = {"1 start a ready wait-forever: started",
                                             "2 await a ready 1: ok",
                                             "3 poll a: timeout",
                                             "4 exit-code a: 0x103",
                                             "5 terminate a.thread 0xbada: 6",
                                             "6 terminate-thread a.thread 0xbada: 0",
                                             "7 wait a: signaled",
                                             "8 exit-code a: 0xbada",
                                             "9 await a nothing 1: timeout (0 of 1)",
                                             "records a: [start, ready]"};
  EXPECT_EQ(t.lines, expected);
}

// Records are grouped by process, by role: the actor's name, then `>K` for its K-th spawned
// child (grandchildren too); in a process, each thread's sequence, the sequences sorted (the
// worker's "[mark name=t]" before the main thread's "[start, ...]", though its thread is younger).
TEST(Scenario, PlayerRecordsGroupByRoleAndSortThreads) {
  const auto t = play("event e1\n"
                      "start a1 thread [ mark t wait-forever ] spawn [ mark c1 return 3 ] "
                      "spawn [ thread [ mark u wait-forever ] spawn [ mark g return 0 ] mark c2 wait-forever ] "
                      "mark m wait-event @e1 return 7\n"
                      "await a1 spawned 3\n"
                      "await a1 mark 5\n"
                      "set e1\n"
                      "wait a1\n"
                      "exit-code a1\n"
                      "start a2 spawn [ return 1 ] return 2\n"
                      "await a2 about-to-exit 2\n");
  const std::vector<std::string> expected = {
      "1 event e1: created",
      "2 start a1 thread [ mark t wait-forever ] spawn [ mark c1 return 3 ] spawn [ thread [ mark u wait-forever ] "
      "spawn [ mark g return 0 ] mark c2 wait-forever ] mark m wait-event @e1 return 7: started",
      "3 await a1 spawned 3: ok",
      "4 await a1 mark 5: ok",
      "5 set e1: ok",
      "6 wait a1: signaled",
      "7 exit-code a1: 0x7",
      "8 start a2 spawn [ return 1 ] return 2: started",
      "9 await a2 about-to-exit 2: ok",
      "records a1: [mark name=t] [start, thread-started, spawned, spawned, mark name=m, waiting, released "
      "result=signaled error=0x0, about-to-exit how=return code=0x7]",
      "records a1>1: [start, mark name=c1, about-to-exit how=return code=0x3]",
      "records a1>2: [mark name=u] [start, thread-started, spawned, mark name=c2]",
      "records a1>2>1: [start, mark name=g, about-to-exit how=return code=0x0]",
      "records a2: [start, spawned, about-to-exit how=return code=0x2]",
      "records a2>1: [start, about-to-exit how=return code=0x1]"};
  EXPECT_EQ(t.lines, expected);
}

// Roles come from the `spawned` records, from the actor down, never from the ids: an id is given
// again as soon as its process has gone (the model hands out the lowest free one; Windows reuses
// them too), so a child can have a lower id than its parent, and two processes of one tree, or
// the actor and its grandchild, one id. Each case checks first that its ids are as it says.
struct Played {
  std::vector<std::string> steps, records;
};
Played play_and_ask(const std::string& body, const std::function<void(scenario::Player&)>& premise) {
  sim::SimSystem sys;
  scenario::Player p(sys);
  Played out;
  for (const auto& st : scenario::parse(file(body)).steps) out.steps.push_back(p.step(st));
  premise(p);
  out.records = p.finish();
  return out;
}
std::uint32_t id_of(scenario::Player& p, scenario::Step::IdOf how, const std::string& actor, std::uint32_t k = 0) {
  scenario::Step open;
  open.op = scenario::Op::open;
  open.id_of = how;
  open.target = actor;
  open.number = k;
  auto id = p.id_of(open);
  EXPECT_TRUE(id) << actor << " " << k;
  return id.value_or(0);
}

TEST(Scenario, PlayerRolesHoldWhenAChildHasALowerIdThanItsParent) {
  // x's ids are free once it has gone; a started before that, its child after: the child gets x's.
  const auto r = play_and_ask("event e1\nstart x return 0\n"
                              "start a wait-event @e1 spawn [ spawn [ mark g return 0 ] mark c wait-forever ] mark m wait-forever\n"
                              "await a waiting 1\nwait x\nclose x\nclose x.thread\nset e1\nawait a mark 3\n",
                              [](scenario::Player& p) {
                                EXPECT_LT(id_of(p, scenario::Step::IdOf::child, "a", 1),
                                          id_of(p, scenario::Step::IdOf::pid, "a"));
                              });
  EXPECT_EQ(r.records, (std::vector<std::string>{
                           "records x: [start, about-to-exit how=return code=0x0]",
                           "records a: [start, waiting, released result=signaled error=0x0, spawned, mark name=m]",
                           "records a>1: [start, spawned, mark name=c]",
                           "records a>1>1: [start, mark name=g, about-to-exit how=return code=0x0]"}));
}

TEST(Scenario, PlayerRolesHoldWhenTwoChildrenHaveOneId) {
  // The first child has gone (spawn closes its handles) before the second is spawned.
  const auto r = play_and_ask("event e\nstart a spawn [ return 1 ] wait-event @e spawn [ return 2 ] wait-forever\n"
                              "await a waiting 1\nawait a about-to-exit 1\nset e\nawait a about-to-exit 2\n",
                              [](scenario::Player& p) {
                                EXPECT_EQ(id_of(p, scenario::Step::IdOf::child, "a", 1),
                                          id_of(p, scenario::Step::IdOf::child, "a", 2));
                              });
  EXPECT_EQ(r.records, (std::vector<std::string>{
                           "records a: [start, spawned, waiting, released result=signaled error=0x0, spawned]",
                           "records a>1: [start, about-to-exit how=return code=0x1]",
                           "records a>2: [start, about-to-exit how=return code=0x2]"}));
}

TEST(Scenario, PlayerRolesHoldWhenAGrandchildHasTheActorsId) {
  // The actor has ended and the harness has let go of it: its id is free (the open fails), and
  // the grandchild spawned then has it: the same open now says the id has named two objects
  // (which one it opens is the platform's choice of when ids come back), and does not open.
  const auto r = play_and_ask("event e1\n"
                              "start a spawn [ wait-event @e1 spawn [ mark g wait-forever ] mark c wait-forever ] return 5\n"
                              "await a about-to-exit 1\nawait a waiting 1\nwait a\nclose a\nclose a.thread\n"
                              "open h1 pid-of a\nset e1\nawait a mark 2\nopen h2 pid-of a\npoll h2\n",
                              [](scenario::Player&) {});
  EXPECT_EQ(std::vector<std::string>(r.steps.end() - 5, r.steps.end()),
            (std::vector<std::string>{"8 open h1 pid-of a: error 87", "9 set e1: ok", "10 await a mark 2: ok",
                                      "11 open h2 pid-of a: the id has named another object too", "12 poll h2: not opened"}));
  EXPECT_EQ(r.records, (std::vector<std::string>{
                           "records a: [start, spawned, about-to-exit how=return code=0x5]",
                           "records a>1: [start, waiting, released result=signaled error=0x0, spawned, mark name=c]",
                           "records a>1>1: [start, mark name=g]"}));
}

// An open that fails where the model's succeeded is the difference; the steps on the handle it
// did not give answer "not opened", and the trace goes on. Here the ids-freed-at-exit mutant
// stands in for a platform that frees a process's id when it exits, though its object remains.
TEST(Scenario, StepsOnAHandleWhoseOpenFailedSayNotOpened) {
  const std::string body = "start a1 return 0\nawait a1 about-to-exit 1\nawait a1 start 1\nwait a1\nclose a1.thread\n"
                           "open h1 pid-of a1\nexit-code h1\npoll h1\nclose h1\nopen h2 child-of a1 1\nexit-code h2\n";
  const auto model = play(body);
  EXPECT_EQ(std::vector<std::string>(model.lines.begin() + 5, model.lines.end() - 1),
            (std::vector<std::string>{"6 open h1 pid-of a1: ok", "7 exit-code h1: 0x0", "8 poll h1: signaled",
                                      "9 close h1: closed", "10 open h2 child-of a1 1: no such child",
                                      "11 exit-code h2: not opened"}));
  const auto freed = play(body, "ids-freed-at-exit");
  EXPECT_EQ(std::vector<std::string>(freed.lines.begin() + 5, freed.lines.end() - 1),
            (std::vector<std::string>{"6 open h1 pid-of a1: error 87", "7 exit-code h1: not opened",
                                      "8 poll h1: not opened", "9 close h1: not opened",
                                      "10 open h2 child-of a1 1: no such child", "11 exit-code h2: not opened"}));

  // So the explorer sees where they part, and triage finds the rule.
  const auto oracle = sim_oracle();
  const auto s = scenario::parse(file(body));
  const auto live = explore::predict(s, oracle, "ids-freed-at-exit");
  const auto d = explore::compare(explore::predict(s, oracle), live);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->signature, "open: ok -> error 87");
  const auto t = explore::triage(s, *d, live, oracle);
  EXPECT_NE(std::find(t.reproduced_by.begin(), t.reproduced_by.end(), "ids-freed-at-exit"), t.reproduced_by.end())
      << ::testing::PrintToString(t.reproduced_by);
  EXPECT_NE(std::find(t.claims.begin(), t.claims.end(), "corpse.ids-unique"), t.claims.end());
}

// ------------------------------------------------------------------------------------------
// compare

TEST(Explore, CompareFindsTheFirstDifferenceAndItsSignature) {
  const auto oracle = sim_oracle();
  const auto s = scenario::parse(file("start a return 7\nawait a start 1\nwait a\nexit-code a\n"));
  const auto model = explore::predict(s, oracle);
  EXPECT_FALSE(explore::compare(model, explore::predict(s, oracle)));

  // A platform that ignores what main returned (the return-ignored mutant stands in for it).
  const auto live = explore::predict(s, oracle, "return-ignored");
  auto d = explore::compare(model, live);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->line, 3u);
  EXPECT_EQ(d->model, "4 exit-code a: 0x7");
  EXPECT_EQ(d->live, "4 exit-code a: 0x0");
  EXPECT_EQ(d->last_agreement, "3 wait a: signaled");
  EXPECT_EQ(d->signature, "exit-code: 0x7 -> 0x0");

  // A difference in the records: each side's extra records, without their process's role.
  Trace m{{"1 start a1 ...: started", "records a1: [start, mark name=x]", "records a1>1: [start, ready]"}, {}, 0};
  Trace l{{"1 start a1 ...: started", "records a1: [start, mark name=y]", "records a1>1: [start, ready, ready]"}, {}, 0};
  d = explore::compare(m, l);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->line, 1u);
  EXPECT_EQ(d->signature, "records: +mark name=y +ready -mark name=x");
  // The same records in other threads: no record more or less.
  Trace o{{"1 start a1 ...: started", "records a1: [mark name=x] [start]", "records a1>1: [start, ready]"}, {}, 0};
  EXPECT_EQ(explore::compare(m, o)->signature, "records: in another order or thread");
  // A trace that ends early, and a platform that could not play it.
  Trace shorter{{"1 start a1 ...: started"}, {}, 0};
  d = explore::compare(m, shorter);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->live, "");
  EXPECT_EQ(d->signature, "records: -mark name=x -ready -start");
  Trace error{{"error: the player died"}, {}, 0};
  EXPECT_EQ(explore::compare(m, error)->signature, "error: the platform could not play it");
  // Notes are never compared.
  Trace noted = m;
  noted.notes = {"reap: something"};
  EXPECT_FALSE(explore::compare(m, noted));
}

// ------------------------------------------------------------------------------------------
// shrink and triage, a mutant standing in for the platform

struct MutantCase {
  std::string mutant, claim;
};

TEST(Explore, ShrinkAndTriageAgainstAMutant) {
  const auto oracle = sim_oracle();
  for (const auto& mc : {MutantCase{"return-ignored", "exit.code.return-from-main"},
                         MutantCase{"terminate-code-ignored", "exit.code.terminateprocess"},
                         MutantCase{"stack-overflow-is-access-violation", "fatal.stack-overflow"}}) {
    SCOPED_TRACE(mc.mutant);
    // The first generated scenario on which the mutant answers otherwise than the model.
    Scenario found;
    std::optional<explore::Difference> d;
    for (std::uint64_t i = 0; i < 3000 && !d; ++i) {
      found = explore::generate(explore::scenario_seed(5, i), oracle);
      d = explore::compare(explore::predict(found, oracle), explore::predict(found, oracle, mc.mutant));
    }
    ASSERT_TRUE(d) << "no scenario tells " << mc.mutant << " apart";
    const std::string sig = d->signature;
    int tests = 0;
    const auto minimal = explore::shrink(found, oracle, [&](const Scenario& c) {
      ++tests;
      auto dc = explore::compare(explore::predict(c, oracle), explore::predict(c, oracle, mc.mutant));
      return dc && dc->signature == sig;
    });
    EXPECT_GT(tests, 0);
    EXPECT_LE(explore::size(minimal), 6) << minimal.text();
    EXPECT_LE(explore::size(minimal), explore::size(found));
    const auto model = explore::predict(minimal, oracle);
    const auto live = explore::predict(minimal, oracle, mc.mutant);
    const auto dm = explore::compare(model, live);
    ASSERT_TRUE(dm) << minimal.text();
    EXPECT_EQ(dm->signature, sig);
    // The minimal scenario is a normal one: it parses as itself, and normalizing leaves it.
    EXPECT_EQ(scenario::parse(minimal.text()).text(), minimal.text());
    EXPECT_EQ(explore::normalize(minimal, oracle).text(), minimal.text());

    std::cerr << "  " << mc.mutant << ": " << explore::size(found) << " steps shrunk to " << explore::size(minimal)
              << " in " << tests << " tests\n" << minimal.text();
    const auto t = explore::triage(minimal, *dm, live, oracle);
    EXPECT_NE(std::find(t.reproduced_by.begin(), t.reproduced_by.end(), mc.mutant), t.reproduced_by.end())
        << ::testing::PrintToString(t.reproduced_by);
    EXPECT_NE(std::find(t.claims.begin(), t.claims.end(), mc.claim), t.claims.end()) << ::testing::PrintToString(t.claims);
    // A mutant that plays it as the model does is neither: its rule has nothing to do with it.
    EXPECT_EQ(std::find(t.reproduced_by.begin(), t.reproduced_by.end(), "named-objects-linger"), t.reproduced_by.end());
    EXPECT_EQ(std::find(t.involves.begin(), t.involves.end(), "named-objects-linger"), t.involves.end());
  }
}

// A platform that agrees with the model: shrink keeps nothing that is not interesting.
TEST(Explore, ShrinkReturnsTheScenarioWhenNothingSmallerIsInteresting) {
  const auto oracle = sim_oracle();
  const auto s = explore::generate(explore::scenario_seed(5, 0), oracle);
  int tests = 0;
  const auto same = explore::shrink(s, oracle, [&](const Scenario&) { return ++tests, false; }, 20);
  EXPECT_EQ(same.text(), s.text());
  EXPECT_GT(tests, 0);
  EXPECT_LE(tests, 20);
}

// ------------------------------------------------------------------------------------------
// What the expectations already know

TEST(Explore, KnownFromExpectations) {
  const auto e = explore::Json::parse(R"({
    "platform": "wine-8.0-x86_64",
    "deviations": [{"test": "Exit.ReturnFromMain", "claim": "exit.code.return-from-main", "expect": "fail",
                    "reason": "r"}],
    "explore": [{"signature": "poll: timeout -> signaled", "claim": "signal.process-object",
                 "reason": "the process object is signaled early"}]
  })");
  const auto known = explore::Known::from_expectations(e);
  EXPECT_EQ(known.deviation_claims, std::vector<std::string>{"exit.code.return-from-main"});
  ASSERT_EQ(known.findings.size(), 1u);

  explore::Difference listed;
  listed.signature = "poll: timeout -> signaled";
  auto why = known.explains(listed, {});
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "triaged (signal.process-object): the process object is signaled early");

  // A deviation's claim explains a finding only when a mutant reproduces the platform's answer.
  explore::Difference other;
  other.signature = "exit-code: 0x7 -> 0x0";
  explore::Triage reproduced{{"return-ignored"}, {}, {"exit.code.return-from-main"}};
  explore::Triage involved{{}, {"return-ignored"}, {"exit.code.return-from-main"}};
  explore::Triage elsewhere{{"terminate-code-ignored"}, {}, {"exit.code.terminateprocess"}};
  why = known.explains(other, reproduced);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("exit.code.return-from-main is a known deviation"), std::string::npos) << *why;
  EXPECT_FALSE(known.explains(other, involved));
  EXPECT_FALSE(known.explains(other, elsewhere));
  EXPECT_FALSE(known.explains(other, {}));

  // Expectations without either list know nothing; the same triage is then new.
  const auto none = explore::Known::from_expectations(explore::Json::parse(R"({"platform": "x"})"));
  EXPECT_TRUE(none.deviation_claims.empty());
  EXPECT_TRUE(none.findings.empty());
  EXPECT_FALSE(none.explains(listed, reproduced));
}

// The triage of a real difference feeds explains: the return-ignored mutant reproduces a platform
// that ignores main's return value, whose expectations list that claim as a deviation.
TEST(Explore, AKnownDeviationExplainsItsFinding) {
  const auto oracle = sim_oracle();
  const auto s = scenario::parse(file("start a return 7\nawait a about-to-exit 1\nawait a start 1\nwait a\nexit-code a\n"));
  const auto model = explore::predict(s, oracle);
  const auto live = explore::predict(s, oracle, "return-ignored");
  const auto d = explore::compare(model, live);
  ASSERT_TRUE(d);
  const auto t = explore::triage(s, *d, live, oracle);
  const auto deviation = explore::Known::from_expectations(
      explore::Json::parse(R"({"deviations": [{"claim": "exit.code.return-from-main"}]})"));
  EXPECT_TRUE(deviation.explains(*d, t));
  const auto unrelated = explore::Known::from_expectations(
      explore::Json::parse(R"({"deviations": [{"claim": "fatal.stack-overflow"}]})"));
  EXPECT_FALSE(unrelated.explains(*d, t));
}

// The steps for jobs, named objects, pipes, waiters and the harness's own shutdown level, played
// on the model: an object's name and a pipe's show in the records as the scenario names them (the
// run's names are unique to it), a port's messages as counts, and an abandoned mutex is told once.
TEST(Scenario, PlayerTraceOfObjectsJobsAndWaiters) {
  const auto t = play(
      "job j port kill-on-close\njob k\nevent go\nname m\npipe p reads\n"
      "start a in j own-mutex @m write-pipe @p wait-event @go exit-process 3\n"
      "await a created 1\nawait a pipe-open 1\nassign k a\nopen-named h mutex m\npoll h\n"
      "waiters w a 3\nset go\njoin w\nread-pipe p\njob-messages j\npoll h\nrelease h\npoll h\nrelease h\n"
      "open-named e mutex m\nshutdown 0x300\n");
  const std::vector<std::string> expected = {
      "1 job j kill-on-close port: created",
      "2 job k: created",
      "3 event go: created",
      "4 name m: ok",
      "5 pipe p reads: created",
      "6 start a in j own-mutex @m write-pipe @p wait-event @go exit-process 3: started",
      "7 await a created 1: ok",
      "8 await a pipe-open 1: ok",
      "9 assign k a: 0",
      "10 open-named h mutex m: ok",
      "11 poll h: timeout",
      "12 waiters w a 3: waiting",
      "13 set go: ok",
      "14 join w: 3 of 3 signaled",
      "15 read-pipe p: broken",
      "16 job-messages j: 1 new, 1 exit, zero",
      "17 poll h: abandoned",
      "18 release h: ok",
      "19 poll h: signaled",
      "20 release h: ok",
      "21 open-named e mutex m: ok",
      "22 shutdown 0x300: 0, 0x300 0x0",
      "records a: [start, created kind=mutex name=m owned=true, pipe-open name=p mode=write, waiting, released "
      "result=signaled error=0x0, about-to-exit how=exit-process code=0x3]"};
  EXPECT_EQ(t.lines, expected);
}

// A mutant whose rule a scenario's prediction never consulted plays the scenario as the documented
// model does: what lets the explorer ask only the consulted ones (every rule a mutant changes
// asks Model::is()).
TEST(Explore, AMutantWhoseRuleWasNotConsultedAgreesWithTheModel) {
  const auto oracle = sim_oracle();
  const int seeds = std::getenv("TERMSUITE_CONSULTED_SEEDS") ? std::atoi(std::getenv("TERMSUITE_CONSULTED_SEEDS")) : 40;
  int asked = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    const auto s = explore::generate(explore::scenario_seed(99, static_cast<std::uint64_t>(seed)), oracle);
    std::vector<std::string> consulted;
    const auto model = explore::predict(s, oracle, "", &consulted);
    ASSERT_FALSE(consulted.empty());
    for (const auto& m : oracle.mutants) {
      if (std::find(consulted.begin(), consulted.end(), m.name) != consulted.end()) continue;
      ++asked;
      EXPECT_FALSE(explore::compare(model, explore::predict(s, oracle, m.name)))
          << m.name << " was not consulted, yet tells this scenario apart:\n" << s.text();
    }
  }
  EXPECT_GT(asked, 0);
}

// The guided choice depends on the model and the known deviations alone: one seed, the same
// scenarios; and what it plays tells apart more mutants than as many scenarios taken in order.
TEST(Explore, GuidedChoiceIsBySeedAndAsksMoreRules) {
  const auto oracle = sim_oracle();
  auto corpus = [&](bool guided) {
    explore::Options o;
    o.seed = 5;
    o.budget_seconds = 600;
    o.max_scenarios = 40;
    o.keep_corpus = true;
    o.guided = guided;
    return explore::run(o, oracle, nullptr, {});
  };
  const auto a = corpus(true), b = corpus(true), plain = corpus(false);
  ASSERT_EQ(a.corpus.size(), 40u);
  ASSERT_EQ(b.corpus.size(), 40u);
  for (std::size_t i = 0; i < a.corpus.size(); ++i) EXPECT_EQ(a.corpus[i].scenario.text(), b.corpus[i].scenario.text());
  auto told = [&](const explore::Summary& s) {
    std::set<std::string> out;
    for (const auto& p : s.corpus)
      for (const auto& m : explore::consulted_mutants(p.scenario, oracle)) {
        try {
          if (explore::compare(p.live, explore::predict(p.scenario, oracle, m))) out.insert(m);
        } catch (const std::exception&) {
          out.insert(m);  // the mutant's model could not even play it
        }
      }
    return out.size();
  };
  EXPECT_GT(told(a), told(plain));
}

// The end of a scenario ends every process of its jobs before any of them runs again, as
// TerminateJobObject does on the platform: a child waiting for its parent never sees it go.
TEST(Scenario, TheEndEndsEveryMemberOfAJobAtOnce) {
  const auto t = play("job j\nstart a in j spawn [ wait-parent exit-process 1 ] spawn [ wait-parent ] wait-forever\n"
                      "await a start 3\nawait a waiting 2\n");
  ASSERT_GE(t.lines.size(), 3u);
  const std::vector<std::string> records(t.lines.end() - 3, t.lines.end());
  EXPECT_EQ(records, (std::vector<std::string>{"records a: [start, spawned, spawned]", "records a>1: [start, waiting]",
                                               "records a>2: [start, waiting]"}));
}

// --skip-known: a platform's known deviation is not met again on purpose. TerminateProcess on a
// process the model says has ended (terminate.ended-access-denied) goes from the scenario, and
// stays in it without the option.
TEST(Explore, SkippingAKnownDeviationDropsTheStepsThatOnlyMeetItAgain) {
  const auto oracle = sim_oracle();
  const auto intent = scenario::parse(file("start a return 3\nwait a\nterminate a 5\nexit-code a\n"));
  const std::set<std::string> skip{"terminate.ended-access-denied"};
  auto has_terminate = [](const scenario::Scenario& s) {
    return std::any_of(s.steps.begin(), s.steps.end(), [](const scenario::Step& st) { return st.op == scenario::Op::terminate; });
  };
  EXPECT_TRUE(has_terminate(explore::normalize(intent, oracle)));
  EXPECT_FALSE(has_terminate(explore::normalize(intent, oracle, "", &skip)));
}

}  // namespace
}  // namespace termsuite
