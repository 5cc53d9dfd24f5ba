// PackedLinear: y = x W^T + b for inference, with W reordered once into the GEMM library's packed
// layout (oneDNN matmul), in f32 or bf16 (fp32 accumulation, fp32 output).
// Why: a decoder multiplies a few dozen rows by the same [V, H] output matrix at every step.
// OpenBLAS re-packs that 20 MB matrix on every call, about as long as it multiplies; packing once
// saves that, and bf16 on AVX512_BF16/AMX runs several times the f32 rate (docs/performance.md).
// This is an inference kernel: no autograd, CPU tensors only.
#pragma once
#include <memory>
#include <string>

#include "core/tensor.h"

namespace mrnn {

enum class MatmulPrecision { F32, BF16 };

// "fp32" | "bf16" (what --precision takes); throws Error naming the value otherwise.
MatmulPrecision parse_matmul_precision(const std::string& name);
const char* matmul_precision_name(MatmulPrecision p);

// Whether PackedLinear can run precision p here: F32 always (OpenBLAS fallback without oneDNN);
// BF16 only when the build has oneDNN and the CPU has AVX512_BF16 or AMX. why_not (optional)
// receives a one-line reason when it cannot.
bool packed_linear_supported(MatmulPrecision p, std::string* why_not = nullptr);

class PackedLinear {
 public:
  // Requires: weight f32 [N, K] on the CPU (any strides), bias f32 [N] or undefined,
  // packed_linear_supported(p). Ensures: a snapshot of weight and bias: later changes to them are
  // not seen (pack again after training or loading). Throws Error naming what is wrong.
  PackedLinear(const Tensor& weight, const Tensor& bias, MatmulPrecision p);
  ~PackedLinear();
  PackedLinear(PackedLinear&&) noexcept;
  PackedLinear& operator=(PackedLinear&&) noexcept;

  // Requires: x f32 [M, K] on the CPU, M >= 1. Ensures: f32 [M, N] with no autograd history.
  // F32 matches linear() to float rounding; BF16 rounds x and W to bf16 (8 significant bits) and
  // accumulates in fp32. Thread-compatible: one call at a time per object.
  Tensor operator()(const Tensor& x) const;

  MatmulPrecision precision() const;
  int64_t in_features() const;
  int64_t out_features() const;
  // The implementation that ran last ("openblas", or oneDNN's, e.g. "brg:avx512_core_amx_bf16").
  std::string implementation() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mrnn
