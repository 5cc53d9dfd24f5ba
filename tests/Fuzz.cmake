# CTest entry for the fuzz project (tests/fuzz, see docs/reliability.md): run.cmake builds it with
# clang + libFuzzer + ASan/UBSan, replays every regression input once and fuzzes each target for
# MRNN_FUZZ_CTEST_RUNS executions from its seeds. Added only where clang links -fsanitize=fuzzer.
set(MRNN_FUZZ_CTEST_RUNS 2000 CACHE STRING "executions per fuzzer in the 'fuzz:' CTest entry")
mrnn_probe_clang(MRNN_FUZZ_LIBFUZZER fuzz
  "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n"
  -fsanitize=fuzzer,address,undefined)
if(MRNN_FUZZ_LIBFUZZER)
  add_test(NAME "fuzz: readers (regressions + brief run)"
    COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${PROJECT_BINARY_DIR}/fuzz-ctest
            -DRUNS=${MRNN_FUZZ_CTEST_RUNS} -DOPT=-O0 -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.cmake)
  set_tests_properties("fuzz: readers (regressions + brief run)" PROPERTIES TIMEOUT 1800)
else()
  message(STATUS "mrnn: no clang with libFuzzer: the fuzz CTest entry is left out")
endif()
