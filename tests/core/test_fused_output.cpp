// linear_cross_entropy (the fused output layer + loss) against the unfused composition
// cross_entropy(linear(x, W, b)) in f32 at a realistic vocabulary: same loss and gradients for
// every block size, padding rows skipped, clear errors. (The f64 gradient check is in the op table.)
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "support/compare.h"

using namespace mrnn;
using mrnn::testing::max_abs_diff;

namespace {

double max_abs(const Tensor& a) {
  double m = 0;
  for (double v : a.to_vector<double>()) m = std::max(m, std::fabs(v));
  return m;
}

struct Problem {
  Tensor x, w, b, t;
};

Problem make(int64_t n, int64_t h, int64_t v, uint64_t seed) {
  Generator g(seed);
  Problem p;
  p.x = (Tensor::randn({n, h}, g) * 0.5).requires_grad_();
  p.w = (Tensor::randn({v, h}, g) * 0.3).requires_grad_();
  p.b = (Tensor::randn({v}, g) * 0.1).requires_grad_();
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int64_t>(g.randint(static_cast<uint64_t>(v)));
  for (int64_t i = 0; i < n; i += 7) ids[i] = 0;  // padding rows
  p.t = Tensor::from_vector(ids, {n});
  return p;
}

}  // namespace

TEST_CASE("linear_cross_entropy matches cross_entropy(linear) in f32", "[fused]") {
  const int64_t chunk = GENERATE(0, 1, 77, 300, 1000);
  Problem p = make(300, 64, 1000, 5);
  Tensor ref = cross_entropy(linear(p.x, p.w, p.b), p.t, 0);
  ref.backward();
  Tensor gx = p.x.grad().clone(), gw = p.w.grad().clone(), gb = p.b.grad().clone();
  p.x.zero_grad();
  p.w.zero_grad();
  p.b.zero_grad();
  Tensor fused = linear_cross_entropy(p.x, p.w, p.b, p.t, 0, chunk);
  INFO("chunk " << chunk);
  CHECK(fused.item() == Approx(ref.item()).epsilon(1e-5));
  fused.backward();
  CHECK(max_abs_diff(p.x.grad(), gx) <= 1e-6 * std::max(1.0, max_abs(gx)) + 1e-7);
  CHECK(max_abs_diff(p.w.grad(), gw) <= 1e-6 * std::max(1.0, max_abs(gw)) + 1e-7);
  CHECK(max_abs_diff(p.b.grad(), gb) <= 1e-6 * std::max(1.0, max_abs(gb)) + 1e-7);
  CHECK(max_abs(gw) > 1e-4);  // the comparison is not between zeros
}

TEST_CASE("linear_cross_entropy: upstream scale, no-grad mode, transposed weight, all padding", "[fused]") {
  Problem p = make(40, 16, 50, 9);
  Tensor fused = linear_cross_entropy(p.x, p.w, p.b, p.t, 0);
  (fused * 3.0).backward();
  Tensor gx3 = p.x.grad().clone();
  p.x.zero_grad();
  cross_entropy(linear(p.x, p.w, p.b), p.t, 0).backward();
  CHECK(max_abs_diff(gx3, p.x.grad() * 3.0) < 1e-6);

  {
    NoGradGuard ng;
    Tensor l = linear_cross_entropy(p.x, p.w, p.b, p.t, 0, 8);
    CHECK_FALSE(l.requires_grad());
    CHECK(l.item() == Approx(fused.item()).epsilon(1e-6));
    // the weight as a transposed view of [H, V] storage (a tied table may be laid out either way)
    Tensor wt = transpose(transpose(p.w.detach(), 0, 1).contiguous(), 0, 1);
    CHECK(linear_cross_entropy(p.x, wt, p.b, p.t, 0).item() == Approx(fused.item()).epsilon(1e-6));
  }

  Tensor pad = Tensor::from_vector(std::vector<int64_t>(40, 0), {40});
  p.w.zero_grad();
  Tensor none = linear_cross_entropy(p.x, p.w, p.b, pad, 0);
  CHECK(none.item() == 0.0);
  none.backward();
  CHECK(max_abs(p.w.grad()) == 0.0);
}

TEST_CASE("linear_cross_entropy rejects bad targets and shapes with clear messages", "[fused]") {
  Problem p = make(4, 3, 5, 1);
  Tensor bad = Tensor::from_vector(std::vector<int64_t>{1, 2, 5, 0}, {4});
  CHECK_THROWS_WITH(linear_cross_entropy(p.x, p.w, p.b, bad, -100),
                    Catch::Contains("target 5 at row 2 is outside [0, 5)"));
  CHECK_THROWS_WITH(linear_cross_entropy(p.x, transpose(p.w, 0, 1), p.b, p.t, 0),
                    Catch::Contains("expected x [N, H] and weight [V, H]"));
  CHECK_THROWS_WITH(linear_cross_entropy(p.x, p.w, Tensor::zeros({4}), p.t, 0), Catch::Contains("bias must be [5]"));
}
