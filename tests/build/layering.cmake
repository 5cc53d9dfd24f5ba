# CTest "build: ..." entry: the layer rule (cmake/MrnnLayers.cmake) is enforced by the compiler.
# Compiles small sources with exactly one layer's include flags (-I <build>/include-<layer>):
#   * an upward include (core -> kernels, data -> kernels, layers -> models, layers -> data)
#     must FAIL, and fail because that header is not found;
#   * includes a layer may use must compile;
#   * the control: the core source with the upward include compiles with the source root as
#     include path, so the failures above come from the layer rule and not from a broken file.
#   cmake -DCXX=<c++> -DBUILD=<build dir> -DSRC=<source dir> -DOUT=<scratch dir> "-DEXTRA=<-I...>"
#         -P tests/build/layering.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
set(n 0)

# compile(<expect: ok|fail> <include dir> <header>...)
function(compile expect inc)
  math(EXPR i "${n} + 1")
  set(n ${i} PARENT_SCOPE)
  set(text "")
  foreach(h IN LISTS ARGN)
    string(APPEND text "#include \"${h}\"\n")
  endforeach()
  string(APPEND text "int layering_probe_${i}() { return 0; }\n")
  set(f ${OUT}/probe_${i}.cpp)
  file(WRITE ${f} "${text}")
  execute_process(COMMAND ${CXX} -std=c++17 -fsyntax-only -I${inc} ${EXTRA} ${f}
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  string(REPLACE ";" " " what "${ARGN}")
  if(expect STREQUAL "ok")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "with -I ${inc}, including ${what} should compile but does not:\n${err}")
    endif()
    message(STATUS "compiles as it should: -I ${inc}: ${what}")
  else()
    list(GET ARGN -1 bad)
    if(rc EQUAL 0)
      message(FATAL_ERROR "with -I ${inc}, including ${bad} compiled: the layer rule is not enforced")
    endif()
    string(FIND "${err}" "${bad}" at)
    if(at EQUAL -1 OR NOT err MATCHES "No such file|not found")
      message(FATAL_ERROR "with -I ${inc}, including ${bad} failed, but not because it is out of reach:\n${err}")
    endif()
    message(STATUS "refused as it should: -I ${inc}: ${bad}")
  endif()
endfunction()

compile(fail ${BUILD}/include-core core/tensor.h kernels/ops.h)
compile(fail ${BUILD}/include-data core/tensor.h kernels/ops.h)
compile(fail ${BUILD}/include-layers layers/module.h models/engine/checkpoint.h)
compile(fail ${BUILD}/include-layers layers/module.h data/safetensors.h)
compile(ok ${BUILD}/include-core core/tensor.h core/autograd.h core/philox.h core/device_backend.h)
compile(ok ${BUILD}/include-layers layers/module.h kernels/ops.h core/tensor.h)
compile(ok ${BUILD}/include-models models/engine/checkpoint.h layers/module.h data/safetensors.h eval/bleu.h)
compile(ok ${SRC} core/tensor.h kernels/ops.h)
message(STATUS "${n} probes: the layers are enforced")
