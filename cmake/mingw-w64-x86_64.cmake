# Cross-build for 64-bit Windows with Debian's mingw-w64 (posix threads model).
# Tests run under Wine through CMAKE_CROSSCOMPILING_EMULATOR, which the top-level
# CMakeLists.txt points at the host runner's `wine-exec` (it owns the Wine environment).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(TERMSUITE_MINGW_TRIPLE x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${TERMSUITE_MINGW_TRIPLE}-gcc-posix REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${TERMSUITE_MINGW_TRIPLE}-g++-posix REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${TERMSUITE_MINGW_TRIPLE}-windres REQUIRED)

# Only the mingw sysroot: /usr/include must never leak into the cross build. Header-only
# libraries from Debian are exposed through a staging folder (see cmake/HeaderStaging.cmake).
set(CMAKE_FIND_ROOT_PATH /usr/${TERMSUITE_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# No runtime DLLs next to the executables: libgcc, libstdc++ and winpthread linked in.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
