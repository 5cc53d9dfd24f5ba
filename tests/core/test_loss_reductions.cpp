// Reduction::None / Sum / Mean of cross_entropy and the fused linear_cross_entropy in f32: the
// three agree with each other and with the unfused cross_entropy(linear(...)), in values and
// gradients, over several row blocks with padding rows; a sentence's -log p from the per-token
// losses; gather's values and errors. (The f64 gradient checks are the op-table rows.)
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "support/compare.h"

using namespace mrnn;
using mrnn::testing::max_abs_diff;

namespace {

struct Problem {
  Tensor x, w, b, t;
  int64_t real = 0;
};

Problem make(int64_t n, int64_t h, int64_t v, uint64_t seed) {
  Generator g(seed);
  Problem p;
  p.x = (Tensor::randn({n, h}, g) * 0.5).requires_grad_();
  p.w = (Tensor::randn({v, h}, g) * 0.3).requires_grad_();
  p.b = (Tensor::randn({v}, g) * 0.1).requires_grad_();
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = 1 + static_cast<int64_t>(g.randint(static_cast<uint64_t>(v - 1)));
  for (int64_t i = 0; i < n; i += 5) ids[i] = 0;  // padding rows
  for (int64_t id : ids) p.real += id != 0;
  p.t = Tensor::from_vector(ids, {n});
  return p;
}

struct Result {
  Tensor value, gx, gw, gb;
};

// loss(p) reduced to a scalar by `finish`, then backward; the gradients of the three leaves.
template <typename F, typename G>
Result run(Problem& p, F loss, G finish) {
  p.x.zero_grad();
  p.w.zero_grad();
  p.b.zero_grad();
  Tensor v = loss(p);
  finish(v).backward();
  return {v.detach(), p.x.grad().clone(), p.w.grad().clone(), p.b.grad().clone()};
}

void check_close(const Result& a, const Result& b, double scale_b, double tol) {
  CHECK(max_abs_diff(a.gx, b.gx * scale_b) < tol);
  CHECK(max_abs_diff(a.gw, b.gw * scale_b) < tol);
  CHECK(max_abs_diff(a.gb, b.gb * scale_b) < tol);
}

Tensor identity(const Tensor& t) { return t; }

}  // namespace

TEST_CASE("linear_cross_entropy: None, Sum and Mean agree with each other and with cross_entropy(linear)",
          "[fused][reduction]") {
  const int64_t chunk = GENERATE(0, 7, 64);
  INFO("chunk_rows " << chunk);
  Problem p = make(150, 24, 90, 3);
  const double count = static_cast<double>(p.real);
  // Weighted sum of the row losses: a non-uniform upstream gradient for None.
  Generator g(17);
  const Tensor weights = Tensor::rand({150}, g, DType::F32, 0.5, 2.0);
  auto weighted = [&](const Tensor& rows) { return sum(mul(rows, weights)); };

  const Result none = run(p, [&](Problem& q) { return linear_cross_entropy(q.x, q.w, q.b, q.t, 0, chunk, Reduction::None); },
                          weighted);
  const Result none_ref = run(
      p, [&](Problem& q) { return cross_entropy(linear(q.x, q.w, q.b), q.t, 0, Reduction::None); }, weighted);
  REQUIRE(none.value.shape() == Shape{150});
  CHECK(max_abs_diff(none.value, none_ref.value) < 1e-5);
  check_close(none, none_ref, 1.0, 2e-5);
  const std::vector<float> rows = none.value.to_vector<float>();
  for (int64_t i = 0; i < 150; i += 5) CHECK(rows[static_cast<size_t>(i)] == 0.0f);  // ignored rows

  const Result sum_f = run(p, [&](Problem& q) { return linear_cross_entropy(q.x, q.w, q.b, q.t, 0, chunk, Reduction::Sum); },
                           identity);
  const Result sum_ref = run(p, [&](Problem& q) { return cross_entropy(linear(q.x, q.w, q.b), q.t, 0, Reduction::Sum); },
                             identity);
  const Result sum_rows = run(
      p, [&](Problem& q) { return linear_cross_entropy(q.x, q.w, q.b, q.t, 0, chunk, Reduction::None); },
      [](const Tensor& r) { return sum(r); });
  CHECK(sum_f.value.item() == Approx(sum_ref.value.item()).epsilon(1e-5));
  CHECK(sum_f.value.item() == Approx(sum(none.value).item()).epsilon(1e-5));
  check_close(sum_f, sum_ref, 1.0, 2e-5);
  check_close(sum_f, sum_rows, 1.0, 2e-5);

  const Result mean_f = run(p, [&](Problem& q) { return linear_cross_entropy(q.x, q.w, q.b, q.t, 0, chunk); }, identity);
  const Result mean_explicit = run(
      p, [&](Problem& q) { return linear_cross_entropy(q.x, q.w, q.b, q.t, 0, chunk, Reduction::Mean); }, identity);
  CHECK(mean_f.value.item() == mean_explicit.value.item());  // Mean is the default: the same code path
  CHECK(max_abs_diff(mean_f.gx, mean_explicit.gx) == 0.0);
  CHECK(mean_f.value.item() == Approx(sum_f.value.item() / count).epsilon(1e-5));
  check_close(mean_f, sum_f, 1.0 / count, 1e-6);
}

TEST_CASE("cross_entropy: None, Sum and Mean agree, and the gradient of None takes one value per row", "[reduction]") {
  Generator g(5);
  Tensor logits = Tensor::randn({40, 11}, g).requires_grad_();
  std::vector<int64_t> ids(40);
  for (int64_t i = 0; i < 40; ++i) ids[i] = i % 4 == 0 ? -100 : static_cast<int64_t>(g.randint(11));
  Tensor t = Tensor::from_vector(ids, {40});
  Tensor rows = cross_entropy(logits, t, -100, Reduction::None);
  Tensor total = cross_entropy(logits.detach(), t, -100, Reduction::Sum);
  Tensor mean_v = cross_entropy(logits.detach(), t);
  CHECK(sum(rows).item() == Approx(total.item()).epsilon(1e-6));
  CHECK(mean_v.item() == Approx(total.item() / 30.0).epsilon(1e-6));
  // Row i's loss by hand: logsumexp - logit[target].
  const std::vector<float> lv = logits.detach().to_vector<float>(), rv = rows.to_vector<float>();
  for (int64_t i = 0; i < 40; ++i) {
    if (ids[i] == -100) {
      CHECK(rv[i] == 0.0f);
      continue;
    }
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < 11; ++j) m = std::max(m, static_cast<double>(lv[i * 11 + j]));
    for (int64_t j = 0; j < 11; ++j) s += std::exp(lv[i * 11 + j] - m);
    CHECK(rv[i] == Approx(m + std::log(s) - lv[i * 11 + ids[i]]).epsilon(1e-5));
  }
  // Backward with a one-hot upstream gradient gives that row's gradient only.
  Tensor seed = Tensor::zeros({40});
  seed.data<float>()[1] = 2.0f;
  rows.backward(seed);
  const std::vector<float> gl = logits.grad().to_vector<float>();
  double row1 = 0, others = 0;
  for (int64_t j = 0; j < 11 * 40; ++j) (j / 11 == 1 ? row1 : others) += std::fabs(gl[j]);
  CHECK(row1 > 0.1);
  CHECK(others == 0.0);
}

TEST_CASE("sequence NLL: per-token losses reshaped to B x T and summed over time give -log p(S) per sequence",
          "[fused][reduction]") {
  // B = 3 sequences of T = 4 tokens, padding (target 0) at the end of sequences 0 and 2.
  Problem p = make(12, 8, 10, 9);
  std::vector<int64_t> ids = {3, 4, 0, 0, 5, 6, 7, 8, 9, 0, 0, 0};
  p.t = Tensor::from_vector(ids, {12});
  Tensor tok = linear_cross_entropy(p.x, p.w, p.b, p.t, 0, 5, Reduction::None);
  Tensor nll = sum(reshape(tok, {3, 4}), {1});  // [B]: -log p(S), padding contributes 0
  REQUIRE(nll.shape() == Shape{3});
  const std::vector<float> tv = tok.detach().to_vector<float>(), nv = nll.detach().to_vector<float>();
  CHECK(nv[0] == Approx(tv[0] + tv[1]).epsilon(1e-6));
  CHECK(nv[2] == Approx(tv[8]).epsilon(1e-6));
  sum(nll).backward();
  const std::vector<float> gx = p.x.grad().to_vector<float>();
  for (int64_t k = 0; k < 8; ++k) CHECK(gx[2 * 8 + k] == 0.0f);  // a padding row gets no gradient
}

TEST_CASE("gather: PyTorch semantics by hand, i32 and i64 indices, clear errors", "[reduction][gather]") {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor i1 = Tensor::from_vector(std::vector<int64_t>{2, 0, 1, 1}, {2, 2});
  CHECK(gather(x, 1, i1).to_vector<float>() == std::vector<float>{3, 1, 5, 5});
  Tensor i0 = Tensor::from_vector(std::vector<int32_t>{1, 0, 1}, {1, 3});
  CHECK(gather(x, 0, i0).to_vector<float>() == std::vector<float>{4, 2, 6});
  CHECK(gather(transpose(x, 0, 1), 0, Tensor::from_vector(std::vector<int64_t>{1, 2}, {1, 2})).to_vector<float>() ==
        std::vector<float>{2, 6});
  Tensor xg = x.detach().clone().requires_grad_();
  sum(gather(xg, 1, i1)).backward();  // repeated index 1 in row 1: the gradients add up
  CHECK(xg.grad().to_vector<float>() == std::vector<float>{1, 0, 1, 0, 2, 0});
  CHECK_THROWS_WITH(gather(x, 1, Tensor::from_vector(std::vector<int64_t>{0, 3}, {1, 2})),
                    Catch::Contains("index 3 at flat position 1 is outside [0, 3)"));
  CHECK_THROWS_WITH(gather(x, 1, Tensor::from_vector(std::vector<int64_t>{0, 1}, {2})),
                    Catch::Contains("index must have x's rank"));
  CHECK_THROWS_WITH(gather(x, 1, Tensor::from_vector(std::vector<int64_t>{0, 1, 0}, {3, 1})),
                    Catch::Contains("larger than x"));
  CHECK_THROWS_WITH(gather(x, 0, Tensor::from_vector(std::vector<float>{0}, {1, 1})), Catch::Contains("i64 or i32"));
}
