// The ops a user reaches for first (abs, sign, gelu, maximum/minimum, pow, where/masked_fill, global
// max/min, var, mse_loss, layer_norm): forward values against hand-computed numbers, the edge
// cases PyTorch users rely on (ties, NaN, inf in the unselected branch), f32 against f64, and the
// errors. Their gradients are checked in f64 by the op table (tests/support/op_table.h).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "kernels/ops.h"

using namespace mrnn;

namespace {
std::vector<double> v(const Tensor& t) { return t.to_vector<double>(); }
Tensor f64(std::vector<double> x, Shape s = {}) { return Tensor::from_vector(x, s); }
const double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("abs, sign and gelu values", "[ops]") {
  Tensor x = f64({-2, -0.5, 0, 0.5, 2});
  CHECK(v(abs(x)) == std::vector<double>{2, 0.5, 0, 0.5, 2});
  CHECK(v(sign(x)) == std::vector<double>{-1, -1, 0, 1, 1});
  // x * Phi(x): Phi(1) = 0.841344746068543, Phi(-0.5) = 0.308537538725987 (normal tables).
  std::vector<double> g = v(gelu(f64({1, -0.5, 0})));
  CHECK(g[0] == Approx(0.841344746068543).epsilon(1e-14));
  CHECK(g[1] == Approx(-0.5 * 0.308537538725987).epsilon(1e-13));
  CHECK(g[2] == 0);
  // abs's gradient at 0 is 0, as sign(0).
  Tensor z = f64({0.0, -3.0});
  z.requires_grad_(true);
  sum(abs(z)).backward();
  CHECK(v(z.grad()) == std::vector<double>{0, -1});
}

TEST_CASE("maximum and minimum: broadcasting, ties split the gradient, NaN propagates", "[ops]") {
  Tensor a = f64({1, 5, 3, 4}, {2, 2}), b = f64({2, 4}, {2});
  CHECK(v(maximum(a, b)) == std::vector<double>{2, 5, 3, 4});
  CHECK(v(minimum(a, b)) == std::vector<double>{1, 4, 2, 4});
  Tensor p = f64({1.0, 2.0}), q = f64({1.0, 3.0});
  p.requires_grad_(true);
  q.requires_grad_(true);
  sum(maximum(p, q)).backward();
  CHECK(v(p.grad()) == std::vector<double>{0.5, 0});  // tie at 1: half each
  CHECK(v(q.grad()) == std::vector<double>{0.5, 1});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> m = v(maximum(f64({nan, 1}), f64({1, nan})));
  CHECK(std::isnan(m[0]));
  CHECK(std::isnan(m[1]));
  // f32 takes the same path.
  CHECK(maximum(a.to(DType::F32), b.to(DType::F32)).to_vector<float>() == std::vector<float>{2, 5, 3, 4});
}

TEST_CASE("pow: integer and fractional exponents, tensor exponents", "[ops]") {
  CHECK(v(pow(f64({-2, 3}), 3.0)) == std::vector<double>{-8, 27});
  CHECK(v(pow(f64({4, 9}), 0.5)) == std::vector<double>{2, 3});
  CHECK(std::isnan(v(pow(f64({-4}), 0.5))[0]));  // std::pow's rule
  CHECK(v(pow(f64({2, 2, 3}), f64({0, 3, 2}))) == std::vector<double>{1, 8, 9});
}

TEST_CASE("where and masked_fill: broadcasting, any mask dtype, inf never leaks", "[ops]") {
  Tensor cond = Tensor::from_vector(std::vector<int64_t>{1, 0, 0, 1}, {2, 2});
  CHECK(v(where(cond, f64({1, 2, 3, 4}, {2, 2}), f64({-1, -2}, {2}))) == std::vector<double>{1, -2, -1, 4});
  // cond * a + (1 - cond) * b would give NaN here (0 * inf).
  Tensor a = f64({kInf, 2}), b = f64({5, -kInf});
  a.requires_grad_(true);
  Tensor c = Tensor::from_vector(std::vector<float>{0, 1});
  std::vector<double> w = v(where(c, a, b));
  CHECK(w == std::vector<double>{5, 2});
  sum(where(c, a, b)).backward();
  CHECK(v(a.grad()) == std::vector<double>{0, 1});
  // masked_fill with -inf before a softmax: masked positions get probability 0.
  Tensor scores = f64({1, 2, 3, 1, 1, 1}, {2, 3});
  Tensor pad = Tensor::from_vector(std::vector<int64_t>{0, 0, 1}, {3});
  std::vector<double> s = v(softmax(masked_fill(scores, pad, -kInf), 1));
  CHECK(s[2] == 0);
  CHECK(s[5] == 0);
  CHECK(s[3] == Approx(0.5));
  CHECK(s[0] + s[1] == Approx(1.0));
  CHECK_THROWS_WITH(where(cond, f64({1, 2, 3}), f64({1})), Catch::Contains("where"));
}

TEST_CASE("global max and min, var, mse_loss", "[ops]") {
  Tensor x = f64({3, -1, 7, 7, 0, 2}, {2, 3});
  CHECK(max(x).item() == 7);
  CHECK(max(x).dim() == 0);
  CHECK(min(x).item() == -1);
  Tensor xg = x.clone();
  xg.requires_grad_(true);
  max(xg).backward();
  CHECK(v(xg.grad()) == std::vector<double>{0, 0, 1, 0, 0, 0});  // the first maximal element
  Tensor r = f64({1, 2, 3, 4});
  CHECK(var(r).item() == Approx(5.0 / 3.0).epsilon(1e-15));
  CHECK(var(r, {0}, false).item() == Approx(1.25).epsilon(1e-15));
  CHECK(v(var(f64({1, 3, 2, 2, 4, 0}, {2, 3}), {1})) == std::vector<double>{1, 4});
  CHECK(var(f64({1, 3, 2, 2, 4, 0}, {2, 3}), {1}, true, true).shape() == Shape{2, 1});
  // A large offset: the two-pass formula keeps the variance exact where E[x^2] - E[x]^2 would not.
  CHECK(var(Tensor::from_vector(std::vector<float>{1e4f + 1, 1e4f + 2, 1e4f + 3})).item() == Approx(1.0).epsilon(1e-6));
  CHECK_THROWS_WITH(var(f64({1})), Catch::Contains("var") && Catch::Contains("1 element"));
  CHECK_THROWS_WITH(max(Tensor::zeros({0})), Catch::Contains("empty"));
  Tensor p = f64({1, 2, 3}), t = f64({0, 2, 5});
  CHECK(mse_loss(p, t).item() == Approx(5.0 / 3.0));
  CHECK(mse_loss(p, t, Reduction::Sum).item() == 5);
  CHECK(v(mse_loss(p, t, Reduction::None)) == std::vector<double>{1, 0, 4});
  CHECK_THROWS_WITH(mse_loss(p, reshape(t, {3, 1})), Catch::Contains("one shape"));
}

TEST_CASE("layer_norm: values, no affine, f32 matches f64, bad shapes", "[ops]") {
  Tensor x = f64({1, 2, 3, 4, 2, 2, 2, 6}, {2, 4});
  Tensor w = f64({1, 2, 1, 1}), b = f64({0, 0, 1, 0});
  std::vector<double> y = v(layer_norm(x, w, b));
  const double r0 = 1 / std::sqrt(1.25 + 1e-5);  // row 0: mean 2.5, biased var 1.25
  CHECK(y[0] == Approx(-1.5 * r0).epsilon(1e-14));
  CHECK(y[1] == Approx(-0.5 * r0 * 2).epsilon(1e-14));
  CHECK(y[2] == Approx(0.5 * r0 + 1).epsilon(1e-14));
  CHECK(y[3] == Approx(1.5 * r0).epsilon(1e-14));
  const double r1 = 1 / std::sqrt(3.0 + 1e-5);  // row 1: mean 3, var (1+1+1+9)/4 = 3
  CHECK(y[7] == Approx(3 * r1).epsilon(1e-14));
  // No affine: each row has mean 0 and (biased) variance 1 up to eps.
  Generator gen(3);
  Tensor big = Tensor::randn({5, 300}, gen, DType::F64, 4.0, 3.0);
  Tensor n = layer_norm(big, Tensor(), Tensor(), 0);
  for (double m : v(mean(n, {1}))) CHECK(std::fabs(m) < 1e-12);
  for (double s : v(var(n, {1}, false))) CHECK(s == Approx(1.0).epsilon(1e-12));
  std::vector<float> f = layer_norm(big.to(DType::F32)).to_vector<float>();
  std::vector<double> d = v(layer_norm(big));
  for (size_t i = 0; i < d.size(); ++i) CHECK(f[i] == Approx(d[i]).margin(1e-5));
  CHECK_THROWS_WITH(layer_norm(x, f64({1, 2, 3})), Catch::Contains("weight must be [4]"));
  CHECK_THROWS_WITH(layer_norm(x, Tensor(), Tensor(), -1), Catch::Contains("eps"));
}
