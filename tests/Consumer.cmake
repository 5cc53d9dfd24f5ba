# Packaging test: install mrnn into a scratch prefix, then configure, build and run a tiny outside
# project that does find_package(mrnn) and links mrnn::mrnn.
add_test(NAME "packaging: find_package(mrnn) consumer"
  COMMAND ${CMAKE_COMMAND}
    -DBUILD_DIR=${PROJECT_BINARY_DIR}
    -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer
    -DWORK_DIR=${PROJECT_BINARY_DIR}/consumer-test
    -DGENERATOR=${CMAKE_GENERATOR}
    -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.cmake)
set_tests_properties("packaging: find_package(mrnn) consumer" PROPERTIES TIMEOUT 300)
