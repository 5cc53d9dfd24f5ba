// The BF16 GEMM path of the matmul precision switch (kernels/common/matmul_precision.h), through
// cuBLASLt. Plain C++ header; defined only in builds with the CUDA backend (kernels/cuda/gemm_lt.cu).
#pragma once
#include "core/tensor.h"

namespace mrnn::cuda {

// C = alpha * op(A) @ op(B) + beta * C with op(A), op(B) rounded to bfloat16 (nearest even) and the
// products accumulated in f32 (CUBLAS_COMPUTE_32F); C stays f32. Requires: f32 2-d CUDA tensors on
// one device, any strides for A and B (they are converted into fresh contiguous bf16 copies), C
// with unit column stride (cuda::gemm's contract). Queued on the current stream; throws
// mrnn::Error naming the shapes when cuBLASLt offers no algorithm.
void gemm_bf16(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, double alpha,
               double beta);

}  // namespace mrnn::cuda
