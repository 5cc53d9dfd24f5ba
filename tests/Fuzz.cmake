# CTest entry for the fuzz project (tests/fuzz, see docs/reliability.md): run.cmake builds it with
# clang + libFuzzer + ASan/UBSan, replays every regression input once and fuzzes each target for
# MRNN_FUZZ_CTEST_RUNS executions from its seeds. Added only where clang links -fsanitize=fuzzer.
set(MRNN_FUZZ_CTEST_RUNS 2000 CACHE STRING "executions per fuzzer in the 'fuzz:' CTest entry")
if(NOT DEFINED MRNN_FUZZ_LIBFUZZER)
  set(_ok OFF)
  find_program(MRNN_FUZZ_CLANGXX NAMES clang++ clang++-16 clang++-15 clang++-14)
  if(MRNN_FUZZ_CLANGXX)
    set(_probe ${PROJECT_BINARY_DIR}/fuzz-probe)
    file(WRITE ${_probe}/probe.cpp "#include <cstddef>\n#include <cstdint>\n"
         "extern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
    execute_process(COMMAND ${MRNN_FUZZ_CLANGXX} -fsanitize=fuzzer,address,undefined ${_probe}/probe.cpp
                            -o ${_probe}/probe
                    RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
    if(_rc EQUAL 0)
      set(_ok ON)
    endif()
  endif()
  set(MRNN_FUZZ_LIBFUZZER ${_ok} CACHE INTERNAL "clang links libFuzzer")
endif()
if(MRNN_FUZZ_LIBFUZZER)
  add_test(NAME "fuzz: readers (regressions + brief run)"
    COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${PROJECT_BINARY_DIR}/fuzz-ctest
            -DRUNS=${MRNN_FUZZ_CTEST_RUNS} -DOPT=-O0 -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.cmake)
  set_tests_properties("fuzz: readers (regressions + brief run)" PROPERTIES TIMEOUT 1800)
else()
  message(STATUS "mrnn: no clang with libFuzzer: the fuzz CTest entry is left out")
endif()
