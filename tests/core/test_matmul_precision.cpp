// Host-side logic of the GEMM precision modes (kernels/common/matmul_precision.h) and the bfloat16
// rounding the BF16 path converts its operands with (kernels/common/bf16.h). Expected bit patterns
// by hand (IEEE-754 layouts; checked with Python's struct module).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "kernels/common/bf16.h"
#include "kernels/common/matmul_precision.h"

using namespace mrnn;

TEST_CASE("matmul precision names parse back in any case, and bad names are refused", "[matmul_precision]") {
  for (MatmulPrecision p : {MatmulPrecision::FP32, MatmulPrecision::TF32, MatmulPrecision::BF16})
    CHECK(parse_matmul_precision(matmul_precision_name(p)) == p);
  CHECK(parse_matmul_precision("BF16") == MatmulPrecision::BF16);
  CHECK(parse_matmul_precision("Tf32") == MatmulPrecision::TF32);
  CHECK(std::string(matmul_precision_name(MatmulPrecision::TF32)) == "tf32");
  CHECK_THROWS_WITH(parse_matmul_precision("fp16", "--matmul-precision"),
                    Catch::StartsWith("--matmul-precision is 'fp16', expected fp32, tf32 or bf16"));
  CHECK_THROWS_WITH(parse_matmul_precision(""), Catch::Contains("matmul precision is ''"));
  CHECK(matmul_operand_roundoff(MatmulPrecision::FP32) == 0.0);
  CHECK(matmul_operand_roundoff(MatmulPrecision::TF32) == std::ldexp(1.0, -10));
  CHECK(matmul_operand_roundoff(MatmulPrecision::BF16) == std::ldexp(1.0, -8));
}

TEST_CASE("bf16 rounding: nearest, ties to even, specials", "[matmul_precision]") {
  CHECK(float_to_bf16_bits(1.0f) == 0x3f80);
  CHECK(float_to_bf16_bits(-2.5f) == 0xc020);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the even one (1) wins; 1 + 3 * 2^-8 lies halfway
  // between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  CHECK(float_to_bf16_bits(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
  CHECK(float_to_bf16_bits(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
  CHECK(round_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 1.015625f);
  CHECK(float_to_bf16_bits(0.1f) == 0x3dcd);  // 0.10009765625
  CHECK(round_to_bf16(0.1f) == 0.10009765625f);
  CHECK(float_to_bf16_bits(-0.0f) == 0x8000);
  CHECK(float_to_bf16_bits(std::numeric_limits<float>::max()) == 0x7f80);  // rounds up to +inf
  CHECK(float_to_bf16_bits(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(float_to_bf16_bits(-std::numeric_limits<float>::infinity()) == 0xff80);
  CHECK(float_to_bf16_bits(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
  // A signaling NaN whose payload sits only in the low 16 bits must not round to infinity.
  uint32_t snan_bits = 0x7f800001u;
  float snan;
  std::memcpy(&snan, &snan_bits, sizeof snan);
  CHECK(std::isnan(round_to_bf16(snan)));
  // Every bf16 value converts back to itself; the relative error of any rounding is <= 2^-8.
  for (uint32_t b = 0; b < 0x10000u; b += 7) {
    const float x = bf16_bits_to_float(static_cast<uint16_t>(b));
    if (std::isnan(x)) continue;
    CHECK(float_to_bf16_bits(x) == b);
  }
  for (float x = 1e-30f; x < 1e30f; x *= 1.37f)
    CHECK(std::fabs(round_to_bf16(x) - x) <= std::ldexp(1.0f, -8) * x);
}
