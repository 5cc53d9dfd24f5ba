# The API reference (docs/Doxyfile): target `docs` (not part of `all`) writes <build>/docs/html;
# with tests on, the CTest entry "docs: ..." runs Doxygen and fails on any warning. Both need
# doxygen (scripts/setup installs it); without it they are left out.
find_program(MRNN_DOXYGEN doxygen)
if(MRNN_DOXYGEN)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/docs
    COMMAND ${CMAKE_COMMAND} -E env MRNN_DOCS_OUT=${PROJECT_BINARY_DIR}/docs ${MRNN_DOXYGEN} docs/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "API reference (Doxygen) -> ${PROJECT_BINARY_DIR}/docs/html/index.html"
    VERBATIM)
  if(MRNN_TESTS)
    add_test(NAME "docs: the Doxygen API reference of the public headers builds without warnings"
      COMMAND ${CMAKE_COMMAND} -DDOXYGEN=${MRNN_DOXYGEN} -DSRC=${PROJECT_SOURCE_DIR}
              -DOUT=${PROJECT_BINARY_DIR}/docs-check -P ${PROJECT_SOURCE_DIR}/cmake/MrnnDocsCheck.cmake)
  endif()
else()
  message(STATUS "mrnn: doxygen not found: no `docs` target")
endif()
