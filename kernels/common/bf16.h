// bfloat16 conversions as plain integer math (MRNN_HD): f32 -> bf16 bits with round-to-nearest-even
// (what cuBLAS and __float2bfloat16_rn do) and back. Why here: the BF16 GEMM path
// (kernels/cuda/gemm_lt.cu) converts its operands with these, and the CPU tests check the
// rounding and build the reference the GPU result is compared against.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/common/host_device.h"

namespace mrnn {

// The bf16 nearest to x (ties to even), as its 16 bits. NaN stays NaN (quiet), infinities stay
// infinite, values beyond the largest bf16 round to infinity.
MRNN_HD uint16_t float_to_bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// The f32 value of bf16 bits (exact).
MRNN_HD float bf16_bits_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// x rounded to the nearest bf16 value, as a float.
MRNN_HD float round_to_bf16(float x) { return bf16_bits_to_float(float_to_bf16_bits(x)); }

}  // namespace mrnn
