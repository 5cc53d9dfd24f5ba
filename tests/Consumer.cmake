# Packaging test: install mrnn into a scratch prefix, then configure, build and run a tiny outside
# project that does find_package(mrnn) and links mrnn::mrnn, and the same program built with
# nothing but pkg-config's flags.
add_test(NAME "packaging: find_package(mrnn) and pkg-config consumers, every installed header alone, the docs/library.md programs"
  COMMAND ${CMAKE_COMMAND}
    -DBUILD_DIR=${PROJECT_BINARY_DIR}
    -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer
    -DWORK_DIR=${PROJECT_BINARY_DIR}/consumer-test
    -DGENERATOR=${CMAKE_GENERATOR}
    -DCXX=${CMAKE_CXX_COMPILER}
    -DDOCS=${PROJECT_SOURCE_DIR}/docs/library.md
    -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.cmake)
set_tests_properties("packaging: find_package(mrnn) and pkg-config consumers, every installed header alone, the docs/library.md programs" PROPERTIES TIMEOUT 600)
