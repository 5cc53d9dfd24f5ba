// MRNN_CUDA_CHECK(call): every CUDA runtime, cuBLAS and cuDNN status goes through it, so a failure
// throws mrnn::Error naming the call, the status, its message and the source line. Internal to the
// CUDA translation units (needs the CUDA headers), hence .cuh: it is not an installed header.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "core/error.h"

namespace mrnn::cuda::detail {

// Each overload returns normally on success and throws mrnn::Error otherwise.
void check_status(cudaError_t status, const char* call, const char* file, int line);
void check_status(cublasStatus_t status, const char* call, const char* file, int line);
void check_status(cudnnStatus_t status, const char* call, const char* file, int line);

// After a kernel launch: the launch-configuration error (always, it is free) and, in debug builds
// (NDEBUG undefined) or when MRNN_CUDA_SYNC_CHECK=1 is set in the environment, a stream
// synchronization so an asynchronous fault is reported at the kernel that caused it.
void check_launch(const char* kernel, cudaStream_t stream, const char* file, int line);

}  // namespace mrnn::cuda::detail

#define MRNN_CUDA_CHECK(call) ::mrnn::cuda::detail::check_status((call), #call, __FILE__, __LINE__)
#define MRNN_CUDA_CHECK_LAUNCH(kernel, stream) \
  ::mrnn::cuda::detail::check_launch(kernel, stream, __FILE__, __LINE__)
