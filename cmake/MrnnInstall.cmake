# `cmake --install` layout: the public headers under include/mrnn/<dir>/ (a user writes
# #include <mrnn/core/tensor.h>, or <mrnn/mrnn.h> for everything), the library, an exported
# mrnn::mrnn target with a package config (find_package(mrnn)) and a pkg-config file.
# Only public headers are installed: the CPU/CUDA kernel interfaces and the kernels' private math
# stay inside the library. tests/consumer/ compiles every installed header on its own against
# the installed prefix alone, so a public header that includes a private one fails there.
include(CMakePackageConfigHelpers)
set(MRNN_PRIVATE_HEADERS
  "^kernels/cpu/" "^kernels/cuda/" "^kernels/dispatch\\.h$" "^kernels/fuse_epilogue_args\\.h$"
  "^kernels/common/(adam|bf16|layer_norm|matmul_precision|online_lse|rnn_cells|softmax)\\.h$")
foreach(dir core kernels layers models data eval)
  file(GLOB_RECURSE _headers RELATIVE ${PROJECT_SOURCE_DIR} CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.h)
  foreach(h IN LISTS _headers)
    set(_private FALSE)
    foreach(re IN LISTS MRNN_PRIVATE_HEADERS)
      if(h MATCHES "${re}")
        set(_private TRUE)
      endif()
    endforeach()
    if(NOT _private)
      get_filename_component(_sub ${h} DIRECTORY)
      install(FILES ${PROJECT_SOURCE_DIR}/${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mrnn/${_sub})
    endif()
  endforeach()
endforeach()
# Inside the tree, headers include each other as "core/tensor.h" (the source root is the include
# path). Installed, they say "mrnn/core/tensor.h", so that only <prefix>/include is on a user's
# include path and names like core/ or data/ cannot clash with another library's. The same step
# writes the umbrella header <mrnn/mrnn.h>, which includes every installed header.
install(CODE "set(MRNN_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/MrnnRewriteIncludes.cmake)
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
