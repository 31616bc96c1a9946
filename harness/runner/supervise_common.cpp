// The parts of supervise.hpp that are the same on Linux and Windows.
#include <fstream>
#include <sstream>

#include <boost/process.hpp>

#include "supervise.hpp"

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

}  // namespace termsuite::runner
