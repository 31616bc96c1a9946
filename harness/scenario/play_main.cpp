// termsuite-play: plays scenarios on the live backend (Windows, or Wine), next to the actors.
//
//   termsuite-play FILE      plays one scenario file and prints its trace, a line per step
//   termsuite-play --serve   reads one JSON request per line on stdin, {"id": N, "scenario": TEXT}
//                            (and "expect": [lines], the model's trace, to stop at the first difference),
//                            and answers each with one line on stdout, {"id": N, "lines": [...],
//                            "notes": [...], "seconds": S} or {"id": N, "error": "..."}, until
//                            stdin ends. The explorer keeps a few of these running and feeds them.
//
// Each scenario runs on a System of its own: its actors are in a kill-on-close job, ended when
// it is done (and by the system when this process dies, however it dies).
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "termsuite/scenario.hpp"
#include "termsuite/system.hpp"

using namespace termsuite;

namespace {

nlohmann::ordered_json play(const std::string& text, const std::string& file, std::vector<std::string> expected = {}) {
  nlohmann::ordered_json out;
  try {
    auto s = scenario::parse(text, file);
    auto sys = make_system();
    scenario::RunOptions options;
    options.expected = std::move(expected);
    auto trace = scenario::run(s, *sys, options);
    out["lines"] = trace.lines;
    out["notes"] = trace.notes;
    out["seconds"] = trace.seconds;
  } catch (const std::exception& e) {
    out["error"] = e.what();
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc == 2 && std::string(argv[1]) == "--serve") {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty() || line == "\r") continue;
      nlohmann::ordered_json reply;
      try {
        auto req = nlohmann::json::parse(line);
        reply["id"] = req.at("id");
        std::vector<std::string> expected;
        if (req.contains("expect")) expected = req["expect"].get<std::vector<std::string>>();
        auto r = play(req.at("scenario").get<std::string>(), "scenario", std::move(expected));
        for (auto& [k, v] : r.items()) reply[k] = v;
      } catch (const std::exception& e) {
        reply["error"] = fmt::format("bad request: {}", e.what());
      }
      std::cout << reply.dump() << '\n' << std::flush;
    }
    return 0;
  }
  if (argc != 2 || argv[1][0] == '-') {
    std::cerr << "usage: termsuite-play FILE | --serve\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << fmt::format("termsuite-play: cannot read {}\n", argv[1]);
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = play(ss.str(), argv[1]);
  if (r.contains("error")) {
    std::cerr << "termsuite-play: " << r["error"].get<std::string>() << '\n';
    return 2;
  }
  for (const auto& l : r["lines"]) std::cout << l.get<std::string>() << '\n';
  for (const auto& l : r["notes"]) std::cout << "note: " << l.get<std::string>() << '\n';
  return 0;
}
