# The Windows bundle: `cmake --build --preset mingw --target package` makes
# termsuite-<version>-windows-x86_64.zip (CPack, ZIP), one folder of that name holding
#   termsuite.exe                 the runner (conform, without Wine)
#   bin/                          the suite, the actors, the probe DLL, the corpse finder
#   docs/claims.json              the claims catalog
#   results/expectations/         the platforms' known deviations
#   README-windows.txt            how to run it, exit codes, results, a new build's baseline
# It runs from wherever it is unpacked: the runner finds everything next to itself.
install(TARGETS termsuite-runner-win RUNTIME DESTINATION .)
install(TARGETS termsuite-live termsuite-play actor-console actor-gui termsuite-corpses RUNTIME DESTINATION bin)
install(TARGETS probe RUNTIME DESTINATION bin LIBRARY DESTINATION bin)
install(FILES "${TERMSUITE_CLAIMS_CATALOG}" DESTINATION docs)
install(DIRECTORY "${TERMSUITE_EXPECTATIONS_DIR}/" DESTINATION results/expectations FILES_MATCHING PATTERN "*.json")
configure_file("${CMAKE_SOURCE_DIR}/packaging/README-windows.txt" "${CMAKE_BINARY_DIR}/README-windows.txt" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/README-windows.txt" DESTINATION .)

set(CPACK_GENERATOR ZIP)
set(CPACK_PACKAGE_NAME termsuite)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_FILE_NAME "termsuite-${PROJECT_VERSION}-windows-x86_64")
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}")
set(CPACK_OUTPUT_CONFIG_FILE "${CMAKE_BINARY_DIR}/CPackConfig.cmake")
include(CPack)
