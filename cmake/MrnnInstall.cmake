# `cmake --install` layout: headers under include/mrnn/<dir>/, the library, an exported
# mrnn::mrnn target with a package config (find_package(mrnn)) and a pkg-config file.
include(CMakePackageConfigHelpers)
foreach(dir core kernels layers models data eval)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mrnn/${dir}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(TARGETS mrnn EXPORT mrnnTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT mrnnTargets NAMESPACE mrnn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mrnn)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mrnnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mrnnConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mrnn)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mrnnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mrnnConfig.cmake ${PROJECT_BINARY_DIR}/mrnnConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mrnn)
# mrnn.pc finds the prefix from its own location (${pcfiledir}), so an install moved or made with
# any --prefix works; a sanitized build adds the sanitizer flags its consumers must link with.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "mrnn: CMAKE_INSTALL_LIBDIR must be relative to the prefix (got ${CMAKE_INSTALL_LIBDIR})")
endif()
file(RELATIVE_PATH MRNN_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" MRNN_PC_TO_PREFIX "${MRNN_PC_TO_PREFIX}")
list(JOIN MRNN_SANITIZE_LINK_FLAGS " " MRNN_PC_EXTRA_LIBS)
configure_file(${PROJECT_SOURCE_DIR}/cmake/mrnn.pc.in ${PROJECT_BINARY_DIR}/mrnn.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mrnn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
