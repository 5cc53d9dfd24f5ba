# The CPU-only build of CI, sanitized: configures mrnn with MRNN_CUDA=OFF in WORK_DIR, checks that the
# library exports no CUDA symbols and, with SANITIZE=ON (the default), builds it with AddressSanitizer
# + UndefinedBehaviorSanitizer (and LeakSanitizer) and runs the Catch2 AREAS and, with PROGRAMS=ON,
# tests/programs/bad_input.sh on the sanitized example programs. Prints each step's wall time. Any
# sanitizer report fails: UBSan does not recover, ASan aborts, a leak fails the program's exit.
# Built without optimisation or debug information (-O0, no -g): the sanitizers then cost the
# compiler about a fifth of what they cost at -O2 -g, which is what lets this fit in CI
# (docs/reliability.md, "Sanitizers", has the measurements). CXX/CC choose the compiler (the CTest
# entry passes clang where it sanitizes: at -O0 with ASan+UBSan it compiles our heaviest file in
# half gcc's time, and the library is then also proven to build with a second compiler).
#   cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<dir> -DGENERATOR=<gen> "-DAREAS=core;datatext;databin;eval"
#         [-DPROGRAMS=ON] [-DSANITIZE=OFF] [-DJOBS=2] [-DCXX=clang++ -DCC=clang] -P tests/consumer/sanitized.cmake
if(NOT DEFINED JOBS)
  set(JOBS 2)
endif()
if(NOT DEFINED SANITIZE)
  set(SANITIZE ON)
endif()
if(NOT SANITIZE)  # only the CPU-only library: nothing runs
  set(AREAS "")
  set(PROGRAMS OFF)
endif()

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
    message(FATAL_ERROR "CPU-only build: ${what} failed (${rc}) after ${secs} s:\n${tail}")
  endif()
  message(STATUS "CPU-only build: ${what} took ${secs} s")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(targets mrnn)
set(regex "")
foreach(area IN LISTS AREAS)
  list(APPEND targets test_${area})
  string(APPEND regex "|${area}")
endforeach()
if(PROGRAMS)
  list(APPEND targets caption_train caption_generate caption_eval eval_captions make_shapes retrieve)
endif()

if(SANITIZE)
  # CMAKE_BUILD_TYPE=None: no -O, -g or -DNDEBUG (assertions stay on). Commas, not ';': a ';'
  # would split this argument in two and UBSan would be lost (it was, until session 10).
  set(config -DCMAKE_BUILD_TYPE=None -DMRNN_SANITIZE=address,undefined -DMRNN_TESTS=ON)
else()
  set(config -DCMAKE_BUILD_TYPE=Release -DMRNN_SANITIZE= -DMRNN_TESTS=OFF)
endif()
if(PROGRAMS)
  list(APPEND config -DMRNN_EXAMPLES=ON)
else()
  list(APPEND config -DMRNN_EXAMPLES=OFF)
endif()
if(CXX)
  list(APPEND config -DCMAKE_CXX_COMPILER=${CXX})
endif()
if(CC)
  list(APPEND config -DCMAKE_C_COMPILER=${CC})
endif()
# Every time (a few seconds when WORK_DIR is configured already): the options may have changed.
step("configure" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR} -G ${GENERATOR} -DMRNN_CUDA=OFF -DMRNN_BENCH=OFF
     ${config})
if(SANITIZE)  # the flags really reach the compiler, both of them
  set(_all "")
  foreach(f ${WORK_DIR}/build.ninja ${WORK_DIR}/core/CMakeFiles/mrnn_core.dir/flags.make)  # Ninja, Makefiles
    if(EXISTS ${f})
      file(READ ${f} _text)
      string(APPEND _all "${_text}")
    endif()
  endforeach()
  foreach(flag -fsanitize=address -fsanitize=undefined)
    string(FIND "${_all}" "${flag}" _at)
    if(_at LESS 0)
      message(FATAL_ERROR "CPU-only build: ${flag} is not in the compile commands of ${WORK_DIR}")
    endif()
  endforeach()
  message(STATUS "CPU-only build: compiled with -fsanitize=address -fsanitize=undefined")
endif()
step("build of ${targets}" ${CMAKE_COMMAND} --build ${WORK_DIR} --parallel ${JOBS} --target ${targets})

execute_process(COMMAND nm -D --defined-only ${WORK_DIR}/libmrnn.so OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "CPU-only build: nm cannot read ${WORK_DIR}/libmrnn.so")
endif()
if(syms MATCHES "4mrnn4cuda")  # anything in namespace mrnn::cuda
  message(FATAL_ERROR "the CPU-only library exports CUDA symbols")
endif()
message(STATUS "CPU-only build: the library has no CUDA symbols")

# detect_leaks: LeakSanitizer runs at exit (a leak fails the program); abort_on_error: a report
# kills the program with SIGABRT, which no test can mistake for a clean error exit.
set(env OMP_NUM_THREADS=2 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
if(regex)
  string(SUBSTRING "${regex}" 1 -1 regex)
  step("tests ^(${regex}):" ${CMAKE_COMMAND} -E env ${env}
       ${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR} -R "^(${regex}):" -j ${JOBS} --output-on-failure)
endif()
if(PROGRAMS)
  step("tests/programs/bad_input.sh" ${CMAKE_COMMAND} -E env ${env}
       ${SOURCE_DIR}/tests/programs/bad_input.sh ${WORK_DIR}/examples ${WORK_DIR}/bad-input)
  string(REGEX MATCH "bad input: [0-9]+ kinds[^\n]*" summary "${step_output}")
  message(STATUS "CPU-only build: sanitized ${summary}")
endif()
