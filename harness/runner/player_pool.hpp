#pragma once
// The explorer's players: a few `termsuite-play --serve` processes (under Wine here, directly on
// Windows), each fed one scenario at a time, each answer awaited with a deadline. A player that
// passes its deadline or dies is killed (its actors die with it: they are in its kill-on-close
// job) and started again; its scenario's trace says so ("error: ...").
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "termsuite/deadline.hpp"
#include "termsuite/explore.hpp"

namespace termsuite::runner {

struct PlayerCommand {
  std::vector<std::string> argv;  // argv[0]: the program (a path)
  std::vector<std::pair<std::string, std::string>> env;  // added to this process's environment
  std::filesystem::path cwd;
  std::filesystem::path log_dir;  // player-N.log: its stderr
};

class PlayerPool final : public explore::LiveRunner {
 public:
  // Starts `size` players now. Call from the main thread: on Linux a player dies with the thread
  // that started it (PR_SET_PDEATHSIG), and so with the runner, however the runner ends.
  PlayerPool(PlayerCommand command, int size, std::chrono::milliseconds per_scenario);
  ~PlayerPool() override;
  std::vector<scenario::Trace> play(const std::vector<scenario::Scenario>& scenarios,
                                    const std::vector<scenario::Trace>& expected = {}) override;
  int parallel() const override { return static_cast<int>(players_.size()); }
  int restarts() const { return restarts_; }

 private:
  // One player process (player_pool_posix.cpp, player_pool_win.cpp).
  class Player {
   public:
    Player(const PlayerCommand& c, int index);
    ~Player();
    bool alive() const;
    // One scenario: the request written, the answer read by the deadline; nullopt if it did not come.
    std::optional<std::string> request(const std::string& line, Deadline d);
    void kill_now();  // a player past its deadline

   private:
    struct Os;
    std::unique_ptr<Os> os_;
    std::string buf_;
  };

  PlayerCommand command_;
  std::chrono::milliseconds per_scenario_;
  std::vector<std::unique_ptr<Player>> players_;
  int restarts_ = 0;
};

// A reply line of a player, as a trace.
scenario::Trace trace_from_reply(const std::string& line);

}  // namespace termsuite::runner
