# Driven by CTest (cmake/MrnnDocs.cmake): runs Doxygen on docs/Doxyfile into OUT and fails if it
# fails or writes any warning (an unknown command or tag in a header comment, a broken link, ...).
#   cmake -DDOXYGEN=<doxygen> -DSRC=<repo root> -DOUT=<dir> -P cmake/MrnnDocsCheck.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${CMAKE_COMMAND} -E env MRNN_DOCS_OUT=${OUT} ${DOXYGEN} docs/Doxyfile
                WORKING_DIRECTORY ${SRC} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "doxygen failed (${rc}):\n${out}")
endif()
file(READ ${OUT}/doxygen-warnings.log warnings)
if(NOT warnings STREQUAL "")
  message(FATAL_ERROR "doxygen warnings (fix the header comments):\n${warnings}")
endif()
message(STATUS "API reference: ${OUT}/html/index.html, no warnings")
