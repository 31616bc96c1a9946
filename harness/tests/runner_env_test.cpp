// The runner's environment pieces on their own: the Wine under test (build trees, matching
// servers, versions, state folder keys), how its environment finds its wineserver, the display
// check, the run lock, and a new platform's first expectations.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "address_space.hpp"
#include "display_check.hpp"
#include "new_platform.hpp"
#include "run_lock.hpp"
#include "supervise.hpp"
#include "termsuite/expectations.hpp"
#include "wine_env.hpp"
#include "wine_under_test.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {
namespace {

// A scratch folder of the test's own, removed afterwards.
class Scratch {
 public:
  Scratch() {
    auto tmpl = (fs::temp_directory_path() / "termsuite-runner-unit-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data()) ? fs::path(tmpl) : fs::path();
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

void write_executable(const fs::path& p, const std::string& script) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << script;
  fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
}

// A stand-in for a Wine: a launcher and a server that answer --version as Wine's do.
void fake_wine(const fs::path& launcher, const fs::path& server, const std::string& version,
               const std::string& server_version_line) {
  write_executable(launcher, "#!/bin/sh\necho '" + version + "'\n");
  write_executable(server, "#!/bin/sh\necho '" + server_version_line + "'\n");
}

TEST(WineUnderTest, ABuildTreeIsItsWineAndServerWineserver) {
  Scratch s;
  const auto tree = s.dir() / "wine-build";
  EXPECT_FALSE(build_tree_layout(tree));
  write_executable(tree / "wine", "#!/bin/sh\n");
  EXPECT_FALSE(build_tree_layout(tree)) << "no server/wineserver: not a tree";
  write_executable(tree / "server" / "wineserver", "#!/bin/sh\n");
  auto layout = build_tree_layout(tree);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->launcher, tree / "wine");
  EXPECT_EQ(layout->server, tree / "server" / "wineserver");
}

TEST(WineUnderTest, AnOlder64BitTreeIsItsWine64) {
  Scratch s;
  const auto tree = s.dir() / "wine64-build";
  write_executable(tree / "wine64", "#!/bin/sh\n");
  write_executable(tree / "server" / "wineserver", "#!/bin/sh\n");
  auto layout = build_tree_layout(tree);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->launcher, tree / "wine64");
}

TEST(WineUnderTest, ALaunchersServerIsItsTreesOrItsSibling) {
  Scratch s;
  const auto tree = s.dir() / "tree";
  write_executable(tree / "wine", "#!/bin/sh\n");
  write_executable(tree / "loader" / "wine", "#!/bin/sh\n");
  write_executable(tree / "server" / "wineserver", "#!/bin/sh\n");
  EXPECT_EQ(matching_server(tree / "wine"), tree / "server" / "wineserver");
  EXPECT_EQ(matching_server(tree / "loader" / "wine"), tree / "server" / "wineserver");

  const auto bin = s.dir() / "opt" / "bin";
  write_executable(bin / "wine", "#!/bin/sh\n");
  EXPECT_EQ(matching_server(bin / "wine"), fs::path()) << "no server anywhere";
  write_executable(bin / "wineserver", "#!/bin/sh\n");
  EXPECT_EQ(matching_server(bin / "wine"), bin / "wineserver");

  // A link to a launcher finds the server beside the file it resolves to.
  const auto links = s.dir() / "links";
  fs::create_directories(links);
  fs::create_symlink(bin / "wine", links / "wine");
  EXPECT_EQ(matching_server(links / "wine"), bin / "wineserver");
}

// Wine's preloader is found beside the loader: the launcher's folder, the file it resolves to, or
// a loader its script names (Debian's /usr/bin/wine names /usr/lib/wine/wine64).
TEST(AddressSpace, ThePreloaderIsFoundBesideTheLoader) {
  Scratch s;
  const auto lib = s.dir() / "lib" / "wine";
  write_executable(lib / "wine64", "#!/bin/sh\n");
  const auto bin = s.dir() / "bin";
  write_executable(bin / "wine", fmt::format("#!/bin/sh\nwine64={}\nexec $wine64 \"$@\"\n", (lib / "wine64").string()));
  WineUnderTest wine{bin / "wine", bin / "wineserver", "wine-8.0", "PATH"};
  EXPECT_EQ(find_wine_preloader(wine), fs::path()) << "none anywhere";
  write_executable(lib / "wine64-preloader", "");
  EXPECT_EQ(find_wine_preloader(wine), lib / "wine64-preloader") << "beside the loader the script names";
  const auto opt = s.dir() / "opt" / "bin";
  write_executable(opt / "wine", "");
  write_executable(opt / "wine-preloader", "");
  fs::create_directories(s.dir() / "links");
  fs::create_symlink(opt / "wine", s.dir() / "links" / "wine");
  EXPECT_EQ(find_wine_preloader(WineUnderTest{s.dir() / "links" / "wine", {}, "", ""}), opt / "wine-preloader")
      << "beside the file a link resolves to";
}

// Without a preloader, the processes the runner starts from then on run without address
// randomisation (personality ADDR_NO_RANDOMIZE, 0x0040000, which /proc/self/personality shows).
TEST(AddressSpace, AWineWithoutAPreloaderStartsWithoutRandomisation) {
  auto child_personality = [] {
    auto f = run(Command{"cat", {"/proc/self/personality"}, {}, {}, {}}, Deadline::in(std::chrono::seconds(10)));
    EXPECT_EQ(f.exit_code, 0) << f.output;
    return std::stoul(f.output, nullptr, 16);
  };
  const unsigned long before = child_personality();
  Scratch s;
  write_executable(s.dir() / "wine", "#!/bin/sh\n");
  const auto& space = fix_wine_address_space(WineUnderTest{s.dir() / "wine", {}, "wine-8.0", "PATH"});
  EXPECT_TRUE(space.preloader.empty());
  switch (space.randomisation) {
    case AddressSpace::Randomisation::off_for_run:
      EXPECT_EQ(before & ADDR_NO_RANDOMIZE, 0u) << "the control: children were randomised before";
      EXPECT_NE(child_personality() & ADDR_NO_RANDOMIZE, 0u);
      break;
    case AddressSpace::Randomisation::already_off:
      break;  // started under setarch -R, or randomize_va_space is 0: nothing to turn off
    case AddressSpace::Randomisation::refused:
      EXPECT_FALSE(space.error.empty());
      EXPECT_EQ(child_personality() & ADDR_NO_RANDOMIZE, 0u);
      break;
    case AddressSpace::Randomisation::kept:
      ADD_FAILURE() << "a Wine without a preloader cannot keep randomisation";
  }
  EXPECT_EQ(&fix_wine_address_space(WineUnderTest{}), &space) << "once per process";
}

TEST(WineUnderTest, VersionsAreReadFromTheLaunchersAndTheServersLines) {
  EXPECT_EQ(launcher_version("wine-8.0 (Debian 8.0~repack-4)"), "8.0");
  EXPECT_EQ(launcher_version("wine-9.0 (Staging)"), "9.0");
  EXPECT_EQ(launcher_version("wine-9.5-123-gabcdef0"), "9.5-123-gabcdef0");
  EXPECT_EQ(launcher_version("Wine 8.0"), "");
  EXPECT_EQ(server_version("Wine 8.0"), "8.0");
  EXPECT_EQ(server_version("wine-8.0"), "");
}

class ChooseWine : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("WINE");
    ::unsetenv("WINESERVER");
  }
  void TearDown() override { SetUp(); }
  Scratch s;
};

TEST_F(ChooseWine, ALauncherAndItsServerOfOneVersion) {
  fake_wine(s.dir() / "bin" / "wine", s.dir() / "bin" / "wineserver", "wine-7.1 (Fake 7.1-2)", "Wine 7.1");
  auto w = choose_wine((s.dir() / "bin" / "wine").string());
  EXPECT_EQ(w.launcher, s.dir() / "bin" / "wine");
  EXPECT_EQ(w.server, s.dir() / "bin" / "wineserver");
  EXPECT_EQ(w.version, "wine-7.1 (Fake 7.1-2)");
  EXPECT_EQ(w.chosen_by, "--wine");
  EXPECT_EQ(w.key().rfind("wine-7.1-", 0), 0u) << w.key();
}

TEST_F(ChooseWine, ABuildTreeFromGitMatchesItsServersRelease) {
  const auto tree = s.dir() / "tree";
  fake_wine(tree / "wine", tree / "server" / "wineserver", "wine-9.5-123-gabcdef0", "Wine 9.5");
  auto w = choose_wine(tree.string());
  EXPECT_EQ(w.launcher, tree / "wine");
  EXPECT_EQ(w.server, tree / "server" / "wineserver");
}

TEST_F(ChooseWine, TheEnvironmentsWineAndWineserverAreHonoured) {
  fake_wine(s.dir() / "a" / "wine", s.dir() / "a" / "wineserver", "wine-7.1", "Wine 7.2");
  fake_wine(s.dir() / "b" / "wine", s.dir() / "b" / "wineserver", "wine-7.2", "Wine 7.2");
  ::setenv("WINE", (s.dir() / "a" / "wine").c_str(), 1);
  try {
    choose_wine();
    FAIL() << "a launcher and a server of different versions were accepted";
  } catch (const EnvError& e) {
    EXPECT_NE(std::string(e.what()).find("must be of one build"), std::string::npos) << e.what();
  }
  ::setenv("WINE", (s.dir() / "b" / "wine").c_str(), 1);
  ::setenv("WINESERVER", (s.dir() / "b" / "wineserver").c_str(), 1);
  auto w = choose_wine();
  EXPECT_EQ(w.chosen_by, "WINE");
  EXPECT_EQ(w.server, s.dir() / "b" / "wineserver");
}

TEST_F(ChooseWine, WhatIsNotAWineIsRefusedInOneLine) {
  fake_wine(s.dir() / "bin" / "wine", s.dir() / "bin" / "wineserver", "not wine at all", "Wine 7.1");
  for (const auto& path : {(s.dir() / "nonexistent").string(), (s.dir() / "bin" / "wine").string(), s.dir().string()}) {
    try {
      choose_wine(path);
      ADD_FAILURE() << path << " was taken for a Wine";
    } catch (const EnvError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

// A state root reached through a link is the same environment: the same folder, so the same
// Xvfb and Wine processes are found by it (they are found by the paths in their environment).
TEST(WineEnv, AStateRootReachedThroughALinkIsTheSameEnvironment) {
  Scratch s;
  fs::create_directories(s.dir() / "real");
  fs::create_symlink(s.dir() / "real", s.dir() / "link");
  WineUnderTest wine{"/usr/bin/wine", "/usr/bin/wineserver", "wine-8.0", "PATH"};
  WineEnv direct(s.dir() / "real", wine);
  WineEnv linked(s.dir() / "link", wine);
  EXPECT_EQ(linked.state_dir(), direct.state_dir());
  EXPECT_EQ(direct.state_dir().parent_path(), fs::canonical(s.dir() / "real"));
}

TEST(WineUnderTest, EachWineHasAStateFolderOfItsOwn) {
  Scratch s;
  fake_wine(s.dir() / "a" / "wine", s.dir() / "a" / "wineserver", "", "");
  fake_wine(s.dir() / "b" / "wine", s.dir() / "b" / "wineserver", "", "");
  WineUnderTest a{s.dir() / "a" / "wine", s.dir() / "a" / "wineserver", "wine-8.0", "PATH"};
  WineUnderTest b{s.dir() / "b" / "wine", s.dir() / "b" / "wineserver", "wine-8.0", "PATH"};
  WineUnderTest a_rebuilt{a.launcher, a.server, "wine-8.1", "PATH"};
  WineUnderTest a_again{a.launcher, a.server, a.version, "--wine"};
  EXPECT_NE(a.key(), b.key());
  EXPECT_NE(a.key(), a_rebuilt.key());
  EXPECT_EQ(a.key(), a_again.key()) << "how it was chosen is not its identity";
}

TEST(DisplayCheck, DisplaysNameASocketOrAPort) {
  auto local = parse_display(":55");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->unix_socket, "/tmp/.X11-unix/X55");
  auto screen = parse_display("unix:0.1");
  ASSERT_TRUE(screen);
  EXPECT_EQ(screen->unix_socket, "/tmp/.X11-unix/X0");
  auto ssh = parse_display("localhost:10.0");
  ASSERT_TRUE(ssh);
  EXPECT_EQ(ssh->host, "localhost");
  EXPECT_EQ(ssh->port, 6010);
  auto v6 = parse_display("[::1]:2");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 6002);
  for (const char* bad : {"", "55", ":", ":x", "host:-1", ":1x"}) EXPECT_FALSE(parse_display(bad)) << bad;
}

TEST(DisplayCheck, AnswersOnlyWhileSomethingListens) {
  // A listener on a free port 6000+n of the loopback stands for the X server of display n.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  int n = -1;
  for (int candidate = 100; candidate < 400 && n < 0; ++candidate) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(6000 + candidate));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) n = candidate;
  }
  ASSERT_GE(n, 0) << "no free port in 6100..6399";
  ASSERT_EQ(::listen(fd, 4), 0);
  const auto display = "127.0.0.1:" + std::to_string(n);
  EXPECT_TRUE(display_answers(display));
  ::close(fd);
  EXPECT_FALSE(display_answers(display));
  EXPECT_FALSE(display_answers("not a display"));
}

TEST(RunLock, ASecondRunIsRefusedNamingTheFirst) {
  Scratch s;
  {
    RunLock first(s.dir());
    try {
      RunLock second(s.dir());
      FAIL() << "two runs held one build tree";
    } catch (const EnvError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("is in use by another run (pid " + std::to_string(::getpid()) + ": "), std::string::npos) << what;
      EXPECT_NE(what.find("termsuite-runner-unit"), std::string::npos) << what;
    }
  }
  RunLock after(s.dir());  // released with its holder
}

TEST(NewPlatform, AnUnknownSourceIsRefused) {
  Scratch s;
  EXPECT_THROW(check_expectations_source(s.dir(), "wine-0.0-x86_64"), EnvError);
  EXPECT_THROW(check_expectations_source(s.dir(), "../wine"), EnvError);
}

TEST(NewPlatform, StartsAsACopyOnceThenIsLeftAlone) {
  Scratch s;
  std::ofstream(s.dir() / "wine-8.0-x86_64.json") << R"({
  "platform": "wine-8.0-x86_64",
  "comment": "Known deviations of Wine 8.0.",
  "deviations": [
    {"test": "Ctrl.Close", "claim": "ctrl.close-event", "expect": "timeout", "reason": "no CTRL_CLOSE_EVENT"}
  ]
})";
  check_expectations_source(s.dir(), "wine-8.0-x86_64");
  EXPECT_TRUE(start_expectations_from(s.dir(), "wine-8.0-x86_64", "wine-8.0-alt-x86_64"));
  Platform alt;
  alt.id = "wine-8.0-alt-x86_64";
  alt.os = "windows";
  alt.version = "6.1.7601";
  alt.wine = "8.0";
  alt.arch = "x86_64";
  auto e = Expectations::load_for(s.dir(), alt);  // its platform is the new one
  ASSERT_EQ(e.deviations().size(), 1u);
  EXPECT_EQ(e.deviations()[0].test, "Ctrl.Close");
  std::ifstream in(s.dir() / "wine-8.0-alt-x86_64.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("Begun as a copy of wine-8.0-x86_64.json"), std::string::npos) << text;
  // Once it exists, it is the new platform's own: never overwritten.
  std::ofstream(s.dir() / "wine-8.0-alt-x86_64.json") << R"({"platform": "wine-8.0-alt-x86_64", "deviations": []})";
  EXPECT_FALSE(start_expectations_from(s.dir(), "wine-8.0-x86_64", "wine-8.0-alt-x86_64"));
  EXPECT_TRUE(Expectations::load_for(s.dir(), alt).deviations().empty());
}

// The Wine environment's view of its wineserver: the server of a prefix is the process that holds
// the lock of its server folder (Wine's server/request.c, acquire_lock), whatever folder it works
// in. A real server leaves its folder for the prefix each time it saves the registry (every 30 s,
// and as it exits), so a server found by its working directory goes missing now and then, and a
// second start for the prefix then exits with status 2.
// A stand-in for a wineserver: a child that takes the write lock of `lock` (as acquire_lock does),
// then works in `cwd`, until it is killed.
class LockHolder {
 public:
  LockHolder(const fs::path& lock, const fs::path& cwd) {
    int ready[2];
    if (::pipe(ready) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(lock.c_str(), O_CREAT | O_WRONLY, 0600);
      struct flock fl{};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      fl.l_len = 1;
      const char ok = fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0 && ::chdir(cwd.c_str()) == 0 ? 'y' : 'n';
      [[maybe_unused]] auto n = ::write(ready[1], &ok, 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char ok = 'n';
    locked_ = ::read(ready[0], &ok, 1) == 1 && ok == 'y';
    ::close(ready[0]);
  }
  ~LockHolder() { stop(); }
  bool locked() const { return locked_; }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  pid_t pid_ = 0;
  bool locked_ = false;
};

TEST(WineEnv, TheServerIsTheProcessHoldingTheLockWhereverItWorks) {
  Scratch s;
  ASSERT_FALSE(s.dir().empty());
  WineUnderTest wine{s.dir() / "wine", s.dir() / "wineserver", "wine-8.0", "test"};
  WineEnv env(s.dir() / "state", wine);
  const auto prefix = env.state_dir() / "prefix";
  fs::create_directories(prefix);
  // Upstream Wine's server folder for the prefix (server/request.c, create_server_dir).
  struct stat st{};
  ASSERT_EQ(::stat(prefix.c_str(), &st), 0);
  const auto dir = fs::path(fmt::format("/tmp/.wine-{}", ::getuid())) /
                   fmt::format("server-{:x}-{:x}", static_cast<unsigned long long>(st.st_dev),
                               static_cast<unsigned long long>(st.st_ino));
  fs::create_directories(dir);
  EXPECT_FALSE(env.server_running()) << "no process holds the lock";
  {
    // As a server saving the registry: the lock held, the working directory the prefix.
    LockHolder server(dir / "lock", prefix);
    ASSERT_TRUE(server.locked());
    EXPECT_TRUE(env.server_running()) << "a server working in its prefix was not found";
    server.stop();
    EXPECT_FALSE(env.server_running()) << "the lock is free once its holder has exited";
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace termsuite::runner
