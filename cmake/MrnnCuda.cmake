# Decides whether the CUDA backend is built (MRNN_CUDA = AUTO | ON | OFF) and, if so, adds
# kernels/cuda/*.cu to the kernels layer. AUTO builds it whenever nvcc and cuDNN are found, so CI proves the
# CUDA sources compile and link even on machines without a GPU.
# cuDNN is looked for next to the toolkit; point MRNN_CUDNN_INCLUDE_DIR / MRNN_CUDNN_LIB elsewhere
# (e.g. at the nvidia-cudnn Python wheel, as scripts/gpu-check does) when it lives apart.
include(CheckLanguage)
set(MRNN_HAVE_CUDA OFF)
if(NOT MRNN_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    find_path(MRNN_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
    find_library(MRNN_CUDNN_LIB cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
    if(MRNN_CUDNN_INCLUDE_DIR AND MRNN_CUDNN_LIB)
      set(MRNN_HAVE_CUDA ON)
    elseif(MRNN_CUDA STREQUAL "ON")
      message(FATAL_ERROR "MRNN_CUDA=ON but cuDNN was not found (cudnn.h: ${MRNN_CUDNN_INCLUDE_DIR}, "
                          "libcudnn: ${MRNN_CUDNN_LIB}); set MRNN_CUDNN_INCLUDE_DIR and MRNN_CUDNN_LIB")
    else()
      message(WARNING "nvcc found but not cuDNN: the CUDA backend is not built (MRNN_CUDA=AUTO)")
    endif()
  elseif(MRNN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MRNN_CUDA=ON but no CUDA compiler was found (looked for nvcc)")
  endif()
endif()
message(STATUS "mrnn: CUDA backend ${MRNN_HAVE_CUDA}")

# mrnn_setup_cuda(<objects> <library>): the .cu sources are compiled in the kernels layer's object
# library <objects>; the CUDA libraries are linked into <library>, which also carries
# MRNN_WITH_CUDA as a PUBLIC definition for its consumers.
function(mrnn_setup_cuda objects library)
  if(NOT MRNN_HAVE_CUDA)
    return()
  endif()
  file(GLOB _cu CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu")
  target_sources(${objects} PRIVATE ${_cu})
  target_include_directories(${objects} SYSTEM PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:${MRNN_CUDNN_INCLUDE_DIR}>)
  target_link_libraries(${objects} PRIVATE CUDA::cudart CUDA::cublas CUDA::cublasLt)
  set_target_properties(${objects} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
  target_link_libraries(${library} PRIVATE CUDA::cudart CUDA::cublas CUDA::cublasLt ${MRNN_CUDNN_LIB})
  target_compile_definitions(${library} PUBLIC MRNN_WITH_CUDA=1)
endfunction()
