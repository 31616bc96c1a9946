# Debian installs the header-only libraries we use under /usr/include, next to every other
# header of the host. The cross compiler must not see that folder (glibc headers would shadow
# mingw's), so we stage links to just the libraries we need and put only the staging folder
# on the include path. The native build uses the same staging folder, for one include set.
set(TERMSUITE_STAGING_DIR "${CMAKE_BINARY_DIR}/staging/include")
file(MAKE_DIRECTORY "${TERMSUITE_STAGING_DIR}")
foreach(entry boost fmt nlohmann CLI)
  set(src "/usr/include/${entry}")
  if(NOT EXISTS "${src}")
    message(FATAL_ERROR "header-only library missing: ${src} (run ./termsuite, which installs it)")
  endif()
  file(CREATE_LINK "${src}" "${TERMSUITE_STAGING_DIR}/${entry}" SYMBOLIC)
endforeach()

add_library(termsuite_thirdparty INTERFACE)
target_include_directories(termsuite_thirdparty SYSTEM INTERFACE "${TERMSUITE_STAGING_DIR}")
# Boost.Process v1 on std::filesystem (no compiled Boost library).
target_compile_definitions(termsuite_thirdparty INTERFACE BOOST_PROCESS_USE_STD_FS=1)
if(CMAKE_CROSSCOMPILING)
  # Debian ships fmt's library for the host only: the cross build uses fmt header-only.
  target_compile_definitions(termsuite_thirdparty INTERFACE FMT_HEADER_ONLY=1)
else()
  # Natively, link Debian's compiled fmt: compiling fmt into every translation unit is slow.
  find_package(fmt REQUIRED)
  target_link_libraries(termsuite_thirdparty INTERFACE fmt::fmt)
endif()
add_library(termsuite::thirdparty ALIAS termsuite_thirdparty)
