#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "new_platform.hpp"
#include "preflight_run.hpp"
#include "report_command.hpp"
#include "phase_line.hpp"
#include "progress.hpp"
#include "results_file.hpp"
#include "run_lock.hpp"
#include "run_settings.hpp"
#include "schedule.hpp"
#include "supervise.hpp"
#include "termsuite/claims.hpp"
#include "termsuite/expectations.hpp"
#include "termsuite/matrix.hpp"
#include "termsuite/results.hpp"
#ifndef _WIN32
#include "wine_env.hpp"
#endif

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {


void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw EnvError(fmt::format("cannot write {}", p.string()));
}

// The last line a child printed, without the "termsuite: " the suite puts before its errors.
std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  auto nl = text.rfind('\n');
  std::string_view line = nl == std::string_view::npos ? text : text.substr(nl + 1);
  if (line.starts_with("termsuite: ")) line.remove_prefix(11);
  return std::string(line);
}

// GoogleTest's --gtest_list_tests output: "Suite." lines, then indented "Name" lines.
std::vector<std::string> parse_test_list(std::string_view text) {
  std::vector<std::string> names;
  std::string suite;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto hash = line.find("  #");
    if (hash != std::string::npos) line.resize(hash);
    if (line[0] != ' ') {
      if (line.back() == '.') suite = line.substr(0, line.size() - 1);
      continue;
    }
    auto name = line.substr(line.find_first_not_of(' '));
    if (!suite.empty() && !name.empty()) names.push_back(suite + "." + name);
  }
  return names;
}

// What --termsuite-describe prints: the platform line, the expectations check's line, a line per
// test that may wait long for the platform ({"may_run_long": {"test": .., "why": ..}}), then
// GoogleTest's listing. Anything Wine prints before the platform line is skipped; an empty
// platform_line means the suite never got that far.
struct Description {
  std::string platform_line;
  std::vector<std::string> hint_lines;
  std::string listing;
};
Description split_description(std::string_view text) {
  Description d;
  auto start = text.find("{\"platform\"");
  if (start == std::string_view::npos || (start > 0 && text[start - 1] != '\n')) return d;
  text.remove_prefix(start);
  auto end = text.find('\n');
  d.platform_line = std::string(text.substr(0, end));
  if (!d.platform_line.empty() && d.platform_line.back() == '\r') d.platform_line.pop_back();
  if (end == std::string_view::npos) return d;
  text.remove_prefix(end + 1);
  if (text.starts_with("{\"preflight\"")) text.remove_prefix(std::min(text.size(), text.find('\n') + 1));  // preflight_run.hpp
  auto check_end = text.find('\n');  // the check's line
  if (check_end == std::string_view::npos) return d;
  text.remove_prefix(check_end + 1);
  while (text.starts_with("{")) {  // GoogleTest's listing never starts a line with '{'
    auto nl = text.find('\n');
    std::string line(text.substr(0, nl));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    d.hint_lines.push_back(std::move(line));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  d.listing = std::string(text);
  return d;
}

}  // namespace

Described describe_suite(const Command& describe, std::string_view what) {
  Described d;
  d.run = run(describe, Deadline::in(milliseconds(60'000)));
  throw_if_interrupted();
  auto description = split_description(d.run.output);
  if (description.platform_line.empty())
    throw EnvError(fmt::format("the {} could not start: {}", what, last_line(d.run.output)));
  try {
    d.platform = Platform::from_json(nlohmann::json::parse(description.platform_line).at("platform"));
  } catch (const std::exception& e) {
    throw EnvError(fmt::format("the {}'s platform line is unreadable: {}", what, e.what()));
  }
  d.preflight = read_preflight_line(d.run.output, what);
  d.names = parse_test_list(description.listing);
  for (const auto& line : description.hint_lines) {
    try {
      d.may_run_long.insert(nlohmann::json::parse(line).at("may_run_long").at("test").get<std::string>());
    } catch (const std::exception& e) {
      throw EnvError(fmt::format("the {}'s description has an unreadable line: {}", what, e.what()));
    }
  }
  return d;
}

namespace {

// A listed test with no result line was lost: a timeout when its suite passed its deadline, else a
// failure; the catalog gives its claim.
void add_lost_tests(RunResults& results, const std::vector<std::string>& names, const std::set<std::string>& seen,
                    const ClaimsCatalog& catalog, std::string_view backend, bool timed_out, const std::string& why_timed_out,
                    const std::string& why_ended) {
  for (const auto& name : names) {
    if (seen.contains(name)) continue;
    TestResult lost;
    lost.name = name;
    const Claim* c = catalog.claim_of_test(name);
    lost.claim = c ? c->id : "";
    lost.backend = std::string(backend);
    lost.outcome = timed_out ? Outcome::timeout : Outcome::fail;
    lost.detail = "no result: " + (timed_out ? why_timed_out : why_ended);
    results.tests.push_back(std::move(lost));
  }
}

// What fails a platform's gate: each test the gate does not accept, and (in a run of every test)
// each known deviation whose test did not run at all.
int gate_mismatches(const RunResults& results, const Expectations& expectations, bool filtered) {
  int bad = 0;
  std::set<std::string> ran;
  for (const auto& t : results.tests) {
    bad += !gate_accepts(t.outcome);
    ran.insert(t.name);
  }
  if (!filtered)
    for (const auto& d : expectations.deviations()) bad += !ran.contains(d.test);
  return bad;
}

void print_summary(const RunResults& r, const ClaimsCatalog& catalog, double seconds, int shards,
                   const fs::path& json_path, const fs::path& junit_path) {
  std::map<std::string, std::vector<const TestResult*>> by_claim;
  for (const auto& t : r.tests) by_claim[t.claim].push_back(&t);
  const auto& p = r.platform;
  const std::string what = is_posix_platform(p) ? (p.host.empty() ? p.os + " " + p.version : p.host)
                           : p.wine.empty()     ? "Windows " + p.version
                                                : "Wine " + p.wine + (p.host.empty() ? std::string() : " on " + p.host);
  fmt::print("\ntermsuite conform: {} ({}), {} tests in {} shard(s), {:.1f} s\n\n", p.id, what, r.tests.size(), shards,
             seconds);
  std::size_t width = 5;
  for (const auto& c : catalog.claims()) width = std::max(width, c.id.size());
  constexpr std::size_t grade_width = 16;  // "windows-observed": how well the claim is established for Windows
  constexpr std::size_t status_width = 12;  // "INCONCLUSIVE"
  fmt::print("  {:<{}}  {:<{}} {:<{}} {}\n", "claim", width, "grade", grade_width, "status", status_width, "tests");
  int covered = 0;
  std::map<Outcome, int> counts;  // claims by status
  for (const auto& c : catalog.claims()) {
    auto it = by_claim.find(c.id);
    if (it == by_claim.end()) continue;
    ++covered;
    Outcome worst = Outcome::pass;
    std::map<Outcome, int> n;
    for (auto* t : it->second) {
      ++n[t->outcome];
      if (severity(t->outcome) > severity(worst)) worst = t->outcome;
    }
    ++counts[worst];
    std::string tally;
    for (auto& [o, k] : n) tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", k, to_string(o));
    fmt::print("  {:<{}}  {:<{}} {:<{}} {}\n", c.id, width, to_string(c.grade), grade_width, status_word(worst),
               status_width, tally);
    for (auto* t : it->second)
      if (t->outcome != Outcome::pass)
        fmt::print("  {:<{}}  {:<{}}   {} {}: {}\n", "", width, "", grade_width, status_word(t->outcome), t->name, t->detail);
  }
  for (const auto& [claim, tests] : by_claim)
    if (!catalog.find(claim))
      for (auto* t : tests)
        fmt::print("  {:<{}}  {:<{}} {:<{}} {} names unknown claim '{}'\n", "?", width, "?", grade_width, "FAIL", status_width,
                   t->name, claim);
  int total = 0;  // the claims this platform is asked (a POSIX system: the POSIX claims)
  for (const auto& c : catalog.claims()) total += claim_applies(c, p);
  const int pass = counts[Outcome::pass], xfail = counts[Outcome::xfail], inconclusive = counts[Outcome::inconclusive],
            skipped = counts[Outcome::skip];
  // A claim whose worst test was skipped is not failing: this machine could not ask it (the
  // preflight says why).
  const std::string skipped_part = skipped ? fmt::format(", {} skipped", skipped) : std::string();
  fmt::print("\n  {} claims of the catalog asked of {}: {} checked here ({} pass, {} known deviation, {} inconclusive{}, {} failing), "
             "{} not covered yet\n",
             total, is_posix_platform(p) ? "a POSIX system" : "Windows", covered, pass, xfail, inconclusive, skipped_part,
             covered - pass - xfail - inconclusive - skipped, total - covered);
  // The gate accepts an inconclusive test (the platform did nothing wrong that it could see), but it
  // proved nothing here: each is named with what its control saw.
  std::vector<const TestResult*> unsure;
  for (const auto& t : r.tests)
    if (t.outcome == Outcome::inconclusive) unsure.push_back(&t);
  std::sort(unsure.begin(), unsure.end(), [](auto* a, auto* b) { return a->name < b->name; });
  if (!unsure.empty()) {
    fmt::print("  inconclusive here ({} test(s), accepted by the gate: their control showed nothing on this platform):\n",
               unsure.size());
    for (auto* t : unsure) fmt::print("    {} [{}]: {}\n", t->name, t->claim, t->detail);
  }
  fmt::print("  results: {}\n  junit:   {}\n", json_path.string(), junit_path.string());
}

// Where a run's stable results go (results_file.hpp): results/<name>.json when the run is whole,
// else <run folder>/<name>.partial.json (README.md, "Partial runs").
ResultsWritten write_conform_results(const ConformOptions& o, const std::string& name, const std::string& text,
                                     bool complete) {
  try {
    return write_run_results(o.results_dir, o.run_dir, name, text, complete);
  } catch (const std::runtime_error& e) {
    throw EnvError(e.what());
  }
}

#ifndef _WIN32
// The simulator's stream names its platform itself; keep it, or describe it if it did not.
Platform backend_sim_platform(Platform p) {
  if (p.id.empty()) {
    p.id = "sim";
    p.os = "sim";
  }
  return p;
}

// A backend this partial run did not run leaves no earlier run's partial file to mislead.
void remove_stale_partial(const ConformOptions& o, const std::string& name) {
  std::error_code ec;
  fs::remove(o.run_dir / (name + ".partial.json"), ec);
}

// The simulator's run saw every test: it ended by itself and every stream line was readable.
bool sim_run_complete(const SimRun& r) {
  return !r.finished.timed_out && !r.finished.interrupted && r.problems.empty() && !r.results.tests.empty();
}

// The POSIX suite's run (natively, alongside the Windows shards; a second or two): the POSIX
// counterparts of the Windows claims, asked of the system the runner runs on.
struct PosixRun {
  bool ran = false;  // false: the filter selects none of its tests
  RunResults results;
  Expectations expectations;
  std::vector<std::string> names;
  std::size_t reported = 0;  // tests with a result line
  std::vector<std::string> problems;
  Finished finished;
  double seconds = 0;  // its wall time, from its description to its last result
};

PosixRun run_posix_suite(const ConformOptions& o, const ClaimsCatalog& catalog, const fs::path& out_dir,
                         int timeout_seconds) {
  const auto suite = o.native_build / "bin" / "termsuite-posix";
  if (!fs::exists(suite)) throw EnvError(fmt::format("{} is missing: build first (./termsuite does)", suite.string()));
  auto command = [&](std::vector<std::string> args) {
    Command c{suite.string(), std::move(args), {}, {}, {}};
    c.env["TERMSUITE_EXPECTATIONS_DIR"] = fs::absolute(o.expectations_dir).string();
    c.unset.push_back("TERMSUITE_PLATFORM_ID");  // --platform-id names the Windows platform under test
    return c;
  };
  const auto started = Clock::now();
  PosixRun r;
  std::vector<std::string> describe_args{"--termsuite-describe"};
  if (!o.filter.empty()) describe_args.push_back("--gtest_filter=" + o.filter);
  auto described = describe_suite(command(describe_args), "POSIX suite");
  r.results.platform = described.platform;
  r.expectations = Expectations::load_for(o.expectations_dir, r.results.platform);  // ExpectationsError: exit 2
  if (!described.run.ok()) throw EnvError(last_line(described.run.output));  // the check's reason
  r.names = std::move(described.names);
  if (r.names.empty()) return r;
  r.ran = true;
  const auto stream = out_dir / "posix.jsonl";
  std::error_code ec;
  fs::remove(stream, ec);
  std::vector<std::string> args{"--termsuite-results=" + stream.string(), "--gtest_brief=1"};
  if (!o.filter.empty()) args.push_back("--gtest_filter=" + o.filter);
  r.finished = run(command(args), Deadline::in(std::chrono::seconds(timeout_seconds)), Output::discard,
                   out_dir / "posix.log");
  auto contents = parse_stream(read_text_file(stream), stream.string());
  r.problems = std::move(contents.problems);
  std::set<std::string> seen;
  for (auto& t : contents.tests) {
    seen.insert(t.name);
    r.results.tests.push_back(std::move(t));
  }
  r.reported = seen.size();
  add_lost_tests(r.results, r.names, seen, catalog, "posix", r.finished.timed_out,
                 fmt::format("the POSIX suite passed its {} s deadline", timeout_seconds),
                 "the POSIX suite ended before this test reported (see posix.log)");
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return r;
}
#endif

}  // namespace

int conform(const ConformOptions& o) {
  const auto started = Clock::now();
  // One run per build tree (or unpacked bundle): another is refused at once, naming this one. A
  // run nested in one that holds it (bundle-test, inside `test`) takes none.
  std::optional<RunLock> lock;
  if (o.take_run_lock) lock.emplace(o.build_dir);
#ifndef _WIN32
  const auto wine_under_test = choose_wine(o.wine);
#endif
  if (!o.expectations_from.empty()) check_expectations_source(o.expectations_dir, o.expectations_from);
  // The preflight (preflight.hpp): a setting an earlier, killed run left changed is put back
  // first; the Linux runner's own checks; then the suite's answer, in its description.
  RunSettings::recover();
  std::vector<preflight::Finding> findings;
#ifndef _WIN32
  findings = preflight::judge_host(host_facts(wine_under_test));
#else
  if (auto f = wine_address_space_finding()) findings.push_back(std::move(*f));
#endif
  const auto preflight_file = o.run_dir / "preflight.json";  // what the suite processes read
  const auto suite = o.build_dir / "bin" / "termsuite-live.exe";
  if (!fs::exists(suite)) throw EnvError(fmt::format("{} is missing: build first (./termsuite does)", suite.string()));
  auto catalog = ClaimsCatalog::load(o.source_dir / "docs" / "claims.json");

#ifdef _WIN32
  // On Windows the suite runs directly: there is no Wine to manage.
  auto suite_command = [&](std::vector<std::string> args) {
    Command c{suite.string(), std::move(args), {}, {}, o.build_dir / "bin"};
    c.env["TERMSUITE_EXPECTATIONS_DIR"] = fs::absolute(o.expectations_dir).string();
    if (!o.platform_id.empty()) c.env["TERMSUITE_PLATFORM_ID"] = o.platform_id;  // the suite's xfails and check use it
    c.env["TERMSUITE_PREFLIGHT"] = fs::absolute(preflight_file).string();  // written before the shards start
    return c;
  };
#else
  if (wine_under_test.chosen_by != "PATH")
    fmt::print("termsuite: Wine under test: {} ({}), from {}\n", wine_under_test.launcher.string(),
               wine_under_test.version, wine_under_test.chosen_by);
  WineEnv wine(o.build_dir / "wine", wine_under_test);
  DownOnExit down{wine, o.keep_wine};  // stop Wine and Xvfb however this function ends
  // Owned by this run (dies with it, even on SIGKILL), unless it is to be kept afterwards.
  wine.up(o.keep_wine ? Lifetime::kept : Lifetime::run);

  auto suite_command = [&](std::vector<std::string> args) {
    Command c{wine.wine_program(), {suite.string()}, {}, {}, o.build_dir / "bin"};
    for (auto& a : args) c.args.push_back(std::move(a));
    for (auto& [k, v] : wine.variables()) c.env[k] = v;
    c.env["TERMSUITE_EXPECTATIONS_DIR"] = fs::absolute(o.expectations_dir).string();
    if (!o.platform_id.empty()) c.env["TERMSUITE_PLATFORM_ID"] = o.platform_id;  // the suite's xfails and check use it
    c.env["TERMSUITE_PREFLIGHT"] = fs::absolute(preflight_file).string();  // written before the shards start
    return c;
  };
#endif

  // 1-2. Which platform is this, are its expectations sound, and which tests are there? One
  // suite process answers all three (each Windows process start costs most of a second).
  std::vector<std::string> describe_args{"--termsuite-describe"};
  if (!o.filter.empty()) describe_args.push_back("--gtest_filter=" + o.filter);
  auto described = describe_suite(suite_command(describe_args), "suite");
  const Platform platform = described.platform;
  if (!o.expectations_from.empty() && start_expectations_from(o.expectations_dir, o.expectations_from, platform.id))
    fmt::print("termsuite: {} begun as a copy of {}.json (--expectations-from)\n",
               (o.expectations_dir / (platform.id + ".json")).string(), o.expectations_from);
  auto expectations = Expectations::load_for(o.expectations_dir, platform);  // ExpectationsError: exit 2
  if (!described.run.ok()) throw EnvError(last_line(described.run.output));  // the check's reason
  auto names = std::move(described.names);
  if (names.empty()) throw EnvError(o.filter.empty() ? "the suite has no tests" : "the filter selects no test");
  // The settings the findings ask for, for this run only (restored when `settings` goes, and by
  // its guard if this runner is killed); the suite processes follow the findings after them.
  RunSettings settings;
  for (auto& f : settings.apply(std::move(described.preflight.findings))) {
    if (f.applied)
      fmt::print("termsuite: preflight: {}: {} for this run (restored when it ends)\n", f.check, f.setting->describe());
    findings.push_back(std::move(f));
  }
  std::fflush(stdout);  // said before the suite starts, also when stdout is a file
  write_preflight_file(preflight_file, preflight::Report{described.preflight.facts, findings});

  // 3. Run the suite in shards, each streaming its results line by line, each given its tests by
  // name: the longest first to the least loaded, by the last runs' timings (schedule.hpp).
  const auto out_dir = o.run_dir;
  fs::create_directories(out_dir);
  const auto timings_path = out_dir / "timings.json";
  const auto plan = plan_shards(names, o.jobs, load_timings(timings_path), described.may_run_long);
  const int shards = static_cast<int>(plan.size());
#ifndef _WIN32
  // The simulator's run (natively, well under a second) and the POSIX suite's (natively, a second
  // or two) go alongside the live shards, each of the tests the filter selects.
  auto sim_future =
      std::async(std::launch::async, [&] { return run_sim_suite(o.native_build, "", out_dir / "sim.jsonl", o.filter); });
  auto posix_future = std::async(std::launch::async, [&] { return run_posix_suite(o, catalog, out_dir, o.timeout_seconds); });
#endif
  std::vector<Finished> finished(static_cast<std::size_t>(shards));
  std::vector<fs::path> streams;
  {
#ifdef _WIN32
    const std::string alongside;
#else
    const std::string alongside = " under Wine, the simulator and the POSIX suite alongside";
#endif
    announce_phase(fmt::format("suite: {} tests in {} suite process(es){}", names.size(), shards, alongside),
                   fmt::format("logs: {}", shown_path(out_dir / "shard-N.log")));
    const auto deadline = Deadline::in(std::chrono::seconds(o.timeout_seconds));
    std::vector<std::thread> threads;
    for (int i = 0; i < shards; ++i) {
      auto stream = out_dir / fmt::format("shard-{}.jsonl", i);
      fs::remove(stream);
      streams.push_back(stream);
      auto c = suite_command({"--termsuite-results=" + stream.string(), "--gtest_brief=1",
                              "--gtest_filter=" + exact_filter(plan[static_cast<std::size_t>(i)])});
      threads.emplace_back([&, c, i] {
        finished[static_cast<std::size_t>(i)] =
            run(c, deadline, Output::discard, out_dir / fmt::format("shard-{}.log", i));
      });
    }
    LiveProgress progress(streams, names.size());  // on a terminal only; cleared when the shards are done
    for (auto& t : threads) t.join();
  }
  throw_if_interrupted();

  // 4. Merge. A listed test with no result line was lost: say why.
  RunResults results;
  results.platform = platform;
  results.preflight = preflight::changed_the_run(findings);
  std::set<std::string> seen;
  std::vector<std::string> problems;
  for (int i = 0; i < shards; ++i) {
    auto contents = parse_stream(read_text_file(streams[static_cast<std::size_t>(i)]), streams[static_cast<std::size_t>(i)].string());
    for (auto& p : contents.problems) problems.push_back(p);
    for (auto& t : contents.tests) {
      seen.insert(t.name);
      results.tests.push_back(std::move(t));
    }
  }
  bool any_timed_out = false;
  for (const auto& f : finished) any_timed_out |= f.timed_out;
  add_lost_tests(results, names, seen, catalog, "live", any_timed_out,
                 fmt::format("the suite run passed its {} s deadline", o.timeout_seconds),
                 "the suite process ended before this test reported (see shard logs)");

  // 5. Is the run whole? Only a run of every test, each of whose results arrived (the live suite's,
  // the simulator's, the POSIX suite's), writes the committed results and their matrix; any other
  // writes all of them into the run folder and leaves results/ as it was, so that the files there
  // always come from one full run.
  std::vector<std::string> partial_because;
  if (!o.filter.empty()) partial_because.push_back("--filter '" + o.filter + "'");
  else if (results.tests.size() != seen.size() || !problems.empty())
    partial_because.push_back("live results were lost");
#ifndef _WIN32
  auto simrun = sim_future.get();
  auto posixrun = posix_future.get();
  throw_if_interrupted();
  if (o.filter.empty() && !sim_run_complete(simrun)) partial_because.push_back("the simulator's results were lost");
  if (o.filter.empty() && posixrun.ran &&
      (posixrun.reported != posixrun.names.size() || !posixrun.problems.empty() || posixrun.finished.timed_out))
    partial_because.push_back("the POSIX suite's results were lost");
#endif
  const bool complete = partial_because.empty();
  std::vector<MatrixColumn> columns;  // this run's results, for a partial run's matrix

  // 6. Write and report.
  const auto junit_path = out_dir / (platform.id + ".junit.xml");
  const auto written = write_conform_results(o, platform.id, stable_json(results), complete);
  columns.push_back({written.path.filename().string(), {}, results, expectations});
  write_file(junit_path, junit_xml(results));
  save_timings(timings_path, updated_timings(load_timings(timings_path), results.tests));  // next run's plan
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  print_summary(results, catalog, seconds, shards, written.path, junit_path);
  print_changes(findings);
  for (const auto& p : problems) fmt::print("  problem: {}\n", p);

  // 7. The simulator: the documents, executable. It runs the same scenarios (natively, in
  // milliseconds; the same filter) and must pass them all; where the live platform differs, say
  // where. The Windows bundle has no simulator: ./termsuite conform on Linux runs it.
  int sim_bad = 0, posix_bad = 0;
  std::string posix_platform, posix_origin;  // the POSIX suite's platform, when it ran
  std::size_t posix_deviations = 0;
#ifndef _WIN32
  simrun.results.platform = backend_sim_platform(simrun.results.platform);
  // The simulator is the documents, executable: each of its tests must tell, so an inconclusive
  // one counts against it too.
  auto sim_wrong = [](Outcome o) { return !gate_accepts(o) || o == Outcome::inconclusive; };
  if (simrun.results.tests.empty() && !o.filter.empty() && simrun.finished.ok() && simrun.problems.empty()) {
    remove_stale_partial(o, "sim");
    fmt::print("\n  simulator: the filter selects none of its tests\n");
  } else {
    const auto sim_path = write_conform_results(o, "sim", stable_json(simrun.results), complete).path;
    std::map<std::string, const TestResult*> sim_by_name;
    for (const auto& t : simrun.results.tests) {
      sim_bad += sim_wrong(t.outcome);
      sim_by_name[t.name] = &t;
    }
    if (simrun.results.tests.empty()) ++sim_bad;
    // Where the two differ, the simulator does what the documents say: each difference is the live
    // platform's, and the summary says which kind, so a newcomer reads the list for what it is.
    std::vector<std::string> differ;
    int both = 0, known = 0, unsure = 0, skipped = 0, other = 0;
    for (const auto& t : results.tests) {
      auto it = sim_by_name.find(t.name);
      if (it == sim_by_name.end()) continue;
      ++both;
      if (t.outcome == it->second->outcome) continue;
      std::string_view why;
      switch (t.outcome) {
        case Outcome::xfail: ++known, why = " (a known deviation of the live platform)"; break;
        case Outcome::inconclusive: ++unsure, why = " (inconclusive live: its control showed nothing there)"; break;
        case Outcome::skip: ++skipped, why = " (skipped live: this machine cannot run it)"; break;
        default: ++other; break;
      }
      differ.push_back(fmt::format("{}: live {}, sim {}{}", t.name, to_string(t.outcome), to_string(it->second->outcome), why));
    }
    fmt::print("\n  simulator: {} tests ({} simulator-only), {} failing; results: {}\n", simrun.results.tests.size(),
               simrun.results.tests.size() - static_cast<std::size_t>(both), sim_bad, sim_path.string());
    fmt::print("  live and simulator agree on {} of the {} tests they share\n", both - static_cast<int>(differ.size()), both);
    if (!differ.empty()) {
      std::vector<std::string> kinds;
      if (known)
        kinds.push_back(fmt::format("{} known deviation(s) of the live platform, each listed with its reason in its "
                                    "expectations file",
                                    known));
      if (unsure) kinds.push_back(fmt::format("{} inconclusive live", unsure));
      if (skipped) kinds.push_back(fmt::format("{} skipped live", skipped));
      if (other) kinds.push_back(fmt::format("{} not accepted by the gate (see the result below)", other));
      fmt::print("  the simulator follows the documents, so each difference is the live platform's: {}{}\n",
                 fmt::join(kinds, ", "), other ? "" : "; none fails the gate");
    }
    for (const auto& d : differ) fmt::print("    differs: {}\n", d);
    for (const auto& t : simrun.results.tests)
      if (sim_wrong(t.outcome)) fmt::print("    simulator {}: {}: {}\n", status_word(t.outcome), t.name, t.detail);
    columns.push_back({sim_path.filename().string(), {}, simrun.results,
                       Expectations::load_for(o.expectations_dir, simrun.results.platform)});
  }
  for (const auto& p : simrun.problems) {
    fmt::print("  problem: {}\n", p);
    problems.push_back(p);
  }

  // 8. The POSIX system this runs on: its own column, its own expectations, the same gate.
  if (posixrun.ran) {
    const auto& pid = posixrun.results.platform.id;
    const auto posix_written = write_conform_results(o, pid, stable_json(posixrun.results), complete);
    const auto posix_junit = out_dir / (pid + ".junit.xml");
    write_file(posix_junit, junit_xml(posixrun.results));
    print_summary(posixrun.results, catalog, posixrun.seconds, 1, posix_written.path, posix_junit);
    posix_bad = gate_mismatches(posixrun.results, posixrun.expectations, !o.filter.empty());
    for (const auto& p : posixrun.problems) {
      fmt::print("  problem: {}\n", p);
      problems.push_back(p);
    }
    posix_platform = pid;
    posix_deviations = posixrun.expectations.deviations().size();
    posix_origin = posixrun.expectations.from_file()
                       ? fs::relative(posixrun.expectations.origin(), o.source_dir).string()
                       : std::string("no file");
    columns.insert(columns.begin() + 1, {posix_written.path.filename().string(), {}, posixrun.results, posixrun.expectations});
  } else {
    if (!posixrun.results.platform.id.empty()) remove_stale_partial(o, posixrun.results.platform.id);
    fmt::print("\n  POSIX suite: the filter selects none of its tests\n");
  }
#endif
  // 9. The conformance matrix: of every committed results file after a full run; of this run's
  // results alone, in the run folder, after a partial one.
  std::error_code ec;
  if (complete) {
    report({o.source_dir / "docs" / "claims.json", o.results_dir, o.expectations_dir, {}, o.source_dir});
    for (const char* stale : {"report.html", "MATRIX.md"}) fs::remove(out_dir / stale, ec);  // a partial run's
  } else {
    const auto files = write_matrix(catalog, columns, out_dir);
    fmt::print("  report:  {}\n  matrix:  {}\n", files.html.string(), files.markdown.string());
    std::string why;
    for (const auto& w : partial_because) why += (why.empty() ? "" : ", ") + w;
    fmt::print("\n  a partial run ({}): the results in {} are left as they were; this run's results and matrix are in {}\n", why,
               o.results_dir.string(), out_dir.string());
  }
  int bad = sim_bad + posix_bad;
  bad += gate_mismatches(results, expectations, !o.filter.empty());
  const std::string posix_too = posix_platform.empty() ? std::string() : " and " + posix_platform;
  if (bad || !problems.empty()) {
    fmt::print("\nresult: {}{} do NOT match their expectations ({} test(s) failing, unexpectedly passing or lost)\n",
               platform.id, posix_too, bad);
    return 1;
  }
  auto where = [&](const Expectations& e) {
    return e.from_file() ? fs::relative(e.origin(), o.source_dir).string() : std::string("no file");
  };
  fmt::print("\nresult: {} matches its expectations ({} known deviation(s) in {}){}\n", platform.id,
             expectations.deviations().size(), where(expectations),
             posix_platform.empty() ? std::string()
                                    : fmt::format(", and so does {} ({} known deviation(s) in {})", posix_platform,
                                                  posix_deviations, posix_origin));
  return 0;
}

}  // namespace termsuite::runner
