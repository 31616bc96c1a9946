#pragma once
// Wine's loader needs a few fixed addresses free in every process it starts, first of all
// 0x7ffe0000, the page of shared user data every Windows process finds there. Wine's preloader
// (wine64-preloader, beside the loader) reserves them before anything else is mapped. A Wine
// installed without it, as Debian's wine64 is, relies on where the kernel happens to put things:
// the loader is linked at 0x7d000000, and with address randomisation its heap (brk) starts
// anywhere in the gigabyte above it, so now and then it covers 0x7ffe0000. That process then exits
// with status 1 before it has started (dlls/ntdll/unix/virtual.c, virtual_alloc_first_teb: "failed
// to map the shared user data", an ERR that WINEDEBUG=-all silences), and its creator's
// CreateProcess fails with ERROR_INTERNAL_ERROR (1359). Measured with Debian's Wine 8.0 on a
// 2-core machine with both cores busy: 3 failed starts in 2100 runs of a suite process that starts
// 7 actors (about 1 start in 5000, so 1 conform run in 25 blamed a claim for the machine's Wine);
// with randomisation off, none in 2600 runs.
//
// The run's Wine processes therefore start without address randomisation when that Wine has no
// preloader (personality ADDR_NO_RANDOMIZE, which every process the runner starts inherits, as
// `setarch -R` does). The heap then starts right after the loader, 48 MB below the page.
#include <filesystem>
#include <string>

#include "wine_under_test.hpp"

namespace termsuite::runner {

struct AddressSpace {
  std::filesystem::path preloader;  // the preloader beside the Wine's loader; empty when it has none
  enum class Randomisation {
    kept,         // the preloader reserves what the loader needs: nothing to do
    off_for_run,  // turned off for the processes this runner starts
    already_off,  // the runner was started without it (setarch -R, randomize_va_space=0)
    refused,      // personality() was refused (a container's seccomp profile): starts can fail
  } randomisation = Randomisation::kept;
  std::string error;  // why personality() was refused
};

// Where Wine's preloader for `wine` is: beside the launcher, beside the file it resolves to, or
// beside a loader a launcher script names (Debian's /usr/bin/wine runs /usr/lib/wine/wine64).
std::filesystem::path find_wine_preloader(const WineUnderTest& wine);

// Turns address randomisation off for this process's future children when `wine` has no
// preloader; once per process (later calls return the first answer).
const AddressSpace& fix_wine_address_space(const WineUnderTest& wine);

}  // namespace termsuite::runner
