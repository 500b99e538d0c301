# cmake --install: headers, libferry, FerryConfig.cmake (+ version) and ferry.pc.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/ferry DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(FILES "${PROJECT_BINARY_DIR}/include/ferry/features.hpp" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ferry)
install(TARGETS ferry ferry_options EXPORT FerryTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT FerryTargets NAMESPACE ferry:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Ferry)

configure_package_config_file(cmake/FerryConfig.cmake.in "${PROJECT_BINARY_DIR}/FerryConfig.cmake"
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Ferry)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/FerryConfigVersion.cmake" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/FerryConfig.cmake" "${PROJECT_BINARY_DIR}/FerryConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Ferry)

configure_file(cmake/ferry.pc.in "${PROJECT_BINARY_DIR}/ferry.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/ferry.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(PROGRAMS mpi_launchers/ferry-launch DESTINATION ${CMAKE_INSTALL_BINDIR})
