// The explorer's player pool: scenarios handed out to the players, a deadline each (player_pool.hpp).
#include <atomic>
#include <fmt/format.h>
#include <thread>

#include "player_pool.hpp"
#include "supervise.hpp"

namespace termsuite::runner {

namespace fs = std::filesystem;

scenario::Trace trace_from_reply(const std::string& line) {
  scenario::Trace t;
  try {
    auto j = nlohmann::json::parse(line);
    if (j.contains("error")) {
      t.lines.push_back("error: " + j["error"].get<std::string>());
      return t;
    }
    t.lines = j.at("lines").get<std::vector<std::string>>();
    if (j.contains("notes")) t.notes = j["notes"].get<std::vector<std::string>>();
    t.seconds = j.value("seconds", 0.0);
  } catch (const std::exception& e) {
    t.lines = {fmt::format("error: unreadable answer from the player: {}", e.what())};
  }
  return t;
}

PlayerPool::PlayerPool(PlayerCommand command, int size, std::chrono::milliseconds per_scenario)
    : command_(std::move(command)), per_scenario_(per_scenario) {
  fs::create_directories(command_.log_dir);
  for (int i = 0; i < size; ++i) players_.push_back(std::make_unique<Player>(command_, i));
}

PlayerPool::~PlayerPool() = default;

std::vector<scenario::Trace> PlayerPool::play(const std::vector<scenario::Scenario>& scenarios,
                                              const std::vector<scenario::Trace>& expected) {
  std::vector<scenario::Trace> traces(scenarios.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (auto& p : players_) {
    threads.emplace_back([&, player = p.get()] {
      for (;;) {
        const std::size_t i = next++;
        if (i >= scenarios.size()) return;
        nlohmann::json req{{"id", i}, {"scenario", scenarios[i].text()}};
        if (i < expected.size()) req["expect"] = expected[i].lines;
        auto reply = player->request(req.dump(), Deadline::in(per_scenario_));
        if (!reply) {
          traces[i].lines = {fmt::format("error: the player gave no answer within {} s (killed; started again)",
                                         per_scenario_.count() / 1000)};
          player->kill_now();
          return;  // the others take the rest
        }
        traces[i] = trace_from_reply(*reply);
      }
    });
  }
  for (auto& t : threads) t.join();
  throw_if_interrupted();
  // Players that died are started again here, on the calling (main) thread.
  for (std::size_t k = 0; k < players_.size(); ++k)
    if (!players_[k]->alive()) {
      players_[k] = std::make_unique<Player>(command_, static_cast<int>(k));
      ++restarts_;
    }
  // What no player took (every one of them died) is played again, one by one.
  for (std::size_t i = next; i < scenarios.size(); ++i)
    if (traces[i].lines.empty())
      traces[i] = play({scenarios[i]}, i < expected.size() ? std::vector<scenario::Trace>{expected[i]} : std::vector<scenario::Trace>{})[0];
  return traces;
}

}  // namespace termsuite::runner
