# Driven by CTest (see tests/CMakeLists.txt): configure with MRNN_CUDA=OFF and build the library.
foreach(cmd IN ITEMS configure build)
  if(cmd STREQUAL "configure")
    set(args -S ${SOURCE_DIR} -B ${WORK_DIR} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release -DMRNN_CUDA=OFF
             -DMRNN_TESTS=OFF -DMRNN_BENCH=OFF -DMRNN_EXAMPLES=OFF)
  else()
    set(args --build ${WORK_DIR} --target mrnn)
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "CPU-only ${cmd} failed:\n${out}\n${err}")
  endif()
endforeach()
execute_process(COMMAND nm -D --defined-only ${WORK_DIR}/libmrnn.so OUTPUT_VARIABLE syms)
if(syms MATCHES "4mrnn4cuda")  # anything in namespace mrnn::cuda
  message(FATAL_ERROR "the CPU-only library exports CUDA symbols")
endif()
message(STATUS "CPU-only library built without CUDA symbols")
