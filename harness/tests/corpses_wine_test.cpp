// The corpse finder under Wine beside a process that has no handle yet (a ctest test of the mingw
// build, run natively against its Wine environment).
//
// Wine's server walks a process's handle table with an unsigned index up to `last`, which is -1
// while the table is empty (server/handle.c, enum_handles), so asking it for the system handle list
// then crashes it, and with it every Wine process of the session. Every process has an empty table
// from its creation until its first handle; a client that has connected to the server's socket and
// sent nothing keeps one so. The test makes such a client, scans, and checks that the scan went
// through that process (the positive control: the table it probed held no handle) and that the
// server it started with still serves.
//
//   TERMSUITE_WINE_STATE  the mingw build's Wine state folder (as wine-exec's --state)
//   TERMSUITE_CORPSES_EXE termsuite-corpses.exe
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "supervise.hpp"
#include "wine_env.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A client of the wineserver that never sends its first request: the server has made a process
// for it, with an empty handle table, for as long as the connection is open.
class SilentClient {
 public:
  explicit SilentClient(const fs::path& socket_path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || socket_path.string().size() >= sizeof addr.sun_path) return;
    std::strcpy(addr.sun_path, socket_path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~SilentClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST(CorpsesUnderWine, ScanBesideAProcessWithoutHandlesLeavesTheServerUp) {
  const auto state = env("TERMSUITE_WINE_STATE");
  const auto scanner = env("TERMSUITE_CORPSES_EXE");
  ASSERT_FALSE(state.empty() || scanner.empty()) << "TERMSUITE_WINE_STATE and TERMSUITE_CORPSES_EXE must be set";
  WineEnv wine(state, choose_wine());
  wine.up(Lifetime::kept);  // the ctest fixture's environment, as wine-exec uses it
  const auto before = wine.find_server();
  ASSERT_NE(before.pid, 0) << "no wineserver holds the lock of the prefix";

  SilentClient client(before.dir / "socket");
  ASSERT_TRUE(client.connected()) << "cannot connect to " << (before.dir / "socket").string();

  Command c{wine.wine_program(), {scanner, "--json"}, {}, {}, {}};
  for (auto& [k, v] : wine.variables()) c.env[k] = v;
  const auto f = run(c, Deadline::in(milliseconds(60'000)));
  ASSERT_FALSE(f.timed_out) << "the scan did not finish within 60 s";
  EXPECT_EQ(f.exit_code, 0) << f.output;
  const auto json = nlohmann::json::parse(f.output.substr(std::min(f.output.find('{'), f.output.size())), nullptr, false);
  ASSERT_TRUE(json.is_object()) << f.output;
  EXPECT_EQ(json.value("available", false), true) << f.output;
  // The control: the scan met the process with an empty table (the client's) and went through it.
  EXPECT_GE(json["examined"].value("tables_without_handles", 0), 1) << json["examined"].dump();

  const auto after = wine.find_server();
  EXPECT_EQ(after.pid, before.pid) << "the wineserver did not survive the scan (see its log in " << wine.state_dir().string()
                                   << ")";
}

}  // namespace
}  // namespace termsuite::runner
