// `termsuite-runner bundle-test` (a ctest test of the mingw build, not for users): the Windows
// bundle, end to end, as a Windows machine would use it.
//
//   1. `cmake --build <mingw> --target package` makes termsuite-<version>-windows-x86_64.zip;
//   2. it is unpacked into a new folder outside the build tree;
//   3. the Linux runner's `conform` runs the suite under Wine (results into a folder of its own);
//   4. the bundle's `termsuite.exe conform` runs from the unpacked folder under the same Wine,
//      writing into that folder as it would on Windows;
//   5. both must give the same gate verdict (exit code) and the same stable result file (every
//      test's outcome and detail, the platform), byte for byte.
// Both wall times are printed, for the record (bench/bundle-bench measures them properly).
#include <unistd.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "supervise.hpp"
#include "wine_env.hpp"

namespace fs = std::filesystem;

namespace termsuite::runner {

namespace {

std::string without_cr(std::string s) {
  std::erase(s, '\r');
  return s;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The one file of `dir` (not recursive) whose name ends with `suffix`; empty if none or several.
fs::path only_file(const fs::path& dir, const std::string& suffix) {
  fs::path found;
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().ends_with(suffix)) {
      found = e.path();
      ++n;
    }
  return n == 1 ? found : fs::path();
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / fmt::format("termsuite-bundle-{}", ::getpid());
    std::error_code ec;
    fs::remove_all(path, ec);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

int bundle_test(const BundleTestOptions& o) {
  const auto build = fs::absolute(o.mingw_build);
  const auto version_zip = fmt::format("termsuite-{}-windows-x86_64", o.version);

  // 1. The bundle, made the documented way.
  auto zip = build / (version_zip + ".zip");
  std::error_code ec;
  fs::remove(zip, ec);
  auto pack = run(Command{"cmake", {"--build", build.string(), "--target", "package"}, {}, {}, {}},
                  Deadline::in(std::chrono::minutes(10)));
  throw_if_interrupted();
  if (!pack.ok() || !fs::exists(zip)) {
    fmt::print("{}", pack.output);
    fmt::print("FAIL: `cmake --build {} --target package` did not make {}\n", build.string(), zip.string());
    return 1;
  }
  fmt::print("bundle: {} ({:.1f} MB)\n", zip.string(), static_cast<double>(fs::file_size(zip)) / 1e6);

  // 2. Unpacked outside the build tree.
  TempDir tmp;
  auto unpack = run(Command{"cmake", {"-E", "tar", "xf", zip.string()}, {}, {}, tmp.path / ""},
                    Deadline::in(std::chrono::minutes(2)));
  const auto top = tmp.path / version_zip;
  const auto exe = top / "termsuite.exe";
  if (!unpack.ok() || !fs::exists(exe)) {
    fmt::print("{}FAIL: unpacking {} into {} gave no {}\n", unpack.output, zip.string(), tmp.path.string(),
               exe.string());
    return 1;
  }

  // 3. The Linux runner, under the environment that is up (kept: the ctest fixture's).
  ConformOptions co = o.conform;
  co.results_dir = tmp.path / "linux-results";
  co.run_dir = tmp.path / "linux-run";
  co.keep_wine = true;
  co.take_run_lock = false;  // `test` holds it for this build tree
  fmt::print("\n== the Linux runner: termsuite-runner conform ==\n");
  std::fflush(stdout);
  const auto linux_started = Clock::now();
  const int linux_rc = conform(co);
  const double linux_seconds = seconds_since(linux_started);
  throw_if_interrupted();

  // 4. The bundle's runner, from the unpacked folder, under the same Wine.
  fmt::print("\n== the Windows runner: {} conform (under Wine) ==\n", exe.string());
  std::fflush(stdout);
  WineEnv wine(build / "wine", choose_wine(co.wine));
  wine.up(Lifetime::kept);
  Command c{wine.wine_program(), {exe.string(), "conform"}, {}, {}, top};
  for (auto& [k, v] : wine.variables()) c.env[k] = v;
  const auto windows_started = Clock::now();
  auto win = run(c, Deadline::in(std::chrono::seconds(co.timeout_seconds + 120)));
  const double windows_seconds = seconds_since(windows_started);
  throw_if_interrupted();
  fmt::print("{}", without_cr(win.output));

  // 5. The same verdict and the same outcomes.
  int failures = 0;
  if (win.timed_out) {
    fmt::print("FAIL: termsuite.exe conform passed its deadline\n");
    return 1;
  }
  if (win.exit_code != linux_rc) {
    fmt::print("FAIL: gate verdicts differ: the Linux runner exited {}, termsuite.exe {}\n", linux_rc, win.exit_code);
    ++failures;
  }
  // The bundle's results/ holds only its platform's file (and run/, expectations/); the Linux
  // runner's holds sim.json too.
  const auto windows_json = only_file(top / "results", ".json");
  const auto linux_json = co.results_dir / windows_json.filename();
  if (windows_json.empty() || !fs::exists(linux_json)) {
    fmt::print("FAIL: no result file of one platform from both runners (bundle: '{}', Linux runner: '{}')\n",
               windows_json.string(), linux_json.string());
    ++failures;
  } else if (without_cr(read_text_file(linux_json)) != without_cr(read_text_file(windows_json))) {
    fmt::print("FAIL: {} differs between the two runners:\n--- Linux runner\n{}\n--- termsuite.exe\n{}\n",
               linux_json.filename().string(), read_text_file(linux_json), without_cr(read_text_file(windows_json)));
    ++failures;
  }
  if (!fs::exists(top / "results" / "run" / (windows_json.stem().string() + ".junit.xml"))) {
    fmt::print("FAIL: termsuite.exe wrote no JUnit file under results/run/\n");
    ++failures;
  }
  // Its conform ends with the conformance matrix, the platform's column in it.
  const auto page = read_text_file(top / "results" / "report.html");
  if (windows_json.empty() || page.find(fmt::format("data-platform=\"{}\"", windows_json.stem().string())) == std::string::npos ||
      !fs::exists(top / "results" / "MATRIX.md")) {
    fmt::print("FAIL: termsuite.exe wrote no results/report.html with its platform's column, or no results/MATRIX.md\n");
    ++failures;
  }
  fmt::print("\nwall time: Linux runner {:.1f} s, termsuite.exe under Wine {:.1f} s ({:.2f}x)\n", linux_seconds,
             windows_seconds, windows_seconds / linux_seconds);
  if (failures) return 1;
  fmt::print("bundle: same gate verdict (exit {}) and the same {} from both runners\n", linux_rc,
             windows_json.filename().string());
  return 0;
}

}  // namespace termsuite::runner
