# Data-parallel training over MPI (docs/distributed.md). MRNN_MPI = AUTO (use MPI when CMake finds
# it), ON (fail without it) or OFF. With MPI, models/engine/comm_mpi.cpp is compiled in
# (MRNN_WITH_MPI=1, private to the models layer: the public headers do not change) and the library
# links MPI; without it every program still runs as one process. Sets MRNN_HAVE_MPI.
set(MRNN_MPI AUTO CACHE STRING "Data-parallel training over MPI: AUTO (when found), ON or OFF")
set_property(CACHE MRNN_MPI PROPERTY STRINGS AUTO ON OFF)
set(MRNN_HAVE_MPI OFF CACHE INTERNAL "MPI found and used")
if(NOT MRNN_MPI STREQUAL "OFF")
  if(MRNN_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS C)
  else()
    find_package(MPI QUIET COMPONENTS C)
  endif()
  if(MPI_C_FOUND)
    set(MRNN_HAVE_MPI ON CACHE INTERNAL "MPI found and used")
  endif()
endif()
message(STATUS "mrnn: MPI (data-parallel training) ${MRNN_HAVE_MPI}")

# mrnn_setup_mpi(<objects> <library>): compiles <objects> with MPI and links it into <library>.
function(mrnn_setup_mpi objects library)
  if(NOT MRNN_HAVE_MPI)
    return()
  endif()
  # The C API only: mpi.h would otherwise pull in the (deprecated) C++ bindings and their library.
  target_compile_definitions(${objects} PRIVATE MRNN_WITH_MPI=1 OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)
  target_link_libraries(${objects} PRIVATE MPI::MPI_C)
  target_link_libraries(${library} PRIVATE MPI::MPI_C)
endfunction()

# NCCL for the GPU communicator (models/engine/comm_nccl.cpp): with the CUDA backend, when nccl.h and
# libnccl are found next to the toolkit (MRNN_NCCL_INCLUDE_DIR / MRNN_NCCL_LIB point elsewhere).
# Sets MRNN_HAVE_NCCL.
set(MRNN_HAVE_NCCL OFF CACHE INTERNAL "NCCL found and used")
if(MRNN_HAVE_CUDA)
  find_path(MRNN_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  find_library(MRNN_NCCL_LIB nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  if(MRNN_NCCL_INCLUDE_DIR AND MRNN_NCCL_LIB)
    set(MRNN_HAVE_NCCL ON CACHE INTERNAL "NCCL found and used")
  endif()
endif()
message(STATUS "mrnn: NCCL (GPU data-parallel sums) ${MRNN_HAVE_NCCL}")

function(mrnn_setup_nccl objects library)
  if(NOT MRNN_HAVE_NCCL)
    return()
  endif()
  target_compile_definitions(${objects} PRIVATE MRNN_WITH_NCCL=1)
  target_include_directories(${objects} SYSTEM PRIVATE ${MRNN_NCCL_INCLUDE_DIR} ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(${library} PRIVATE ${MRNN_NCCL_LIB} CUDA::cudart)
endfunction()
