// Forward values against hand-computed numbers (and independent naive loops for the larger ops).
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/ops.h"

using namespace mrnn;


namespace {
std::vector<double> v(const Tensor& t) { return t.to_vector<double>(); }
Tensor f64(std::vector<double> x, Shape s = {}) { return Tensor::from_vector(x, s); }
}  // namespace

TEST_CASE("elementwise values", "[ops]") {
  Tensor x = f64({-2, -0.5, 0, 0.5, 2});
  CHECK(v(relu(x)) == std::vector<double>{0, 0, 0, 0.5, 2});
  CHECK(v(scaled_tanh(x))[4] == Approx(1.7159 * std::tanh(4.0 / 3.0)).epsilon(1e-14));
  CHECK(v(sigmoid(x))[0] == Approx(1 / (1 + std::exp(2.0))).epsilon(1e-14));
  CHECK(v(sigmoid(f64({-800, 800}))) == std::vector<double>{0, 1});  // no overflow
  CHECK(v(clamp(x, -1, 1)) == std::vector<double>{-1, -0.5, 0, 0.5, 1});
  CHECK(v(exp(f64({0, 1})))[1] == Approx(std::exp(1.0)));
  CHECK(v(log(f64({1, std::exp(2.0)})))[1] == Approx(2.0));
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3}), b = f64({10, 20, 30}, {3});
  CHECK(v(add(a, b)) == std::vector<double>{11, 22, 33, 14, 25, 36});
  CHECK(v(sub(b, a)) == std::vector<double>{9, 18, 27, 6, 15, 24});
  CHECK(v(mul(a, f64({2, 3}, {2, 1}))) == std::vector<double>{2, 4, 6, 12, 15, 18});
  CHECK(v(div(a, b))[5] == Approx(0.2));
  CHECK(v(a * 2.0 + 1.0) == std::vector<double>{3, 5, 7, 9, 11, 13});
  CHECK(v(add(transpose(a, 0, 1), f64({1, 1}))) == std::vector<double>{2, 5, 3, 6, 4, 7});
}

TEST_CASE("matmul, addmm and linear values", "[ops]") {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3}), b = f64({7, 8, 9, 10, 11, 12}, {3, 2});
  CHECK(v(matmul(a, b)) == std::vector<double>{58, 64, 139, 154});
  CHECK(v(matmul(transpose(b, 0, 1), transpose(a, 0, 1))) == std::vector<double>{58, 139, 64, 154});
  CHECK(v(addmm(f64({1, -1}), a, b)) == std::vector<double>{59, 63, 140, 153});
  CHECK(v(linear(a, transpose(b, 0, 1), f64({1, -1}))) == std::vector<double>{59, 63, 140, 153});
  // Batched against a naive triple loop on random data.
  Generator g(3);
  Tensor x = Tensor::randn({3, 4, 5}, g, DType::F64), y = Tensor::randn({3, 5, 2}, g, DType::F64);
  auto r = v(matmul(x, y)), xv = v(x), yv = v(y);
  for (int bi = 0; bi < 3; ++bi)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 2; ++j) {
        double s = 0;
        for (int k = 0; k < 5; ++k) s += xv[(bi * 4 + i) * 5 + k] * yv[(bi * 5 + k) * 2 + j];
        CHECK(r[(bi * 4 + i) * 2 + j] == Approx(s).epsilon(1e-12));
      }
}

TEST_CASE("reductions", "[ops]") {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(sum(a).item() == 21);
  CHECK(v(sum(a, {0})) == std::vector<double>{5, 7, 9});
  CHECK(v(sum(a, {1}, true)) == std::vector<double>{6, 15});
  CHECK(sum(a, {1}, true).shape() == Shape{2, 1});
  CHECK(v(mean(a, {0})) == std::vector<double>{2.5, 3.5, 4.5});
  CHECK(v(max(f64({3, 9, 1, 7, 2, 8}, {2, 3}), 1)) == std::vector<double>{9, 8});
  CHECK(argmax(f64({3, 9, 1, 7, 2, 8}, {2, 3}), 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  Tensor b = Tensor::ones({2, 3, 4}, DType::F64);
  CHECK(v(sum(b, {0, 2})) == std::vector<double>{8, 8, 8});
  CHECK(sum_to_shape(b, {3, 1}).to_vector<double>() == std::vector<double>{8, 8, 8});
}

TEST_CASE("softmax, log_softmax and cross entropy", "[ops]") {
  Tensor x = f64({1, 2, 3, 1000, 1001, 1002}, {2, 3});
  auto s = v(softmax(x, 1));
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(s[0] == Approx(std::exp(1.0) / z).epsilon(1e-14));
  CHECK(s[5] == Approx(std::exp(3.0) / z).epsilon(1e-12));  // large logits stay finite
  auto ls = v(log_softmax(x, 1));
  CHECK(ls[2] == Approx(3 - std::log(z)).epsilon(1e-14));
  auto sc = v(softmax(x, 0));
  CHECK(sc[0] == Approx(0.0).margin(1e-300));
  CHECK(sc[3] == Approx(1.0));
  Tensor t = Tensor::from_vector(std::vector<int64_t>{2, -100});
  CHECK(cross_entropy(x, t).item() == Approx(std::log(z) - 3).epsilon(1e-14));  // mean over the 1 real row
  Tensor t2 = Tensor::from_vector(std::vector<int64_t>{0, 1});
  CHECK(cross_entropy(x, t2).item() == Approx(((std::log(z) - 1) + (std::log(z) - 2)) / 2).epsilon(1e-12));
  CHECK(cross_entropy(x, Tensor::from_vector(std::vector<int64_t>{-100, -100})).item() == 0);
}

TEST_CASE("embedding, concat, stack, index_select, dropout", "[ops]") {
  Tensor w = f64({0, 1, 10, 11, 20, 21}, {3, 2});
  Tensor idx = Tensor::from_vector(std::vector<int64_t>{2, 0, 2, 1}, {2, 2});
  Tensor e = embedding(w, idx);
  CHECK(e.shape() == Shape{2, 2, 2});
  CHECK(v(e) == std::vector<double>{20, 21, 0, 1, 20, 21, 10, 11});
  CHECK(v(index_select(w, Tensor::from_vector(std::vector<int64_t>{1, 1}))) == std::vector<double>{10, 11, 10, 11});
  CHECK(v(concat({w, f64({5, 6}, {1, 2})}, 0)) == std::vector<double>{0, 1, 10, 11, 20, 21, 5, 6});
  CHECK(v(concat({w, f64({7, 8, 9}, {3, 1})}, 1)) == std::vector<double>{0, 1, 7, 10, 11, 8, 20, 21, 9});
  CHECK(v(stack({f64({1, 2}), f64({3, 4})}, 1)) == std::vector<double>{1, 3, 2, 4});
  Generator g(5);
  Tensor ones = Tensor::ones({10000}, DType::F64);
  auto d = v(dropout(ones, 0.25, true, g));
  int kept = 0;
  for (double x : d) {
    CHECK((x == 0 || x == Approx(1 / 0.75)));
    kept += x != 0;
  }
  CHECK(std::abs(kept - 7500) < 200);
  CHECK(dropout(ones, 0.25, false, g).shares_storage(ones));
}

TEST_CASE("conv2d and pooling against naive loops", "[ops]") {
  Generator g(9);
  Tensor x = Tensor::randn({2, 3, 6, 5}, g, DType::F64), w = Tensor::randn({4, 3, 3, 3}, g, DType::F64);
  Tensor b = Tensor::randn({4}, g, DType::F64);
  const int stride = 2, pad = 1, OH = (6 + 2 - 3) / 2 + 1, OW = (5 + 2 - 3) / 2 + 1;
  auto y = v(conv2d(x, w, b, stride, pad));
  auto xv = v(x), wv = v(w), bv = v(b);
  REQUIRE(y.size() == size_t(2 * 4 * OH * OW));
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 4; ++o)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          double s = bv[o];
          for (int c = 0; c < 3; ++c)
            for (int i = 0; i < 3; ++i)
              for (int j = 0; j < 3; ++j) {
                int iy = oy * stride - pad + i, ix = ox * stride - pad + j;
                if (iy < 0 || iy >= 6 || ix < 0 || ix >= 5) continue;
                s += xv[((n * 3 + c) * 6 + iy) * 5 + ix] * wv[((o * 3 + c) * 3 + i) * 3 + j];
              }
          CHECK(y[((n * 4 + o) * OH + oy) * OW + ox] == Approx(s).epsilon(1e-12));
        }
  Tensor p = f64({1, 5, 2, 0, 3, 4, 8, 7, 6, 2, 1, 0, 9, 3, 4, 5}, {1, 1, 4, 4});
  CHECK(v(max_pool2d(p, 2, 2)) == std::vector<double>{5, 8, 9, 5});
  CHECK(v(avg_pool2d(p, 2, 2)) == std::vector<double>{3.25, 4.25, 5, 2.5});
  CHECK(v(avg_pool2d(p, 3, 2, 1))[0] == Approx((1 + 5 + 3 + 4) / 9.0));  // padding counted
}
