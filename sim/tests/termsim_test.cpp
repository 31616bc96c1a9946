// termsim: the scenario parser's errors, the run, explain on the two seed examples, the JSON.
#include "termsuite/termsim/termsim.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>

namespace termsuite::termsim {
namespace {

const std::string kExamples = TERMSIM_EXAMPLES_DIR;
const std::string kSeed001 = kExamples + "/leaked-thread-handles.scn";
const std::string kSeed000 = kExamples + "/wedged-driver.scn";

// ------------------------------------------------------------------------------------------
// Parser errors: FILE:LINE: what was expected

struct BadInput {
  std::string text;
  int line;
  std::string says;  // a part of the message
};

// One test for the whole table: each case is a few microseconds, a process per case is not.
TEST(Termsim, ParserErrorsNameFileLineAndWhatWasExpected) {
  const std::vector<BadInput> cases = {
      BadInput{"frobnicate a b", 1, "expected an action (start, wait"},
      BadInput{"# comment\n\nstart a ready\nwait b", 4, "unknown name 'b'"},
      BadInput{"start a ready\nwait a soon", 2,
               "expected a timeout in virtual milliseconds (an unsigned 32-bit number"},
      BadInput{"start a ready\nterminate a", 2, "expected an exit code, but the line ends"},
      BadInput{"start a ready\nterminate a 0x1FFFFFFFF", 2, "got '0x1FFFFFFFF'"},
      BadInput{"start a ready\nterminate a -1", 2, "got '-1'"},
      BadInput{"start a ready bogus-verb", 1,
               "the actor would reject its verbs: argument 2: unknown verb 'bogus-verb'"},
      BadInput{"start a spawn [ return 0", 1, "without a matching ']'"},
      BadInput{"start a repeat 3 { ready", 1, "'repeat N {' without a matching '}'"},
      BadInput{"start a repeat many { ready }", 1, "expected a count from 0 to 10000 after 'repeat'"},
      BadInput{"start a ready\nstart a ready", 2, "the name 'a' is already used (line 1)"},
      BadInput{"start wait ready", 1, "cannot be named 'wait'"},
      BadInput{"start 9lives ready", 1, "expected a name for the actor"},
      BadInput{"start a ready\nclose a", 2, "say a.process or a.thread"},
      BadInput{"start a ready\nclose a.thread\nwait a.thread", 3, "a.thread was closed at line 2"},
      BadInput{"start a ready\nwait a.handle", 2, "after '.' comes 'process' or 'thread'"},
      BadInput{"job j\nwait j", 2, "but 'j' is a job handle"},
      BadInput{"start a ready\nopen h pid-of a\nstart b in h ready", 3,
               "expected a job after 'in', but 'h' is a process handle"},
      BadInput{"job j\nterminate j.process 1", 2, "'j' is a job (line 1), it has no .process"},
      BadInput{"start b ready\nstart a in b ready", 2, "expected a job after 'in', but 'b' is an actor (line 1)"},
      BadInput{"start a in a ready", 1, "unknown name 'a'"},
      BadInput{"job j maybe", 1, "expected 'kill-on-close' or the end of the line"},
      BadInput{"open h process 12", 1, "expected pid N, tid N, pid-of NAME or tid-of NAME"},
      BadInput{"open h pid-of nobody", 1, "(no actor has that name)"},
      BadInput{"advance", 1, "'advance': expected a time in virtual milliseconds, but the line ends"},
      BadInput{"driver-delay 5 6", 1, "unexpected '6'"},
      BadInput{"expect", 1, "expected what to check"},
      BadInput{"start a ready\nexpect a exists", 2, "'exists' and 'gone' take pid N"},
      BadInput{"start a ready\nexpect a state dead", 2, "expected running, terminating or terminated"},
      BadInput{"start a ready\nexpect a.thread reported ready", 2, "'reported' takes an actor's plain name"},
      BadInput{"job j\nexpect j reported ready", 2,
               "expected an actor's name before 'reported', got 'j', which is a job"},
      BadInput{"expect corpses lots", 1, "expected the number of corpses"},
      BadInput{"start a ready\nexpect pid 100 reported ready", 2, "'reported' takes an actor's name, not an id"},
      BadInput{"wait \x01\xff\x80", 1, "got '\\x01\\xff\\x80'"}};
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.text);
    try {
      parse_scenario(bad.text, "bad.scn");
      ADD_FAILURE() << "parsed without an error";
    } catch (const ScenarioError& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.line(), bad.line) << what;
      EXPECT_EQ(what.rfind("bad.scn:" + std::to_string(bad.line) + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(bad.says), std::string::npos) << what << "\n  does not say: " << bad.says;
    }
  }
}

TEST(Termsim, ParserAcceptsCommentsBlanksAndRepeat) {
  auto s = parse_scenario("  # a comment\n\n\tstart a repeat 2 { mark x } ready # trailing\r\nwait a 5\n", "ok.scn");
  ASSERT_EQ(s.actions.size(), 2u);
  EXPECT_EQ(s.actions[0].line, 3);
  EXPECT_EQ(s.actions[0].argv, (std::vector<std::string>{"mark", "x", "mark", "x", "ready"}));
  EXPECT_EQ(s.actions[1].number, 5u);
  EXPECT_EQ(s.actions[1].text, "wait a 5");
}

TEST(Termsim, UnreadableFileIsAnErrorNotACrash) {
  try {
    load_scenario(kExamples + "/no-such-file.scn");
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

// Garbage, in bulk: every input either parses and runs, or is a ScenarioError. Nothing else.
TEST(Termsim, GarbageNeverCrashes) {
  const std::vector<std::string> words = {"start",
                                          "wait",
                                          "terminate",
                                          "close",
                                          "job",
                                          "open",
                                          "advance",
                                          "driver-delay",
                                          "expect",
                                          "a",
                                          "a.process",
                                          "a.thread",
                                          "b",
                                          "j",
                                          "in",
                                          "pid",
                                          "tid",
                                          "pid-of",
                                          "tid-of",
                                          "corpses",
                                          "0",
                                          "7",
                                          "0x",
                                          "-3",
                                          "99999999999",
                                          "[",
                                          "]",
                                          "{",
                                          "}",
                                          "repeat",
                                          "ready",
                                          "spawn",
                                          "return",
                                          "wait-forever",
                                          "read-device",
                                          "exit-code",
                                          "signaled",
                                          "state",
                                          "running",
                                          "exists",
                                          "gone",
                                          "reported",
                                          "kill-on-close",
                                          "#",
                                          "\xff",
                                          ""};
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text = "start a thread [ ready ] ready\njob j kill-on-close\n";
    for (int l = 0, n = static_cast<int>(rng() % 6); l < n; ++l) {
      for (int w = 0, m = static_cast<int>(rng() % 7); w < m; ++w) text += words[rng() % words.size()] + " ";
      text += "\n";
    }
    try {
      Runner runner(parse_scenario(text, "fuzz.scn"));
      ++parsed;
      while (!runner.finished()) runner.step();
      (void)render_text(explain(runner));
    } catch (const ScenarioError&) {
    }
  }
  EXPECT_GT(parsed, 0);
}

// ------------------------------------------------------------------------------------------
// Running

TEST(Termsim, ExpectationsDecideTheRun) {
  auto s = parse_scenario(
      "start a ready return 0x2a\n"
      "wait a\n"
      "expect a exit-code 0x2a\n"
      "expect a signaled\n"
      "expect a exit-code 3\n"
      "expect pid-of a exists\n"
      "close a.process\n"
      "close a.thread\n"
      "expect pid-of a gone\n"
      "expect a reported about-to-exit 1\n",
      "x.scn");
  Runner runner(s);
  std::string out;
  auto sum = run_text(runner, out);
  EXPECT_EQ(sum.expectations, 6);
  EXPECT_EQ(sum.failed, 1) << out;
  EXPECT_NE(out.find("EXPECTATION FAILED (x.scn:5): a.process: expected 0x3, but GetExitCodeProcess says 0x2a"),
            std::string::npos)
      << out;
}

TEST(Termsim, AMutantBreaksTheWedgedDriverExpectations) {
  Runner runner(load_scenario(kSeed000), sim::Mutant::driver_releases_at_once);
  std::string out;
  EXPECT_GT(run_text(runner, out, {RunOptions::Objects::none}).failed, 0) << out;
  Runner right(load_scenario(kSeed000));
  out.clear();
  EXPECT_EQ(run_text(right, out, {RunOptions::Objects::none}).failed, 0) << out;
}

// ------------------------------------------------------------------------------------------
// explain

TEST(Termsim, Seed001EachCorpseIsKeptByALeakedThreadHandleInTheLauncher) {
  // One run serves the JSON check too: the scenario is the slowest thing here.
  Runner runner(load_scenario(kSeed001));
  Json doc;
  ASSERT_EQ(run_json(runner, doc).failed, 0) << doc.dump(2).substr(0, 4000);
  auto parsed = nlohmann::json::parse(doc.dump());
  EXPECT_TRUE(parsed["ok"].get<bool>());
  EXPECT_EQ(parsed["steps"].size(), runner.steps());
  auto e = explain(runner);
  EXPECT_EQ(nlohmann::json::parse(to_json(e).dump())["corpses"].size(), 200u);
  const auto* launcher = runner.model().process_by_pid(104);
  ASSERT_TRUE(launcher);
  ASSERT_EQ(runner.process_name(launcher->id), "launcher");
  ASSERT_EQ(e.corpses.size(), 200u);
  for (const auto& c : e.corpses) {
    SCOPED_TRACE(c.description);
    EXPECT_EQ(c.state, "terminated");
    EXPECT_EQ(c.parent_pid, 104u);
    EXPECT_EQ(c.exit_code, 0u);
    EXPECT_EQ(c.since, 0u) << "when it ended, read from the model's trace";
    EXPECT_FALSE(c.how.empty()) << "how it ended, read from the model's trace";
    ASSERT_EQ(c.thread_ids.size(), 1u);
    // Kept by its thread object, which is kept by a handle in the launcher: the leaked hThread.
    const Reason* via_thread = nullptr;
    for (const auto& r : c.keepers)
      if (r.kind == Reason::Kind::thread) via_thread = &r;
    ASSERT_TRUE(via_thread);
    ASSERT_EQ(via_thread->because.size(), 1u);
    const Reason& h = via_thread->because[0];
    EXPECT_EQ(h.kind, Reason::Kind::handle);
    EXPECT_EQ(h.holder_pid, 104u);
    EXPECT_TRUE(h.leaked_thread_handle);
    EXPECT_NE(h.note.find("PROCESS_INFORMATION.hThread"), std::string::npos);
    // Nothing else: no handle to the process itself, no driver.
    for (const auto& r : c.keepers) EXPECT_EQ(r.kind, Reason::Kind::thread) << r.text;
    // Its ids are reserved: the model still maps them to the corpse.
    EXPECT_TRUE(runner.model().process_by_pid(c.pid));
  }
  const std::string text = render_text(e);
  EXPECT_NE(text.find("200 processes: its thread object is kept by a PROCESS_INFORMATION.hThread handle that "
                      "process 104 (actor-console) \"launcher\" leaked"),
            std::string::npos)
      << text.substr(0, 2000);
  EXPECT_NE(text.find("200 process ids reserved"), std::string::npos);
}

TEST(Termsim, Seed000TheDriverKeepsTheProcessUntilItLetsGo) {
  Runner runner(load_scenario(kSeed000));
  // Up to the `advance`: the harness has closed its handles, the driver still holds the reader.
  const auto& actions = runner.scenario().actions;
  while (actions.at(runner.done()).kind != Action::Kind::advance) ASSERT_NE(runner.step().passed, false);
  auto before = explain(runner);
  ASSERT_EQ(before.corpses.size(), 1u);
  const Corpse& c = before.corpses[0];
  EXPECT_EQ(c.name, "victim");
  EXPECT_EQ(c.state, "terminating");
  bool driver = false;
  for (const auto& r : c.keepers) {
    EXPECT_NE(r.kind, Reason::Kind::handle) << "the harness closed its handles: " << r.text;
    for (const auto& b : r.because) driver |= b.kind == Reason::Kind::driver;
  }
  EXPECT_TRUE(driver) << render_text(before);
  EXPECT_NE(render_text(before).find("a driver holds its pending I/O request"), std::string::npos);

  // The `advance`: time passes, the driver lets go: the process object is gone.
  ASSERT_EQ(runner.step().action->kind, Action::Kind::advance);
  auto after = explain(runner);
  EXPECT_TRUE(after.corpses.empty()) << render_text(after);
  EXPECT_FALSE(runner.model().process_by_pid(c.pid));
  EXPECT_NE(render_text(after).find("there are no corpses"), std::string::npos);
}

TEST(Termsim, NothingKeepsAProcessThatEndedWithNoHandles) {
  Runner runner(
      parse_scenario("start a return 1\nwait a\nexpect corpses 1\nclose a.thread\nclose a.process\n", "x.scn"));
  runner.step();
  runner.step();
  auto e = explain(runner);
  ASSERT_EQ(e.corpses.size(), 1u);
  EXPECT_NE(render_text(e).find("held by the harness as a.process"), std::string::npos) << render_text(e);
  while (!runner.finished()) runner.step();
  EXPECT_TRUE(explain(runner).corpses.empty());
}

// ------------------------------------------------------------------------------------------
// JSON, from the library and from the command line

TEST(Termsim, JsonIsValidAndStable) {
  // The same scenario gives the same document, byte for byte.
  Runner a(load_scenario(kSeed000)), b(load_scenario(kSeed000));
  Json ja, jb;
  run_json(a, ja);
  run_json(b, jb);
  EXPECT_EQ(ja.dump(), jb.dump());
  auto parsed = nlohmann::json::parse(ja.dump());  // (the leaked-handles example's: in its own test above)
  EXPECT_TRUE(parsed["ok"].get<bool>());
  EXPECT_EQ(parsed["steps"].size(), a.steps());
  EXPECT_EQ(parsed["steps"][1]["records"][0]["ev"], "start");
  EXPECT_EQ(nlohmann::json::parse(to_json(explain(a)).dump())["corpses"].size(), 0u);
}

struct Command {
  int status = -1;
  std::string out;
};
Command run_cli(const std::string& args) {
  Command c;
  std::string cmd = std::string(TERMSIM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return c;
  char buf[65536];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) c.out.append(buf, n);
  int st = pclose(p);
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return c;
}

TEST(Termsim, CommandLine) {
  auto run = run_cli("run --json " + kSeed000);
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_TRUE(nlohmann::json::accept(run.out)) << run.out.substr(0, 500);
  auto ex = run_cli("explain --json --at 12 " + kSeed000);
  EXPECT_EQ(ex.status, 0) << ex.out;
  EXPECT_EQ(nlohmann::json::parse(ex.out)["corpses"].size(), 1u);
  auto bad_at = run_cli("explain --at 99 " + kSeed000);
  EXPECT_EQ(bad_at.status, 2) << bad_at.out;
  auto missing = run_cli("run " + kExamples + "/no-such-file.scn");
  EXPECT_EQ(missing.status, 2) << missing.out;
  auto mutant = run_cli("run --objects none --mutant driver-releases-at-once " + kSeed000);
  EXPECT_EQ(mutant.status, 1) << mutant.out;
  auto unknown = run_cli("run --mutant no-such-mutant " + kSeed000);
  EXPECT_EQ(unknown.status, 2) << unknown.out;
  auto list = run_cli("mutants --json");
  EXPECT_EQ(list.status, 0);
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), sim::mutants().size());
  auto usage = run_cli("frobnicate");
  EXPECT_EQ(usage.status, 2) << usage.out;
}

// A finding's scenario file, as the explorer wrote it in a real run (and the report's replay
// command names it): termsim runs it on the model and prints the trace the explorer predicted.
TEST(Termsim, RunsTheExplorersScenariosAndPrintsTheModelsTrace) {
  const std::string dir = TERMSIM_EXPLORE_RUN;
  std::ifstream in(dir + "/wine-8.0-x86_64.json");
  const auto run = nlohmann::json::parse(in);
  ASSERT_FALSE(run["findings"].empty());
  for (const auto& f : run["findings"]) {
    const auto file = dir + "/" + f["file"].get<std::string>();
    auto out = run_cli("run " + file);
    EXPECT_EQ(out.status, 0) << out.out;
    std::string expected;
    for (const auto& line : f["model_trace"]) expected += line.get<std::string>() + "\n";
    EXPECT_EQ(out.out.substr(out.out.find('\n') + 1), expected) << file;
    auto json = run_cli("run --json " + file);
    EXPECT_EQ(json.status, 0) << json.out;
    EXPECT_EQ(nlohmann::json::parse(json.out)["trace"], f["model_trace"]) << file;
  }
  // A mutant the finding names reproduces the platform's side (its wrong rule is what Wine does).
  const auto& known = run["findings"][0];
  ASSERT_FALSE(known["reproduced_by_mutants"].empty());
  auto mutant = run_cli("run --json --mutant " + known["reproduced_by_mutants"][0].get<std::string>() + " " + dir + "/" +
                        known["file"].get<std::string>());
  EXPECT_EQ(mutant.status, 0) << mutant.out;
  EXPECT_EQ(nlohmann::json::parse(mutant.out)["trace"], known["live_trace"]);
  // A broken one is exit 2 naming its file and line.
  const std::string bad = testing::TempDir() + "/termsim-explorer-bad.scn";
  std::ofstream(bad) << "# termsuite-scenario 1\nwait nobody\n";
  auto err = run_cli("run " + bad);
  EXPECT_EQ(err.status, 2) << err.out;
  EXPECT_NE(err.out.find(bad + ":2:"), std::string::npos) << err.out;
}

}  // namespace
}  // namespace termsuite::termsim
