#pragma once
// What supervise.cpp (Linux) and supervise_win.cpp (Windows) both need to start a child with
// Boost.Process: its environment and its program's path. Internal to the runner.
#include <string>

#include <boost/process/environment.hpp>

#include "supervise.hpp"

namespace termsuite::runner {

// This process's environment with the command's changes (unset first, then set).
boost::process::environment child_environment(const Command& c);

// A program given with a folder as it is, a bare name looked up on PATH; EnvError if absent.
std::string resolve_program(const std::string& program);

}  // namespace termsuite::runner
