#include "termsuite/results.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace termsuite {

using ojson = nlohmann::ordered_json;

std::string stream_platform_line(const Platform& p) {
  ojson j;
  j["platform"] = p.to_json();
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string stream_test_line(const TestResult& t) {
  ojson r;
  r["name"] = t.name;
  r["claim"] = t.claim;
  r["backend"] = t.backend;
  r["outcome"] = std::string(to_string(t.outcome));
  r["detail"] = t.detail;
  if (!t.observed.empty()) r["observed"] = t.observed;
  r["seconds"] = t.seconds;
  r["messages"] = t.messages;
  ojson j;
  j["test"] = std::move(r);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string stream_started_line(std::string_view test_name) {
  ojson j;
  j["started"] = ojson{{"name", std::string(test_name)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {
TestResult test_from_json(const nlohmann::json& r) {
  TestResult t;
  t.name = r.at("name").get<std::string>();
  t.claim = r.at("claim").get<std::string>();
  t.backend = r.at("backend").get<std::string>();
  auto o = parse_outcome(r.at("outcome").get<std::string>());
  if (!o) throw std::runtime_error(fmt::format("unknown outcome \"{}\"", r.at("outcome").get<std::string>()));
  t.outcome = *o;
  t.detail = r.value("detail", "");
  if (auto o = r.find("observed"); o != r.end() && o->is_object())
    for (auto& [k, v] : o->items()) t.observed[k] = v.get<std::string>();
  t.seconds = r.value("seconds", 0.0);
  if (auto m = r.find("messages"); m != r.end() && m->is_array())
    for (const auto& s : *m) t.messages.push_back(s.get<std::string>());
  return t;
}
}  // namespace

StreamContents parse_stream(std::string_view text, std::string_view origin) {
  StreamContents out;
  std::size_t lineno = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    bool complete = nl != std::string_view::npos;
    text.remove_prefix(complete ? nl + 1 : text.size());
    ++lineno;
    if (line.empty()) continue;
    if (!complete) {
      out.problems.push_back(fmt::format("{}:{}: truncated line (the writer stopped mid-record)", origin, lineno));
      break;
    }
    auto j = nlohmann::json::parse(line, nullptr, false);
    try {
      if (j.is_discarded() || !j.is_object()) throw std::runtime_error("not a JSON object");
      if (j.contains("platform")) out.platform = Platform::from_json(j.at("platform"));
      else if (j.contains("test")) out.tests.push_back(test_from_json(j.at("test")));
      else if (j.contains("started")) out.started.push_back(j.at("started").at("name").get<std::string>());
      else throw std::runtime_error("neither a platform, a started nor a test line");
    } catch (const std::exception& e) {
      out.problems.push_back(fmt::format("{}:{}: {}", origin, lineno, e.what()));
    }
  }
  return out;
}

namespace {
std::vector<const TestResult*> sorted(const RunResults& r) {
  std::vector<const TestResult*> v;
  for (const auto& t : r.tests) v.push_back(&t);
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) {
    return std::tie(a->name, a->backend) < std::tie(b->name, b->backend);
  });
  return v;
}
}  // namespace

std::string stable_json(const RunResults& r) {
  ojson j;
  j["platform"] = r.platform.to_json();
  // What the run measured, not where: the host kernel changes with the machine and would make
  // two machines' files differ for the same behaviour. It stays in the stream, the JUnit file and
  // the run's summary.
  j["platform"].erase("host");
  if (!r.preflight.empty()) {
    ojson pf = ojson::array();
    for (const auto& f : r.preflight)
      pf.push_back(ojson{{"check", f.check}, {"verdict", std::string(preflight::to_string(f.verdict))}, {"found", f.found},
                         {"affects", f.affects}, {"action", f.action}});
    j["preflight"] = std::move(pf);
  }
  ojson tests = ojson::array();
  for (const auto* t : sorted(r)) {
    ojson e;
    e["name"] = t->name;
    e["claim"] = t->claim;
    e["backend"] = t->backend;
    e["outcome"] = std::string(to_string(t->outcome));
    e["detail"] = t->detail;
    if (!t->observed.empty()) e["observed"] = t->observed;
    tests.push_back(std::move(e));
  }
  j["tests"] = std::move(tests);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

RunResults parse_stable_json(std::string_view text, std::string_view origin) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::runtime_error(fmt::format("{}: not a JSON object", origin));
  try {
    RunResults r;
    r.platform = Platform::from_json(j.at("platform"));
    if (auto pf = j.find("preflight"); pf != j.end() && pf->is_array())
      for (const auto& f : *pf) r.preflight.push_back(preflight::Finding::from_json(f));
    for (const auto& t : j.at("tests")) r.tests.push_back(test_from_json(t));
    return r;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", origin, e.what()));
  }
}

namespace {
std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') out += fmt::format("&#{};", static_cast<int>(c));
        else out += static_cast<char>(c);
    }
  }
  return out;
}
}  // namespace

std::string junit_xml(const RunResults& r) {
  // One <testsuite> per GoogleTest suite; known deviations (xfail) count as passed with a
  // property saying so, everything the gate rejects counts as a failure. An inconclusive test counts
  // as skipped, its reason in the <skipped> element's message (JUnit has no word for it).
  std::map<std::string, std::vector<const TestResult*>> suites;
  for (const auto* t : sorted(r)) {
    auto dot = t->name.find('.');
    suites[t->name.substr(0, dot)].push_back(t);
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  std::size_t total = r.tests.size(), failures = 0, skipped = 0;
  for (const auto& t : r.tests) {
    if (t.outcome == Outcome::skip || t.outcome == Outcome::inconclusive) ++skipped;
    else if (!gate_accepts(t.outcome)) ++failures;
  }
  out += fmt::format("<testsuites name=\"termsuite {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
                     xml_escape(r.platform.id), total, failures, skipped);
  // Where the run happened, in full (the stable file leaves the host out): the same properties on
  // every <testsuite>, which is where JUnit readers look for them.
  std::string platform_properties = "    <properties>\n";
  const auto platform = r.platform.to_json();
  for (const auto& [k, v] : platform.items())
    platform_properties += fmt::format("      <property name=\"platform.{}\" value=\"{}\"/>\n", xml_escape(k),
                                       xml_escape(v.get<std::string>()));
  for (const auto& f : r.preflight)  // what the preflight did to the run (preflight.hpp)
    platform_properties += fmt::format("      <property name=\"preflight.{}\" value=\"{}: {}{}\"/>\n", xml_escape(f.check),
                                       preflight::to_string(f.verdict), xml_escape(f.found),
                                       f.action.empty() ? std::string() : xml_escape("; this run: " + f.action));
  platform_properties += "    </properties>\n";
  for (const auto& [suite, tests] : suites) {
    double secs = 0;
    std::size_t sf = 0;
    for (auto* t : tests) {
      secs += t->seconds;
      if (!gate_accepts(t->outcome)) ++sf;
    }
    out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", xml_escape(suite),
                       tests.size(), sf, secs);
    out += platform_properties;
    for (auto* t : tests) {
      out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3f}\">\n",
                         xml_escape(t->name.substr(t->name.find('.') + 1)), xml_escape(suite), t->seconds);
      out += "      <properties>\n";
      out += fmt::format("        <property name=\"claim\" value=\"{}\"/>\n", xml_escape(t->claim));
      out += fmt::format("        <property name=\"backend\" value=\"{}\"/>\n", xml_escape(t->backend));
      out += fmt::format("        <property name=\"outcome\" value=\"{}\"/>\n", to_string(t->outcome));
      if (!t->detail.empty())
        out += fmt::format("        <property name=\"detail\" value=\"{}\"/>\n", xml_escape(t->detail));
      for (const auto& [k, v] : t->observed)
        out += fmt::format("        <property name=\"observed.{}\" value=\"{}\"/>\n", xml_escape(k), xml_escape(v));
      out += "      </properties>\n";
      std::string text;
      for (const auto& m : t->messages) text += m + "\n";
      if (t->outcome == Outcome::skip) {
        out += "      <skipped/>\n";
      } else if (t->outcome == Outcome::inconclusive) {
        out += fmt::format("      <skipped message=\"inconclusive: {}\"/>\n", xml_escape(t->detail));
      } else if (!gate_accepts(t->outcome)) {
        out += fmt::format("      <failure message=\"{}: {}\">{}</failure>\n", to_string(t->outcome),
                           xml_escape(t->detail), xml_escape(text));
      } else if (!text.empty()) {
        out += fmt::format("      <system-out>{}</system-out>\n", xml_escape(text));
      }
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace termsuite
