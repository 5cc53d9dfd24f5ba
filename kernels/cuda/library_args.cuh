// Arguments shared by the cuBLAS and cuDNN call sites (kernels/cuda/gemm.cu, cudnn_conv.cu):
// the 32-bit size check and alpha/beta in the compute type. Internal (.cuh).
#pragma once
#include <climits>
#include <cstdint>

#include "core/error.h"
#include "core/tensor.h"

namespace mrnn::cuda {

// Requires: 0 <= v <= INT32_MAX, since cuBLAS and cuDNN take sizes as int.
// Ensures: v as an int; otherwise throws mrnn::Error naming `what` and the value.
inline int as_int(int64_t v, const char* what) {
  MRNN_CHECK(v >= 0 && v <= INT32_MAX, "cuda: {} = {} does not fit the 32-bit size cuBLAS/cuDNN take", what, v);
  return static_cast<int>(v);
}

// alpha/beta in the compute type's scalar type: the libraries read them through a void pointer
// as float for f32 data and as double for f64.
struct Scalars {
  float f[2];
  double d[2];
  const void* alpha(DType dt) const { return dt == DType::F32 ? static_cast<const void*>(&f[0]) : &d[0]; }
  const void* beta(DType dt) const { return dt == DType::F32 ? static_cast<const void*>(&f[1]) : &d[1]; }
};
inline Scalars scalars(double alpha, double beta) {
  return {{static_cast<float>(alpha), static_cast<float>(beta)}, {alpha, beta}};
}

}  // namespace mrnn::cuda
