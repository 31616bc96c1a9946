// The explorer's loop: predict, play, compare, confirm, shrink, triage (explore.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <chrono>
#include <cmath>
#include <future>
#include <cctype>
#include <map>
#include <set>

#include "termsuite/explore.hpp"
#include "termsuite/verbs.hpp"

namespace termsuite::explore {

using scenario::Op;
using scenario::Scenario;
using scenario::Step;
using scenario::Trace;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// "5 wait a: signaled" -> {"wait", "signaled"}; a records line -> {"records", ""}.
std::pair<std::string, std::string> parts(const std::string& line) {
  if (line.rfind("records ", 0) == 0) return {"records", ""};
  auto sp = line.find(' ');
  auto colon = line.find(": ");
  if (sp == std::string::npos || colon == std::string::npos) return {line, ""};
  auto op_end = line.find(' ', sp + 1);
  return {line.substr(sp + 1, std::min(op_end, colon) - sp - 1), line.substr(colon + 2)};
}

// Every record of a trace's records lines, as "ROLE: record".
std::multiset<std::string> records(const Trace& t) {
  std::multiset<std::string> out;
  for (const auto& l : t.lines) {
    if (l.rfind("records ", 0) != 0) continue;
    auto colon = l.find(':');
    std::string role = l.substr(8, colon - 8);
    std::size_t i = colon;
    while ((i = l.find('[', i)) != std::string::npos) {
      auto j = l.find(']', i);
      std::string body = l.substr(i + 1, j - i - 1);
      std::size_t k = 0;
      while (k <= body.size() && !body.empty()) {
        auto e = body.find(", ", k);
        if (e == std::string::npos) e = body.size();
        out.insert(role + ": " + body.substr(k, e - k));
        k = e + 2;
      }
      i = j;
    }
  }
  return out;
}

std::string strip_role(const std::string& r) {
  auto c = r.find(": ");
  return c == std::string::npos ? r : r.substr(c + 2);
}

}  // namespace

Trace predict(const Scenario& s, const Oracle& oracle, const std::string& mutant, std::vector<std::string>* consulted) {
  auto sys = oracle.make(mutant);
  auto t = scenario::run(s, *sys);
  if (consulted) {
    if (oracle.consulted) {
      *consulted = oracle.consulted(*sys);
    } else {
      consulted->clear();
      for (const auto& m : oracle.mutants) consulted->push_back(m.name);
    }
  }
  return t;
}

std::vector<std::string> consulted_mutants(const Scenario& s, const Oracle& oracle) {
  std::vector<std::string> c;
  predict(s, oracle, "", &c);
  return c;
}

std::optional<Difference> compare(const Trace& model, const Trace& live) {
  const std::size_t n = std::max(model.lines.size(), live.lines.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string m = i < model.lines.size() ? model.lines[i] : "";
    std::string l = i < live.lines.size() ? live.lines[i] : "";
    if (m == l) continue;
    Difference d;
    d.line = i;
    d.model = m;
    d.live = l;
    d.last_agreement = i > 0 ? model.lines[i - 1] : "";
    auto [mop, mres] = parts(m);
    auto [lop, lres] = parts(l);
    if (l.rfind("error: ", 0) == 0) {
      d.signature = "error: the platform could not play it";
    } else if (mop == "records" || lop == "records") {
      // The records both sides wrote, each side's extra ones named without their process's
      // role, so that the signature survives shrinking.
      auto mr = records(model), lr = records(live);
      std::set<std::string> plus, minus;
      for (const auto& r : lr)
        if (lr.count(r) > mr.count(r)) plus.insert(strip_role(r));
      for (const auto& r : mr)
        if (mr.count(r) > lr.count(r)) minus.insert(strip_role(r));
      d.signature = "records:";
      for (const auto& r : plus) d.signature += " +" + r;
      for (const auto& r : minus) d.signature += " -" + r;
      if (plus.empty() && minus.empty()) d.signature += " in another order or thread";
    } else {
      d.signature = fmt::format("{}: {} -> {}", mop, mres, lres);
    }
    return d;
  }
  return std::nullopt;
}

std::string bucket(const Scenario& s, const Difference& d) {
  auto [op, model_value] = parts(d.model);
  auto [live_op, live_value] = parts(d.live);
  if (op == "records" || live_op == "records" || d.line >= s.steps.size() || op != live_op) return d.signature;
  auto name = [&](const std::string& value) -> std::string {
    auto v = verbs::parse_u32(value);
    // 0 and 1 are everybody's codes (taskkill /f's, a default handler's under Wine): only a
    // code a step chose is named by it.
    if (!v || value.rfind("0x", 0) != 0 || *v <= 1) return value;
    // The latest step before the difference that gave this number: a harness step's code, or an
    // actor's verb with this operand.
    for (std::size_t i = d.line; i-- > 0;) {
      const Step& st = s.steps[i];
      if ((st.op == Op::terminate || st.op == Op::terminate_thread || st.op == Op::terminate_job) && st.number == *v)
        return fmt::format("<{}'s code>", scenario::op_name(st.op));
      if (st.op == Op::start)
        for (std::size_t k = st.verbs.size(); k-- > 1;) {
          auto n = verbs::parse_u32(st.verbs[k]);
          if (n && *n == *v && std::islower(static_cast<unsigned char>(st.verbs[k - 1][0])))
            return fmt::format("<{}'s code>", st.verbs[k - 1]);
        }
    }
    return value;
  };
  return fmt::format("{}: {} -> {}", op, name(model_value), name(live_value));
}

// ------------------------------------------------------------------------------------------
// Shrinking

namespace {

// The spans of a verb list that can go as a whole: a verb with its operands, or a bracket block
// with the verb before it; nested blocks too. Candidates that do not parse are skipped later.
std::vector<std::pair<std::size_t, std::size_t>> spans(const std::vector<std::string>& v) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == "[" || v[i] == "]") continue;
    if (i + 1 < v.size() && v[i + 1] == "[") {
      int depth = 0;
      std::size_t j = i + 1;
      for (; j < v.size(); ++j) {
        if (v[j] == "[") ++depth;
        if (v[j] == "]" && --depth == 0) break;
      }
      out.emplace_back(i, j + 1);
      // The block's body instead of the block (hoisted).
      continue;
    }
    for (std::size_t len = 1; len <= 3 && i + len <= v.size(); ++len) out.emplace_back(i, i + len);
  }
  return out;
}

bool verbs_parse(const std::vector<std::string>& v) {
  try {
    verbs::parse(v);
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

Scenario shrink(const Scenario& s, const Oracle& oracle,
                const std::function<std::vector<bool>(const std::vector<Scenario>&)>& interesting, int width,
                int max_tests) {
  Scenario best = s;
  int tests = 0;
  std::set<std::string> tried;
  // One round: every candidate one reduction away from `best`, coarse ones first (ddmin's chunks
  // of steps, then single steps from the last, then verbs, blocks and options of the actors),
  // each normalized; tried in groups of `width` at once, the first interesting one in this order
  // wins, so the result does not depend on the width.
  auto candidates = [&] {
    std::vector<Scenario> out;
    auto add = [&](Scenario intent) {
      Scenario c;
      try {
        c = normalize(intent, oracle);
      } catch (...) {
        return;
      }
      if (c == best || size(c) == 0 || tried.contains(c.text())) return;
      for (const auto& o : out)
        if (o == c) return;
      out.push_back(std::move(c));
    };
    std::vector<Step> steps;
    for (const auto& st : best.steps)
      if (st.op != Op::await && st.op != Op::settle) steps.push_back(st);
    for (std::size_t chunk = std::max<std::size_t>(1, steps.size() / 2);; chunk /= 2) {
      for (std::size_t end = steps.size(); end >= chunk && end > 0; --end) {
        Scenario c;
        for (std::size_t i = 0; i < steps.size(); ++i)
          if (i < end - chunk || i >= end) c.steps.push_back(steps[i]);
        add(std::move(c));
      }
      if (chunk <= 1) break;
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].op != Op::start) continue;
      const auto& v = steps[i].verbs;
      for (auto [a, b] : spans(v)) {
        std::vector<std::string> nv(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(a));
        nv.insert(nv.end(), v.begin() + static_cast<std::ptrdiff_t>(b), v.end());
        if (nv.empty() || !verbs_parse(nv)) continue;
        Scenario c;
        c.steps = steps;
        c.steps[i].verbs = nv;
        add(std::move(c));
      }
      if (steps[i].new_group || !steps[i].job.empty()) {
        Scenario c;
        c.steps = steps;
        c.steps[i].new_group = false;
        c.steps[i].job.clear();
        add(std::move(c));
      }
    }
    return out;
  };
  for (bool progress = true; progress && tests < max_tests;) {
    progress = false;
    auto round = candidates();
    for (std::size_t at = 0; at < round.size() && !progress && tests < max_tests;) {
      const std::size_t n = std::min<std::size_t>({static_cast<std::size_t>(std::max(1, width)), round.size() - at,
                                                   static_cast<std::size_t>(max_tests - tests)});
      std::vector<Scenario> group(round.begin() + static_cast<std::ptrdiff_t>(at),
                                  round.begin() + static_cast<std::ptrdiff_t>(at + n));
      auto answers = interesting(group);
      tests += static_cast<int>(n);
      for (std::size_t k = 0; k < n; ++k) {
        tried.insert(group[k].text());
        if (!progress && k < answers.size() && answers[k]) {
          best = group[k];
          progress = true;
        }
      }
      at += n;
    }
  }
  return best;
}

Scenario shrink(const Scenario& s, const Oracle& oracle, const std::function<bool(const Scenario&)>& interesting,
                int max_tests) {
  return shrink(
      s, oracle,
      [&](const std::vector<Scenario>& group) {
        std::vector<bool> out;
        for (const auto& c : group) out.push_back(interesting(c));
        return out;
      },
      1, max_tests);
}

// ------------------------------------------------------------------------------------------
// Triage and coverage

Triage triage(const Scenario& s, const Difference& d, const Trace& live, const Oracle& oracle) {
  Triage t;
  const Trace model = predict(s, oracle);
  std::set<std::string> claims;
  for (const auto& m : oracle.mutants) {
    Trace mt;
    try {
      mt = predict(s, oracle, m.name);
    } catch (...) {
      continue;
    }
    auto dm = compare(model, mt);
    if (!dm) continue;
    // The mutant answers as the platform does at the line where the platform differs.
    const bool reproduces = !compare(mt, live) || (bucket(s, *dm) == d.signature) ||
                            (dm->line == d.line && d.line < mt.lines.size() && d.line < live.lines.size() &&
                             mt.lines[d.line] == live.lines[d.line]);
    if (reproduces) t.reproduced_by.push_back(m.name);
    else if (dm->line == d.line) t.involves.push_back(m.name);
  }
  for (const auto& list : {t.reproduced_by, t.involves})
    for (const auto& name : list)
      for (const auto& m : oracle.mutants)
        if (m.name == name && claims.insert(m.claim).second) t.claims.push_back(m.claim);
  return t;
}

std::vector<std::string> killed_mutants(const Scenario& s, const Trace& model, const Oracle& oracle) {
  std::vector<std::string> out;
  for (const auto& m : oracle.mutants) {
    try {
      if (compare(model, predict(s, oracle, m.name))) out.push_back(m.name);
    } catch (...) {
      out.push_back(m.name);  // the mutant's model could not even play it: told apart
    }
  }
  return out;
}

Known Known::from_expectations(const Json& e) {
  Known k;
  if (e.contains("deviations") && e["deviations"].is_array())
    for (const auto& d : e["deviations"])
      if (d.contains("claim") && d["claim"].is_string()) k.deviation_claims.push_back(d["claim"].get<std::string>());
  if (e.contains("explore") && e["explore"].is_array())
    for (const auto& f : e["explore"])
      k.findings.push_back({f.value("signature", ""), f.value("claim", ""), f.value("reason", "")});
  return k;
}

Known Known::from_expectations(const Expectations& e) {
  Known k;
  for (const auto& d : e.deviations()) k.deviation_claims.push_back(d.claim);
  for (const auto& f : e.explore_findings()) k.findings.push_back({f.signature, f.claim, f.reason});
  return k;
}

std::optional<std::string> Known::explains(const Difference& d, const Triage& t) const {
  for (const auto& f : findings)
    if (f.signature == d.signature) return fmt::format("triaged ({}): {}", f.claim, f.reason);
  // A mutant that reproduces the platform's answer names the rule the platform breaks; if the
  // expectations already list that claim as a deviation, the finding is the known one.
  for (const auto& claim : t.claims) {
    if (std::find(deviation_claims.begin(), deviation_claims.end(), claim) == deviation_claims.end()) continue;
    if (!t.reproduced_by.empty()) return fmt::format("{} is a known deviation of this platform", claim);
  }
  return std::nullopt;
}

int Summary::new_findings() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return !f.known; }));
}

// ------------------------------------------------------------------------------------------
// The loop

namespace {

// A batch made on the model: scenarios, their predictions, and what was generated.
struct Prepared {
  std::vector<Scenario> scenarios;
  std::vector<Trace> predicted;
  std::map<std::string, int> steps_by_op, verbs;
  std::vector<std::string> invalid;  // generator bugs: "seed N: what"
  std::vector<std::vector<std::string>> consulted;  // guided: the mutants each prediction consulted
  double seconds = 0;
};

// `untold`: when guided, the mutants no scenario chosen so far tells apart. Then 2n candidates
// are made and the n played are, first, those that tell a mutant of `untold` apart (each taken out
// of it as it is told), then the others, in the order of their seeds.
constexpr std::uint64_t kCandidates = 8;  // scenarios made for each one played, when guided

// `deviant`: the mutants that stand for the platform's known deviations. A candidate tells a
// mutant apart only before the first line where one of them differs from the model: there the
// platform is expected to differ, and no later line is compared.
Prepared prepare(const Options& o, const Oracle& oracle, std::uint64_t first, std::size_t n,
                 std::set<std::string>* untold = nullptr, const std::set<std::string>& deviant = {}) {
  Prepared p;
  const auto t = Clock::now();
  const std::uint64_t made = untold ? kCandidates * n : n;
  for (std::uint64_t index = first; index < first + made; ++index) {
    const std::uint64_t seed = scenario_seed(o.seed, index);
    Scenario s;
    try {
      s = generate(seed, oracle, o.gen);
      scenario::parse(s.text(), "generated");  // a generator bug if it does not parse
    } catch (const std::exception& e) {
      p.invalid.push_back(fmt::format("seed {}: {}", seed, e.what()));
      continue;
    }
    for (const auto& st : s.steps) {
      ++p.steps_by_op[std::string(scenario::op_name(st.op))];
      if (st.op == Op::start)
        for (const auto& v : st.verbs)
          if (!v.empty() && std::islower(static_cast<unsigned char>(v[0]))) ++p.verbs[v];
    }
    std::vector<std::string> consulted;
    p.predicted.push_back(predict(s, oracle, "", untold ? &consulted : nullptr));
    p.consulted.push_back(std::move(consulted));
    p.scenarios.push_back(std::move(s));
  }
  if (untold) {
    std::vector<std::size_t> telling, others;
    for (std::size_t i = 0; i < p.scenarios.size(); ++i) {
      std::size_t cut = std::numeric_limits<std::size_t>::max();
      for (const auto& m : p.consulted[i]) {
        if (!deviant.contains(m)) continue;
        try {
          if (auto d = compare(p.predicted[i], predict(p.scenarios[i], oracle, m))) cut = std::min(cut, d->line);
        } catch (...) {
        }
      }
      std::vector<std::string> told;
      for (const auto& m : p.consulted[i]) {
        if (!untold->contains(m)) continue;
        try {
          if (auto d = compare(p.predicted[i], predict(p.scenarios[i], oracle, m)); d && d->line < cut) told.push_back(m);
        } catch (...) {
          told.push_back(m);
        }
      }
      for (const auto& m : told) untold->erase(m);
      (told.empty() ? others : telling).push_back(i);
    }
    telling.insert(telling.end(), others.begin(), others.end());
    telling.resize(std::min(telling.size(), n));
    std::sort(telling.begin(), telling.end());
    Prepared chosen;
    chosen.steps_by_op = std::move(p.steps_by_op);
    chosen.verbs = std::move(p.verbs);
    chosen.invalid = std::move(p.invalid);
    for (auto i : telling) {
      chosen.scenarios.push_back(std::move(p.scenarios[i]));
      chosen.predicted.push_back(std::move(p.predicted[i]));
      chosen.consulted.push_back(std::move(p.consulted[i]));
    }
    chosen.seconds = since(t);
    return chosen;
  }
  p.seconds = since(t);
  return p;
}

// The mutants a batch tells apart from the model (every `step`-th scenario: each mutant costs a
// prediction).
std::set<std::string> cover(const Prepared& p, const Oracle& oracle, std::size_t step) {
  std::set<std::string> out;
  for (std::size_t i = 0; i < p.scenarios.size(); i += step)
    for (auto& m : killed_mutants(p.scenarios[i], p.predicted[i], oracle)) out.insert(m);
  return out;
}

}  // namespace

Summary run(const Options& o, const Oracle& oracle, LiveRunner* live, const Known& known) {
  Summary sum;
  sum.seed = o.seed;
  const auto t0 = Clock::now();
  std::set<std::string> mutants_covered;
  std::set<std::string> signatures_seen, known_seen;
  std::uint64_t index = 0;
  auto say = [&](const std::string& s) {
    if (o.progress) o.progress(s);
  };
  auto play = [&](const std::vector<Scenario>& batch, const std::vector<Trace>& expected) {
    const auto t = Clock::now();
    auto traces = live->play(batch, expected);
    sum.live_seconds += since(t);
    return traces;
  };
  // Large enough that a scenario waiting out a deadline (a known deviation's timeout) holds up one
  // player while the others go on, small enough that a batch is a few seconds of play.
  const std::size_t batch_size = live ? static_cast<std::size_t>(std::max(1, live->parallel()) * 40) : 32;
  auto wanted = [&](int made) {
    if (since(t0) >= o.budget_seconds) return std::size_t{0};
    if (!o.max_scenarios) return batch_size;
    return static_cast<std::size_t>(std::clamp(*o.max_scenarios - made, 0, static_cast<int>(batch_size)));
  };
  auto absorb = [&](Prepared& p) {
    sum.model_seconds += p.seconds;
    for (auto& [k, v] : p.steps_by_op) sum.steps_by_op[k] += v;
    for (auto& [k, v] : p.verbs) sum.verbs[k] += v;
    for (auto& bad : p.invalid) ++sum.invalid, say("generator: " + bad);
  };
  // The model's work for the next batch (generating, predicting, coverage) runs while the
  // platform plays this one: on the calling thread only the platform is driven (its players
  // must be started by the thread that outlives them).
  // Guided: the mutants no chosen scenario tells apart yet; the scenarios that tell one apart are
  // played first (prepare).
  std::set<std::string> untold, deviant;
  for (const auto& m : oracle.mutants)
    if (std::find(known.deviation_claims.begin(), known.deviation_claims.end(), m.claim) != known.deviation_claims.end())
      deviant.insert(m.name);
  if (o.guided)
    for (const auto& m : oracle.mutants)
      if (!deviant.contains(m.name)) untold.insert(m.name);
  std::set<std::string>* guide = o.guided ? &untold : nullptr;
  const std::uint64_t per_scenario = o.guided ? kCandidates : 1;  // candidates made for each scenario played
  std::size_t n = wanted(0);
  Prepared cur = prepare(o, oracle, index, n, guide, deviant);
  index += per_scenario * n;
  absorb(cur);
  while (!cur.scenarios.empty()) {
    sum.scenarios += static_cast<int>(cur.scenarios.size());
    const std::size_t next_n = wanted(sum.scenarios);
    auto ahead = std::async(std::launch::async, [&, first = index, next_n] {
      auto covered = guide ? std::set<std::string>{} : cover(cur, oracle, live ? 2 : cur.scenarios.size());
      return std::make_pair(prepare(o, oracle, first, next_n, guide, deviant), covered);
    });
    index += per_scenario * next_n;
    std::vector<Trace> traces;
    if (live) {
      const auto tp = Clock::now();
      traces = play(cur.scenarios, cur.predicted);
      sum.play_seconds += since(tp);
    }
    auto [next, covered] = ahead.get();
    mutants_covered.insert(covered.begin(), covered.end());
    // The model alone: its own traces are the corpus (what the grammar can tell apart at best).
    for (std::size_t i = 0; !live && o.keep_corpus && i < cur.scenarios.size(); ++i)
      sum.corpus.push_back({cur.scenarios[i], cur.predicted[i], cur.predicted[i].lines.size(),
                            i < cur.consulted.size() ? cur.consulted[i] : std::vector<std::string>{}});
    for (std::size_t i = 0; live && i < cur.scenarios.size(); ++i) {
      sum.scenario_seconds.push_back(traces[i].seconds);
      sum.slowest.emplace_back(traces[i].seconds, cur.scenarios[i].text());
      std::sort(sum.slowest.begin(), sum.slowest.end(), std::greater<>());
      if (sum.slowest.size() > 3) sum.slowest.pop_back();
      auto d = compare(cur.predicted[i], traces[i]);
      if (o.keep_corpus)
        sum.corpus.push_back({cur.scenarios[i], traces[i], d ? d->line : traces[i].lines.size(),
                              i < cur.consulted.size() ? cur.consulted[i] : std::vector<std::string>{}});
      if (!d) continue;
      d->signature = bucket(cur.scenarios[i], *d);
      ++sum.disagreements;
      if (!signatures_seen.insert(d->signature).second) continue;  // met already
      // Triage on the model first: a known deviation met again through another claim's rule or
      // other codes is counted, not confirmed and shrunk again.
      auto t = triage(cur.scenarios[i], *d, traces[i], oracle);
      auto why = known.explains(*d, t);
      if (why) {
        const std::string key = parts(d->model).first + " " + (t.claims.empty() ? d->signature : t.claims.front());
        if (!known_seen.insert(key).second) continue;
      }
      if (static_cast<int>(sum.findings.size()) >= o.max_findings) continue;
      // Confirm: the same difference on every re-run, else it is a flake (blamed on the
      // generator first: a timing the model does not fix).
      Finding f;
      f.original = cur.scenarios[i];
      const auto tf = Clock::now();
      auto again = play(std::vector<Scenario>(static_cast<std::size_t>(o.confirm_runs), cur.scenarios[i]),
                        std::vector<Trace>(static_cast<std::size_t>(o.confirm_runs), cur.predicted[i]));
      for (const auto& tr : again) {
        ++f.reruns;
        auto da = compare(cur.predicted[i], tr);
        if (da && bucket(cur.scenarios[i], *da) == d->signature) ++f.confirmations;
      }
      if (f.confirmations < o.confirm_runs) {
        ++sum.flaky;
        sum.flaky_signatures.push_back(fmt::format("{} ({} of {} re-runs)\n{}", d->signature, f.confirmations, f.reruns,
                                                   cur.scenarios[i].text()));
        continue;
      }
      const std::string sig = d->signature;
      // Findings met once the budget is spent are kept as found (triaged); the others are shrunk,
      // known ones with a third of the candidates (they are for reading, not for fixing).
      if (since(t0) >= o.budget_seconds) {
        f.minimal = cur.scenarios[i];
        f.model = cur.predicted[i];
        f.live = traces[i];
        f.difference = *d;
      } else {
        say(fmt::format("finding: {} (shrinking {} steps)", sig, size(cur.scenarios[i])));
        f.minimal = shrink(
            cur.scenarios[i], oracle,
            [&](const std::vector<Scenario>& group) {
              // A known finding is shrunk for reading, within 20 s: a candidate that waits out a
              // deadline costs 10.
              if (why && since(tf) > 20) return std::vector<bool>(group.size(), false);
              std::vector<Trace> predicted;
              for (const auto& c : group) predicted.push_back(predict(c, oracle));
              auto played = play(group, predicted);
              std::vector<bool> out;
              for (std::size_t k = 0; k < group.size(); ++k) {
                auto dc = compare(predicted[k], played[k]);
                out.push_back(dc && bucket(group[k], *dc) == sig);
              }
              return out;
            },
            live->parallel(), why ? o.shrink_tests / 3 : o.shrink_tests);
        f.model = predict(f.minimal, oracle);
        f.live = play({f.minimal}, {})[0];  // whole, for the report
        auto dm = compare(f.model, f.live);
        if (dm && bucket(f.minimal, *dm) == sig) {
          dm->signature = sig;
          f.difference = *dm;
        } else {  // the minimal one did not show it again: keep the original
          f.minimal = cur.scenarios[i], f.model = cur.predicted[i], f.live = traces[i], f.difference = *d;
        }
      }
      f.triage = f.minimal == cur.scenarios[i] ? t : triage(f.minimal, f.difference, f.live, oracle);
      f.known = known.explains(f.difference, f.triage);
      f.live_seconds = since(tf);
      say(fmt::format("  {} in {} steps: {}", f.known ? "known" : "NEW", size(f.minimal), f.difference.signature));
      sum.findings.push_back(std::move(f));
    }
    if (live)
      say(fmt::format("{} scenarios, {} disagreements, {} findings, {:.0f} s", sum.scenarios, sum.disagreements,
                      sum.findings.size(), since(t0)));
    absorb(next);
    cur = std::move(next);
  }
  sum.seconds = since(t0);
  if (guide)
    for (const auto& m : oracle.mutants)
      if (!untold.contains(m.name) && !deviant.contains(m.name)) mutants_covered.insert(m.name);
  sum.mutants_covered.assign(mutants_covered.begin(), mutants_covered.end());
  std::set<std::string> claims;
  for (const auto& m : oracle.mutants)
    if (mutants_covered.contains(m.name)) claims.insert(m.claim);
  sum.claims_covered.assign(claims.begin(), claims.end());
  return sum;
}

// ------------------------------------------------------------------------------------------
// Output

Json to_json(const Finding& f) {
  Json j;
  j["signature"] = f.difference.signature;
  j["status"] = f.known ? "known" : "new";
  if (f.known) j["known_because"] = *f.known;
  j["claims"] = f.triage.claims;
  j["reproduced_by_mutants"] = f.triage.reproduced_by;
  j["involves_mutants"] = f.triage.involves;
  j["steps"] = size(f.minimal);
  j["scenario"] = f.minimal.text();
  j["original_steps"] = size(f.original);
  j["first_difference"] = {{"line", f.difference.line}, {"model", f.difference.model}, {"live", f.difference.live},
                           {"last_agreement", f.difference.last_agreement}};
  j["model_trace"] = f.model.lines;
  j["live_trace"] = f.live.lines;
  j["confirmations"] = fmt::format("{} of {}", f.confirmations, f.reruns);
  j["live_seconds"] = std::round(f.live_seconds * 10) / 10;
  return j;
}

Json to_json(const Summary& s, const std::string& platform) {
  Json j;
  j["platform"] = platform;
  j["seed"] = s.seed;
  j["seconds"] = std::round(s.seconds * 10) / 10;
  j["scenarios"] = s.scenarios;
  j["scenarios_per_minute"] = s.seconds > 0 ? std::round(s.scenarios * 60 / s.seconds) : 0;
  j["play_seconds"] = std::round(s.play_seconds * 10) / 10;
  j["played_per_minute"] = s.play_seconds > 0 ? std::round(s.scenarios * 60 / s.play_seconds) : 0;
  if (!s.scenario_seconds.empty()) {
    auto v = s.scenario_seconds;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return std::round(v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))] * 1000) / 1000; };
    j["scenario_seconds"] = {{"median", at(0.5)}, {"p90", at(0.9)}, {"max", at(1.0)}};
  }
  j["disagreements"] = s.disagreements;
  j["flaky"] = s.flaky;
  j["flaky_signatures"] = s.flaky_signatures;
  j["invalid_generated"] = s.invalid;
  j["new_findings"] = s.new_findings();
  j["mutants_covered"] = s.mutants_covered;
  j["claims_covered"] = s.claims_covered;
  j["steps_by_op"] = s.steps_by_op;
  j["verbs"] = s.verbs;
  Json findings = Json::array();
  for (const auto& f : s.findings) findings.push_back(to_json(f));
  j["findings"] = findings;
  return j;
}

std::string render_text(const Finding& f) {
  std::string t = fmt::format("{} finding: {}\n", f.known ? "known" : "NEW", f.difference.signature);
  if (f.known) t += fmt::format("  known: {}\n", *f.known);
  if (!f.triage.claims.empty()) {
    t += "  claims:";
    for (const auto& c : f.triage.claims) t += " " + c;
    t += "\n";
  }
  t += fmt::format("  minimal scenario ({} steps, from {}):\n", size(f.minimal), size(f.original));
  for (const auto& st : f.minimal.steps) t += "    " + st.text() + "\n";
  const std::size_t n = std::max(f.model.lines.size(), f.live.lines.size());
  t += "  model | platform:\n";
  for (std::size_t i = 0; i < n; ++i) {
    std::string m = i < f.model.lines.size() ? f.model.lines[i] : "";
    std::string l = i < f.live.lines.size() ? f.live.lines[i] : "";
    t += fmt::format("  {} {}\n", i == f.difference.line ? ">>" : (m == l ? "  " : "!="), m);
    if (m != l) t += fmt::format("     {}\n", l.empty() ? "(nothing)" : l);
  }
  return t;
}

}  // namespace termsuite::explore
