// linear_cross_entropy_loss (kernels/fused.h), the logits-free loss over vocabulary chunks: equal
// to linear_cross_entropy's loss and to a direct f64 computation for chunk sizes that divide V,
// that do not, of one column and larger than V; with and without bias, i32/i64 targets, padding
// rows; no autograd history; the same argument errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/fused.h"
#include "kernels/ops.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

struct Inputs {
  Tensor x, w, b, t;
};

// x ~ N(0, 1) [n, h], w ~ N(0, 1/h) [v, h], b ~ N(0, 1/4) [v]; targets cycle through the classes,
// every 5th row is padding (0).
Inputs make(int64_t n, int64_t h, int64_t v, DType dt, uint64_t seed) {
  Generator g(seed);
  Inputs in;
  in.x = Tensor::randn({n, h}, g, dt);
  in.w = mul_scalar(Tensor::randn({v, h}, g, dt), 1.0 / std::sqrt(static_cast<double>(h)));
  in.b = mul_scalar(Tensor::randn({v}, g, dt), 0.5);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[static_cast<size_t>(i)] = i % 5 == 4 ? 0 : 1 + (i * 37) % (v - 1);
  in.t = Tensor::from_vector(t);
  return in;
}

// The mean loss computed directly in f64 from the definition.
double reference(const Inputs& in, bool bias) {
  const int64_t n = in.x.size(0), h = in.x.size(1), v = in.w.size(0);
  const std::vector<double> x = in.x.to_vector<double>(), w = in.w.to_vector<double>(), b = in.b.to_vector<double>();
  const std::vector<int64_t> t = in.t.to_vector<int64_t>();
  double total = 0;
  int64_t count = 0;
  for (int64_t r = 0; r < n; ++r) {
    if (t[r] == 0) continue;
    std::vector<double> z(v);
    double m = -INFINITY;
    for (int64_t j = 0; j < v; ++j) {
      double s = bias ? b[j] : 0.0;
      for (int64_t k = 0; k < h; ++k) s += x[r * h + k] * w[j * h + k];
      z[j] = s;
      m = std::max(m, s);
    }
    double e = 0;
    for (double zj : z) e += std::exp(zj - m);
    total += m + std::log(e) - z[t[r]];
    ++count;
  }
  return total / static_cast<double>(count);
}

}  // namespace

TEST_CASE("linear_cross_entropy_loss equals linear_cross_entropy and the f64 definition", "[fused][xent]") {
  const int64_t V = 300;
  for (DType dt : {DType::F64, DType::F32}) {
    const Inputs in = make(37, 16, V, dt, 3);
    const double rel = dt == DType::F64 ? 1e-12 : 1e-5;
    for (bool bias : {true, false}) {
      const Tensor b = bias ? in.b : Tensor();
      const double want = reference(in, bias);
      double fused;
      {
        NoGradGuard ng;
        fused = linear_cross_entropy(in.x, in.w, b, in.t, 0).item();
      }
      CHECK(fused == Approx(want).epsilon(rel));
      for (int64_t chunk : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{64}, int64_t{100}, V, V + 5}) {
        for (DType tdt : {DType::I64, DType::I32}) {
          INFO(dtype_name(dt) << (bias ? " with" : " without") << " bias, chunk " << chunk << ", "
                              << dtype_name(tdt) << " targets");
          const Tensor loss = linear_cross_entropy_loss(in.x, in.w, b, in.t.to(tdt), 0, chunk);
          CHECK(loss.dim() == 0);
          CHECK(loss.dtype() == dt);
          CHECK(loss.item() == Approx(want).epsilon(rel));
          CHECK(loss.item() == Approx(fused).epsilon(rel));
        }
      }
    }
  }
}

TEST_CASE("linear_cross_entropy_loss: many row blocks, no autograd history, padding-only input", "[fused][xent]") {
  // 1100 rows x chunk 1000 > the 1M-logit scratch block: several row blocks.
  const Inputs in = make(1100, 8, 2500, DType::F32, 4);
  Tensor x = in.x.clone().requires_grad_(), w = in.w.clone().requires_grad_();
  const Tensor loss = linear_cross_entropy_loss(x, w, in.b, in.t, 0, 1000);
  CHECK_FALSE(loss.requires_grad());
  CHECK(loss.grad_fn() == nullptr);
  NoGradGuard ng;
  CHECK(loss.item() == Approx(linear_cross_entropy(in.x, in.w, in.b, in.t, 0).item()).epsilon(1e-5));
  const Tensor pads = Tensor::zeros({1100}, DType::I64);
  CHECK(linear_cross_entropy_loss(in.x, in.w, in.b, pads, 0).item() == 0.0);
}

TEST_CASE("linear_cross_entropy_loss refuses bad arguments like linear_cross_entropy", "[fused][xent]") {
  const Inputs in = make(6, 4, 10, DType::F32, 5);
  CHECK_THROWS_WITH(linear_cross_entropy_loss(in.x, in.w, in.b, in.t, 0, -1), Contains("vocab_chunk must be >= 0"));
  const Tensor bad = Tensor::from_vector(std::vector<int64_t>{1, 2, 3, 10, 4, 5});
  CHECK_THROWS_WITH(linear_cross_entropy_loss(in.x, in.w, in.b, bad, 0),
                    Contains("linear_cross_entropy_loss: target 10 at row 3 is outside [0, 10)"));
  CHECK_THROWS_WITH(linear_cross_entropy_loss(in.x, in.w, Tensor::zeros({9}), in.t, 0), Contains("bias must be [10]"));
}
