// The fused recurrent cells (kernels/fused.h: rnn_cell, lstm_cell, gru_cell) on the CPU: one
// element of each by hand (Python's math on the PyTorch cell formulas), the cells against the
// unfused compositions the layers used before (f64, forward and every gradient, on a time-step
// view as the layers pass it), and the shape errors. The f64 finite-difference checks are rows of
// the op table (rnn_cell_relu, rnn_cell_tanh, lstm_cell*, gru_cell*).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <cmath>
#include <vector>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "support/compare.h"

using namespace mrnn;
using mrnn::testing::max_abs_diff;

namespace {

Tensor vec(std::vector<double> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::from_vector(v, {1, n});
}

// The compositions of separate ops (what layers/rnn.cpp, lstm.cpp and gru.cpp computed).
Tensor lstm_unfused(const Tensor& xp, const Tensor& hp, const Tensor& c, int64_t n) {
  auto g = split(add(xp, hp), {n, n, n, n}, 1);
  Tensor i = sigmoid(g[0]), f = sigmoid(g[1]), cand = tanh(g[2]), o = sigmoid(g[3]);
  Tensor c2 = add(mul(f, c), mul(i, cand));
  return stack({mul(o, tanh(c2)), c2}, 0);
}
Tensor gru_unfused(const Tensor& xp, const Tensor& hp, const Tensor& h, int64_t n) {
  auto xg = split(xp, {n, n, n}, 1);
  auto hg = split(hp, {n, n, n}, 1);
  Tensor r = sigmoid(add(xg[0], hg[0])), z = sigmoid(add(xg[1], hg[1]));
  Tensor nn = tanh(add(xg[2], mul(r, hg[2])));
  return add(nn, mul(z, sub(h, nn)));
}

// Runs fn on fresh leaves (copies of `in`; input 0 is passed as step 1 of a [B, 3, G] stack, the
// row-strided view a layer passes), then backward with fixed random weights; returns output and gradients.
template <typename F>
std::vector<Tensor> run(const std::vector<Tensor>& in, F&& fn) {
  std::vector<Tensor> x;
  for (const Tensor& t : in) x.push_back(t.detach().clone().requires_grad_());
  Tensor seq = stack({x[0], x[0], x[0]}, 1);  // only step 1 is read: its gradient is x[0]'s
  Tensor out = fn(select(seq, 1, 1), x[1], x[2]);
  Generator g(5);
  sum(mul(out, Tensor::randn(out.shape(), g, DType::F64))).backward();
  std::vector<Tensor> r{out.detach()};
  for (const Tensor& t : x) r.push_back(t.grad());
  return r;
}

}  // namespace

TEST_CASE("rnn cells: one element of each by hand", "[fused][rnn_cells]") {
  // relu(0.3 - 0.5) = 0, relu(0.3 + 0.5) = 0.8, tanh(0.8) = 0.6640367702678491
  CHECK(rnn_cell(vec({0.3, 0.3}), vec({-0.5, 0.5}), true).to_vector<double>() == std::vector<double>{0.0, 0.8});
  CHECK(rnn_cell(vec({0.3}), vec({0.5}), false).item() == Approx(0.6640367702678491).margin(1e-15));
  // LSTM, H = 1: gates x = (0.1, 0.2, 0.3, 0.4), hh = (-0.5, 0.6, -0.7, 0.8), c = 0.9
  Tensor hc = lstm_cell(vec({0.1, 0.2, 0.3, 0.4}), vec({-0.5, 0.6, -0.7, 0.8}), vec({0.9}));
  REQUIRE(hc.shape() == Shape({2, 1, 1}));
  CHECK(hc.to_vector<double>()[0] == Approx(0.33583426108106124).margin(1e-15));
  CHECK(hc.to_vector<double>()[1] == Approx(0.4684988259343613).margin(1e-15));
  // GRU, H = 1: x = (0.1, -0.2, 0.3), hh = (0.4, 0.5, -0.6), h = 0.7
  CHECK(gru_cell(vec({0.1, -0.2, 0.3}), vec({0.4, 0.5, -0.6}), vec({0.7})).item() ==
        Approx(0.3708978182901637).margin(1e-15));
}

TEST_CASE("rnn cells match the unfused compositions, forward and every gradient (f64)", "[fused][rnn_cells]") {
  const int64_t B = 5, H = 7;
  Generator g(21);
  auto rn = [&](const Shape& s) { return Tensor::randn(s, g, DType::F64); };
  struct Case {
    const char* name;
    int64_t gates;
    std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> fused, unfused;
  };
  const Case cases[] = {
      {"relu", 1, [](const Tensor& x, const Tensor& p, const Tensor&) { return rnn_cell(x, p, true); },
       [](const Tensor& x, const Tensor& p, const Tensor& s) { return add(relu(add(x, p)), mul_scalar(s, 0)); }},
      {"tanh", 1, [](const Tensor& x, const Tensor& p, const Tensor&) { return rnn_cell(x, p, false); },
       [](const Tensor& x, const Tensor& p, const Tensor& s) { return add(tanh(add(x, p)), mul_scalar(s, 0)); }},
      {"lstm", 4, [](const Tensor& x, const Tensor& p, const Tensor& c) { return lstm_cell(x, p, c); },
       [H](const Tensor& x, const Tensor& p, const Tensor& c) { return lstm_unfused(x, p, c, H); }},
      {"gru", 3, [](const Tensor& x, const Tensor& p, const Tensor& h) { return gru_cell(x, p, h); },
       [H](const Tensor& x, const Tensor& p, const Tensor& h) { return gru_unfused(x, p, h, H); }},
  };
  for (const Case& c : cases) {
    const std::vector<Tensor> in = {rn({B, c.gates * H}), rn({B, c.gates * H}), rn({B, H})};
    const std::vector<Tensor> f = run(in, c.fused), u = run(in, c.unfused);
    for (size_t k = 0; k < f.size(); ++k) {
      INFO(c.name << (k == 0 ? " output" : " gradient of input ") << k);
      if (c.gates == 1 && k == 3) continue;  // the plain cell has no state input
      CHECK(max_abs_diff(f[k], u[k]) < 1e-13);
    }
  }
}

TEST_CASE("rnn cells reject mismatched shapes with messages naming them", "[fused][rnn_cells]") {
  Tensor x4 = Tensor::zeros({2, 16}), c = Tensor::zeros({2, 4});
  CHECK_THROWS_WITH(lstm_cell(x4, Tensor::zeros({2, 12}), c), Catch::Contains("xproj and hproj must be [2, 16]"));
  CHECK_THROWS_WITH(gru_cell(x4, x4, c), Catch::Contains("must be [2, 12]"));
  CHECK_THROWS_WITH(rnn_cell(c, Tensor::zeros({3, 4}), true), Catch::Contains("same [B, H]"));
  CHECK_THROWS_WITH(lstm_cell(x4, x4, Tensor::zeros({2, 4}, DType::F64)), Catch::Contains("lstm_cell"));
}
