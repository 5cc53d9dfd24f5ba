// Shared helpers for the op front-ends in kernels/ops_*.cpp: the backend check and the one-line
// device dispatch to kernels/cpu or kernels/cuda.
#pragma once
#include "core/tensor.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/cuda_ops.h"
#endif

namespace mrnn {

// Throws unless `t` lives on a device this build has kernels for (the CPU, plus CUDA devices when
// the CUDA backend is built).
inline void require_backend(const char* op, const Tensor& t) {
#ifdef MRNN_WITH_CUDA
  if (t.device().is_cuda()) return;
#endif
  MRNN_CHECK(t.device().is_cpu(), "{}: no kernel for {} in this build", op, t.desc());
}

}  // namespace mrnn

// MRNN_DISPATCH(device, fn, args...) calls cuda::fn(args...) for a CUDA device and cpu::fn(args...)
// otherwise; kernels/cuda/cuda_ops.h mirrors kernels/cpu/cpu_ops.h so both resolve. Without the
// CUDA backend it is just the CPU call.
#ifdef MRNN_WITH_CUDA
#define MRNN_DISPATCH(device, fn, ...) \
  ((device).is_cuda() ? ::mrnn::cuda::fn(__VA_ARGS__) : ::mrnn::cpu::fn(__VA_ARGS__))
#else
#define MRNN_DISPATCH(device, fn, ...) ::mrnn::cpu::fn(__VA_ARGS__)
#endif
