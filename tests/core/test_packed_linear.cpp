// PackedLinear (kernels/packed_linear.h): the packed f32 path against linear() and an f64
// reference; the bf16 path against an f64 product of the bf16-rounded inputs (so the test checks
// that only the inputs are rounded and the accumulation is fp32); the snapshot rule; the refusals.
// Where this machine cannot run bf16 the test checks the refusal and its reason instead, and says
// so in the output (WARN).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "kernels/packed_linear.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

float round_to_bf16(float v) {  // round to nearest even, as the hardware conversion does
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  bits &= 0xFFFF0000u;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// y[m, n] = sum_k x[m, k] w[n, k] + b[n] in f64 (inputs optionally rounded to bf16 first), and
// the scale sum_k |x w| + |b| that bounds the fp32 accumulation error.
void reference(const Tensor& x, const Tensor& w, const Tensor& b, bool bf16, std::vector<double>& y,
               std::vector<double>& scale) {
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  const std::vector<float> xv = x.contiguous().to_vector<float>(), wv = w.contiguous().to_vector<float>();
  const std::vector<float> bv = b.defined() ? b.to_vector<float>() : std::vector<float>(N, 0.f);
  y.assign(M * N, 0);
  scale.assign(M * N, 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = bv[n], sc = std::abs(bv[n]);
      for (int64_t k = 0; k < K; ++k) {
        const double a = bf16 ? round_to_bf16(xv[m * K + k]) : xv[m * K + k];
        const double c = bf16 ? round_to_bf16(wv[n * K + k]) : wv[n * K + k];
        acc += a * c;
        sc += std::abs(a * c);
      }
      y[m * N + n] = acc;
      scale[m * N + n] = sc;
    }
}

void check_close(const Tensor& got, const std::vector<double>& want, const std::vector<double>& scale, double tol) {
  const std::vector<float> g = got.to_vector<float>();
  REQUIRE(g.size() == want.size());
  int64_t bad = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (std::abs(g[i] - want[i]) > tol * scale[i] + 1e-6) ++bad;
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("packed fp32 linear equals linear() and an f64 product, for any rows, strides and bias", "[packed_linear]") {
  NoGradGuard ng;
  Generator g(7);
  const int64_t N = 300, K = 96;
  const Tensor w_t = Tensor::randn({K, N}, g);  // stored transposed: the packed copy must follow strides
  const Tensor w = transpose(w_t, 0, 1);
  const Tensor b = Tensor::randn({N}, g);
  for (bool with_bias : {true, false}) {
    PackedLinear p(w, with_bias ? b : Tensor(), MatmulPrecision::F32);
    CHECK(p.in_features() == K);
    CHECK(p.out_features() == N);
    for (int64_t M : {1, 7, 64, 64, 130}) {  // 64 twice: the cached primitive is reused
      CAPTURE(with_bias, M);
      const Tensor x = Tensor::randn({M, K}, g);
      const Tensor y = p(x);
      REQUIRE(y.shape() == Shape{M, N});
      std::vector<double> want, scale;
      reference(x, w, with_bias ? b : Tensor(), false, want, scale);
      check_close(y, want, scale, 1e-5);
      const std::vector<float> plain = linear(x, w, with_bias ? b : Tensor()).to_vector<float>();
      const std::vector<float> got = y.to_vector<float>();
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(got[i] - plain[i])));
      CHECK(worst < 1e-3);
    }
  }
}

TEST_CASE("packed linear is a snapshot: later changes to the weights are not seen", "[packed_linear]") {
  NoGradGuard ng;
  Generator g(8);
  Tensor w = Tensor::randn({40, 16}, g), b = Tensor::randn({40}, g);
  const Tensor x = Tensor::randn({5, 16}, g);
  PackedLinear p(w, b, MatmulPrecision::F32);
  const std::vector<float> before = p(x).to_vector<float>();
  w.data<float>()[0] += 100.f;
  b.data<float>()[3] -= 50.f;
  CHECK(p(x).to_vector<float>() == before);
}

TEST_CASE("bf16 packed linear rounds only the inputs and accumulates in fp32, or refuses with the reason",
          "[packed_linear]") {
  NoGradGuard ng;
  Generator g(9);
  const int64_t N = 1000, K = 128;
  const Tensor w = Tensor::randn({N, K}, g), b = Tensor::randn({N}, g);
  std::string why;
  if (!packed_linear_supported(MatmulPrecision::BF16, &why)) {
    WARN("bf16 not available on this machine, only the refusal is checked: " << why);
    CHECK(!why.empty());
    CHECK_THROWS_WITH(PackedLinear(w, b, MatmulPrecision::BF16), Contains("bf16 is not available"));
    return;
  }
  PackedLinear p(w, b, MatmulPrecision::BF16);
  CHECK(p.precision() == MatmulPrecision::BF16);
  for (int64_t M : {1, 33, 64}) {
    CAPTURE(M);
    const Tensor x = Tensor::randn({M, K}, g);
    const Tensor y = p(x);
    std::vector<double> want, scale;
    reference(x, w, b, true, want, scale);
    check_close(y, want, scale, 1e-5);  // fp32 accumulation of exactly-representable bf16 products
    // and it is not the unrounded product: bf16 rounding moves results by ~1e-3 of the scale
    std::vector<double> exact, scale2;
    reference(x, w, b, false, exact, scale2);
    const std::vector<float> got = y.to_vector<float>();
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - exact[i]) / scale2[i]);
    CHECK(worst > 1e-4);
    CHECK(worst < 2e-2);
  }
  INFO(p.implementation());
  CHECK(!p.implementation().empty());
}

TEST_CASE("packed linear refuses bad weights, bias, inputs and precision names", "[packed_linear]") {
  NoGradGuard ng;
  Generator g(10);
  const Tensor w = Tensor::randn({8, 4}, g);
  CHECK_THROWS_WITH(PackedLinear(Tensor::randn({8}, g), Tensor(), MatmulPrecision::F32), Contains("weight must be f32 [N, K]"));
  CHECK_THROWS_WITH(PackedLinear(w.to(DType::F64), Tensor(), MatmulPrecision::F32), Contains("weight must be f32"));
  CHECK_THROWS_WITH(PackedLinear(w, Tensor::randn({7}, g), MatmulPrecision::F32), Contains("bias must be f32 [8]"));
  PackedLinear p(w, Tensor(), MatmulPrecision::F32);
  CHECK_THROWS_WITH(p(Tensor::randn({3, 5}, g)), Contains("input must be f32 [M >= 1, 4]"));
  CHECK_THROWS_WITH(p(Tensor::randn({4}, g)), Contains("input must be f32"));
  CHECK(parse_matmul_precision("bf16") == MatmulPrecision::BF16);
  CHECK(parse_matmul_precision("fp32") == MatmulPrecision::F32);
  CHECK_THROWS_WITH(parse_matmul_precision("fp16"), Contains("expected fp32 or bf16, got 'fp16'"));
}
