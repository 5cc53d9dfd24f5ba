// exp and tanh for f32 written as straight-line arithmetic (range reduction + polynomial), so a
// compiler vectorizes a loop over them; libm's expf/tanhf are scalar calls. Why: softmax, cross
// entropy and the scaled tanh touch every logit/unit of every word, and with scalar libm calls they
// cost more than the GEMMs around them. Accuracy: within 2 ulp of the correctly rounded result
// over the whole float range (checked against std::exp/std::tanh in tests/core/test_fast_math.cpp).
// The f64 overloads are the exact libm functions, so f64 gradient checks see exact math.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/common/host_device.h"

namespace mrnn {

MRNN_HD float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

// e^x for f32. Ensures: 0 for x < -87.3 (no denormals), +inf for x > 88.72, NaN for NaN.
MRNN_HD float fast_exp(float x) {
  const float hi = 88.72283f, lo = -87.33654f;
  const bool over = x > hi, under = x < lo;
  const bool nan = !(x == x);
  float xc = x > hi ? hi : (x < lo ? lo : x);
  xc = nan ? 0.0f : xc;  // keeps the float -> int conversion below defined
  // x = n ln2 + r, |r| <= ln2/2; n rounded to nearest with the 1.5 * 2^23 trick (no libm call).
  const float shifter = 12582912.0f;
  const float t = xc * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  float r = xc - n * 0.693359375f;       // ln2 split in two so n * ln2_hi is exact
  r = r - n * -2.12194440e-4f;
  // e^r on [-ln2/2, ln2/2] (Cephes coefficients).
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n as two powers of two, since n may be 128 (2^128 is not a float but p * 2^64 * 2^64 is).
  const int32_t ni = static_cast<int32_t>(n), n1 = ni / 2, n2 = ni - n1;
  float y = p * bits_to_float((n1 + 127) << 23) * bits_to_float((n2 + 127) << 23);
  y = over ? INFINITY : y;
  y = under ? 0.0f : y;
  return nan ? x : y;
}
MRNN_HD double fast_exp(double x) { return std::exp(x); }

// tanh for f32: an odd Taylor polynomial near 0 (where 1 - 2/(e^2x + 1) would cancel), the exp
// form elsewhere. Ensures |result| <= 1 and tanh(-x) = -tanh(x).
MRNN_HD float fast_tanh(float x) {
  const float a = x < 0 ? -x : x;
  const float z = x * x;
  // tanh x = x (1 + z (-1/3 + z (2/15 + z (-17/315 + z (62/2835 + z (-1382/155925 + ...))))))
  float p = -1.45583439e-3f;           // -929569/638512875
  p = p * z + 3.59212803e-3f;          // 21844/6081075
  p = p * z - 8.86323552e-3f;          // -1382/155925
  p = p * z + 2.18694885e-2f;          // 62/2835
  p = p * z - 5.39682540e-2f;          // -17/315
  p = p * z + 1.33333333e-1f;          // 2/15
  p = p * z - 3.33333333e-1f;          // -1/3
  const float small = x + x * z * p;
  const float e = fast_exp(2.0f * a);
  float big = 1.0f - 2.0f / (e + 1.0f);  // e = inf gives exactly 1
  big = x < 0 ? -big : big;
  return a < 0.5f ? small : big;
}
MRNN_HD double fast_tanh(double x) { return std::tanh(x); }

}  // namespace mrnn
