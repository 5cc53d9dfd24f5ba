# CTest entry: the library and the fast Catch2 areas built with ASan + UBSan in <build>/sanitized
# and their tests run there (tests/consumer/sanitized.cmake). Not added inside a sanitized build
# itself, nor when the C++ compiler cannot link -fsanitize=address,undefined.
if(NOT MRNN_SANITIZE)
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=address,undefined")
  check_cxx_source_compiles("int main() { return 0; }" MRNN_CAN_SANITIZE)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(MRNN_CAN_SANITIZE)
    set(_name "sanitize: ASan+UBSan build of the library and the fast areas (core, datatext, databin, eval)")
    add_test(NAME "${_name}"
      COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DWORK_DIR=${PROJECT_BINARY_DIR}/sanitized
              -DGENERATOR=${CMAKE_GENERATOR} "-DAREAS=core;datatext;databin;eval"
              -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/sanitized.cmake)
    set_tests_properties("${_name}" PROPERTIES TIMEOUT 1500)
  endif()
endif()
