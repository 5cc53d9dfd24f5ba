# Driven by CTest (see tests/Sanitize.cmake): configures the library and the fast Catch2 areas with
# AddressSanitizer + UndefinedBehaviorSanitizer (MRNN_SANITIZE, CPU only), builds them and runs their
# tests. Any sanitizer report fails the test (UBSan does not recover; ASan aborts; LeakSanitizer
# reports leaks at exit).
#   cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<dir> -DGENERATOR=<gen> -DAREAS="core;datatext;databin;eval"
#         [-DJOBS=2] -P tests/consumer/sanitized.cmake
if(NOT DEFINED JOBS)
  set(JOBS 2)
endif()
set(targets "")
set(regex "")
foreach(area IN LISTS AREAS)
  list(APPEND targets test_${area})
  string(APPEND regex "|${area}")
endforeach()
string(SUBSTRING "${regex}" 1 -1 regex)

function(step what)
  string(TIMESTAMP t0 "%s")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(TIMESTAMP t1 "%s")
  math(EXPR secs "${t1} - ${t0}")
  if(NOT rc EQUAL 0)
    string(LENGTH "${out}" n)
    math(EXPR from "${n} - 12000")
    if(from LESS 0)
      set(from 0)
    endif()
    string(SUBSTRING "${out}" ${from} -1 tail)
    message(FATAL_ERROR "sanitized build: ${what} failed (${rc}) after ${secs} s:\n${tail}")
  endif()
  message(STATUS "sanitized build: ${what} took ${secs} s")
endfunction()

if(NOT EXISTS ${WORK_DIR}/CMakeCache.txt)
  step("configure" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=RelWithDebInfo
       "-DMRNN_SANITIZE=address;undefined" -DMRNN_CUDA=OFF -DMRNN_TESTS=ON -DMRNN_EXAMPLES=OFF -DMRNN_BENCH=OFF)
endif()
step("build of ${targets}" ${CMAKE_COMMAND} --build ${WORK_DIR} --parallel ${JOBS} --target ${targets})
# The OpenMP runtime keeps its thread pool alive at exit; LeakSanitizer must not count that.
step("tests ^(${regex}):" ${CMAKE_COMMAND} -E env OMP_NUM_THREADS=2
     ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
     ${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR} -R "^(${regex}):" -j ${JOBS} --output-on-failure)
