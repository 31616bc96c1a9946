#pragma once
// Which Wine a run tests: a `wine` launcher (/usr/bin/wine, /opt/wine-staging/bin/wine) or the top
// of a Wine build tree, and the wineserver that goes with it. Chosen by `conform --wine PATH`, else
// by the WINE and WINESERVER environment variables (as Wine's own tools read them), else the
// `wine` on PATH.
//
// Each Wine gets a state folder of its own (its prefix, its wineserver, its logs), named by its
// identity: a prefix made by one Wine is never used by another.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace termsuite::runner {

struct WineUnderTest {
  std::filesystem::path launcher;  // absolute: what runs a Windows program (`wine program args`)
  std::filesystem::path server;    // absolute: its wineserver
  std::string version;             // the line `wine --version` printed, e.g. "wine-8.0 (Debian 8.0~repack-4)"
  std::string chosen_by;           // "--wine", "WINE" or "PATH"

  // The name of its state folder: "<version>-<8 hex digits>", the digits a hash of the resolved
  // launcher, the resolved server and the version line.
  std::string key() const;
};

// The launcher and server of a Wine build tree (where `make` ran): the tree's `wine` (or, in a
// 64-bit-only tree of older Wine, `wine64`) and `server/wineserver`, which is what Wine's
// `make test` runs (tools/runtest: "$topobjdir/wine", the top found by its server/wineserver).
// nullopt when `dir` is not such a tree.
struct WineLayout {
  std::filesystem::path launcher, server;
};
std::optional<WineLayout> build_tree_layout(const std::filesystem::path& dir);

// The wineserver that goes with a launcher: in a build tree (the launcher at its top or in its
// loader/), the tree's server/wineserver; otherwise the `wineserver` beside the launcher, then
// beside the file the launcher resolves to. Empty when there is none.
std::filesystem::path matching_server(const std::filesystem::path& launcher);

// The version a `wine --version` line names ("wine-8.0 (Debian ...)" -> "8.0") or a `wineserver
// --version` line ("Wine 8.0" -> "8.0"); empty if the line is neither.
std::string launcher_version(std::string_view line);
std::string server_version(std::string_view line);

// The Wine to test: `path` (from --wine) if given, else WINE, else `wine` (or `wine64`) on PATH;
// its server from WINESERVER if set, else matching_server. Runs `--version` of both to check that
// they are a Wine and of the same version. Throws EnvError with one line naming the problem.
WineUnderTest choose_wine(const std::string& path = {});

}  // namespace termsuite::runner
