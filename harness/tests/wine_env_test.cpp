// The Wine environment's view of its wineserver: the server of a prefix is the process that holds
// the lock of its server folder (Wine's server/request.c, acquire_lock), whatever folder it works
// in. A real server leaves its folder for the prefix each time it saves the registry (every 30 s,
// and as it exits), so a server found by its working directory goes missing now and then, and a
// second start for the prefix then exits with status 2.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "wine_env.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {
namespace {

class Scratch {
 public:
  Scratch() {
    auto tmpl = (fs::temp_directory_path() / "termsuite-wine-env-unit-XXXXXX").string();
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
