// The parts of supervise.hpp that are the same on Linux and Windows.
#include <fstream>
#include <sstream>

#include <boost/process.hpp>

#include <fmt/format.h>

#include "supervise.hpp"
#include "supervise_child.hpp"

namespace bp = boost::process;

namespace termsuite::runner {

std::string read_text_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string find_program(const std::string& name) {
  auto p = bp::search_path(name);
  return p.empty() ? std::string() : p.string();
}

bp::environment child_environment(const Command& c) {
  bp::environment env = boost::this_process::environment();
  for (const auto& name : c.unset) env.erase(name);
  for (const auto& [k, v] : c.env) env[k] = v;
  return env;
}

std::string resolve_program(const std::string& program) {
#ifdef _WIN32
  constexpr const char* separators = "/\\";
#else
  constexpr const char* separators = "/";
#endif
  if (program.find_first_of(separators) != std::string::npos) return program;
  auto found = find_program(program);
  if (found.empty()) throw EnvError(fmt::format("'{}' not found on PATH", program));
  return found;
}

}  // namespace termsuite::runner
