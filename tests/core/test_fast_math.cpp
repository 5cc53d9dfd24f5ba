// fast_exp / fast_tanh (kernels/common/fast_math.h) against the f64 libm result, rounded to f32,
// over a dense sweep of the float range, plus the special values the kernels rely on.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/common/fast_math.h"

using namespace mrnn;

namespace {
// Distance in units in the last place between two finite floats of the same sign.
int64_t ulps(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if ((ia < 0) != (ib < 0)) return a == b ? 0 : INT64_MAX;
  return std::llabs(static_cast<int64_t>(ia) - ib);
}
}  // namespace

TEST_CASE("fast_exp is within 1 ulp of exp over the normal range", "[fast_math]") {
  int64_t worst = 0;
  float at = 0;
  int64_t checked = 0;
  for (float x = -87.3f; x < 88.72f; x += 0.00731f + std::fabs(x) * 1e-6f) {
    const float want = static_cast<float>(std::exp(static_cast<double>(x)));
    const int64_t u = ulps(fast_exp(x), want);
    if (u > worst) worst = u, at = x;
    ++checked;
  }
  INFO("worst " << worst << " ulp at x = " << at << " over " << checked << " points");
  CHECK(checked > 20000);
  CHECK(worst <= 1);
}

TEST_CASE("fast_exp special values", "[fast_math]") {
  CHECK(fast_exp(0.0f) == 1.0f);
  CHECK(fast_exp(-100.0f) == 0.0f);  // below the normal range: flushed to 0
  CHECK(fast_exp(-INFINITY) == 0.0f);
  CHECK(std::isinf(fast_exp(89.0f)));
  CHECK(std::isinf(fast_exp(INFINITY)));
  CHECK(std::isnan(fast_exp(NAN)));
  CHECK(std::isfinite(fast_exp(88.72f)));
  CHECK(fast_exp(1.0) == std::exp(1.0));  // f64 is libm itself
}

TEST_CASE("fast_tanh is within 2 ulp of tanh", "[fast_math]") {
  int64_t worst = 0;
  float at = 0;
  for (float x = -12.0f; x < 12.0f; x += 0.000377f) {
    const float want = static_cast<float>(std::tanh(static_cast<double>(x)));
    const int64_t u = ulps(fast_tanh(x), want);
    if (u > worst) worst = u, at = x;
  }
  for (float x = 1e-30f; x < 1e-2f; x *= 1.37f) {  // tiny arguments keep full relative accuracy
    const int64_t u = ulps(fast_tanh(x), static_cast<float>(std::tanh(static_cast<double>(x))));
    if (u > worst) worst = u, at = x;
  }
  INFO("worst " << worst << " ulp at x = " << at);
  CHECK(worst <= 2);
  CHECK(fast_tanh(0.0f) == 0.0f);
  CHECK(fast_tanh(50.0f) == 1.0f);
  CHECK(fast_tanh(-50.0f) == -1.0f);
  CHECK(fast_tanh(INFINITY) == 1.0f);
  CHECK(std::isnan(fast_tanh(NAN)));
  CHECK(fast_tanh(-0.3f) == -fast_tanh(0.3f));
}
