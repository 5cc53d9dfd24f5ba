# The library's layers, each its own OBJECT library, so that a dependency pointing up (say core
# including "kernels/ops.h") fails to compile instead of quietly tying the layers together:
#   examples -> models -> layers -> kernels -> core;  data, eval -> core;  models -> data, eval.
# mrnn_add_layer(<layer> [USES <layer>...]) compiles every .cpp under <layer>/ (recursively) as
# mrnn_<layer> with one include directory, <build>/include-<layer>/, which holds symlinks to
# <layer>/ and to the layers it USES and nothing else. The objects all go into the one shared
# library mrnn (the only target consumers see; its PUBLIC include directory is the source root).
# MRNN_LAYER_INCLUDE_<layer> names that directory (tests/build/layering.cmake compiles with it).
function(mrnn_add_layer layer)
  cmake_parse_arguments(PARSE_ARGV 1 A "" "" "USES")
  set(inc ${PROJECT_BINARY_DIR}/include-${layer})
  file(REMOVE_RECURSE ${inc})
  file(MAKE_DIRECTORY ${inc})
  foreach(dir IN ITEMS ${layer} ${A_USES})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${dir} ${inc}/${dir} SYMBOLIC)
  endforeach()
  file(GLOB_RECURSE src CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${layer}/*.cpp)
  if(NOT MRNN_HAVE_CUDA)  # a CPU-only library holds no mrnn::cuda code (tests/consumer/sanitized.cmake checks)
    list(FILTER src EXCLUDE REGEX "/kernels/cuda/")
  endif()
  set(t mrnn_${layer})
  add_library(${t} OBJECT ${src})
  target_include_directories(${t} PRIVATE ${inc})
  # What every library source was compiled with before the split: fmt, OpenMP (the pragmas in
  # core's templates are used everywhere), the warnings and the float flags (see CMakeLists.txt).
  target_link_libraries(${t} PRIVATE fmt::fmt OpenMP::OpenMP_CXX)
  target_compile_options(${t} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
                                      $<$<COMPILE_LANGUAGE:CXX>:-fno-trapping-math -fno-math-errno>)
  target_compile_definitions(${t} PRIVATE MRNN_VERSION="${MRNN_VERSION}")
  if(MRNN_HAVE_CUDA)  # headers differ with it: every layer sees the same definition (ODR)
    target_compile_definitions(${t} PRIVATE MRNN_WITH_CUDA=1)
  endif()
  target_sources(mrnn PRIVATE $<TARGET_OBJECTS:${t}>)
  set(MRNN_LAYER_INCLUDE_${layer} ${inc} CACHE INTERNAL "include directory of the ${layer} layer")
endfunction()
