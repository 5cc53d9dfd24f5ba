// The precision of f32 GEMMs on CUDA (issue 6, kernel 5): FP32 (exact f32 products), TF32 (tensor
// cores, 10-bit mantissas) or BF16 (operands rounded to bfloat16, 7-bit mantissas, through
// cuBLASLt); every mode accumulates in f32 and writes f32. Why one setting: one switch for the
// whole process, so a training run picks its speed/accuracy trade-off in one place. f64 GEMMs and
// the CPU are unaffected.
#pragma once
#include <string>

#include "core/error.h"

namespace mrnn {

enum class MatmulPrecision { FP32, TF32, BF16 };

// "fp32", "tf32" or "bf16" (as written by matmul_precision_name).
inline const char* matmul_precision_name(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::FP32: return "fp32";
    case MatmulPrecision::TF32: return "tf32";
    case MatmulPrecision::BF16: return "bf16";
  }
  return "?";
}

// Parses a name as matmul_precision_name writes it, any letter case. Throws mrnn::Error naming
// `what` (e.g. the command-line option or config field), the value and the accepted names.
inline MatmulPrecision parse_matmul_precision(const std::string& name, const char* what = "matmul precision") {
  std::string s;
  for (char ch : name) s += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  for (MatmulPrecision p : {MatmulPrecision::FP32, MatmulPrecision::TF32, MatmulPrecision::BF16})
    if (s == matmul_precision_name(p)) return p;
  MRNN_FAIL("{} is '{}', expected fp32, tf32 or bf16", what, name);
}

// Worst-case relative rounding of one operand element in each mode (the unit roundoff of the
// format the operands are converted to; TF32 is taken as truncated, so 2^-10): the tests bound
// |C_gpu - C_exact| by (2 u + k 2^-24) sum_k |a_ik| |b_kj| with it.
inline double matmul_operand_roundoff(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::FP32: return 0.0;
    case MatmulPrecision::TF32: return 1.0 / 1024;
    case MatmulPrecision::BF16: return 1.0 / 256;
  }
  return 0.0;
}

}  // namespace mrnn

namespace mrnn::cuda {

// The process-wide mode for f32 GEMMs on CUDA (default FP32). TF32 is the switch
// set_allow_tf32 (kernels/cuda/device.h) already had, which cuda::gemm reads:
// set_matmul_precision(TF32) turns it on, FP32 and BF16 turn it off, and set_allow_tf32(true)
// reads back as TF32 unless BF16 is set. BF16 is recorded here; the BF16 product itself is
// cuda::gemm_bf16 (kernels/cuda/gemm_lt.h), which cuda::gemm calls for f32 operands in that mode
// (cuda::gemm_batched stays f32).
// Defined only in builds with the CUDA backend (kernels/cuda/gemm_lt.cu).
void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();

}  // namespace mrnn::cuda
