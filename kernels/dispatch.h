// Shared helpers for the op front-ends in kernels/ops_*.cpp.
#pragma once
#include "core/tensor.h"

namespace mrnn {

// Throws unless `t` lives on a device this build has kernels for. The CUDA backend replaces the
// CPU-only branch with a dispatch to kernels/cuda.
inline void require_backend(const char* op, const Tensor& t) {
  MRNN_CHECK(t.device().is_cpu(), "{}: no kernel for {} in this build", op, t.desc());
}

}  // namespace mrnn
