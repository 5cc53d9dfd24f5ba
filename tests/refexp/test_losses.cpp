// The speaker's objectives (models/refexp/losses.h): ML, MMI-SoftMax (with and without padding
// candidates) and MMI-MM against hand computation on tiny tensors, their f64 gradients by finite
// differences, and the refusals.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "kernels/gradcheck.h"
#include "kernels/ops.h"
#include "models/refexp/losses.h"

using namespace mrnn;

namespace {

Tensor f64(std::vector<double> v, Shape s) { return Tensor::from_vector(v, s); }
Tensor i64(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::from_vector(v, {n});
}
double item(const Tensor& t) { return t.to(DType::F64).contiguous().to_vector<double>().at(0); }

}  // namespace

TEST_CASE("refexp losses: ML is -mean log p", "[refexp]") {
  CHECK(item(ml_loss(f64({-1, -3}, {2}))) == Approx(2.0));
  CHECK_THROWS_AS(ml_loss(f64({-1, -3}, {1, 2})), Error);
}

TEST_CASE("refexp losses: MMI-SoftMax by hand, with and without padding candidates", "[refexp]") {
  Tensor lp = f64({-1, -2, -3, -4, -2, -5}, {2, 3});
  const double r0 = -1 - std::log(std::exp(-1.0) + std::exp(-2.0) + std::exp(-3.0));
  const double r1 = -5 - std::log(std::exp(-4.0) + std::exp(-2.0) + std::exp(-5.0));
  CHECK(item(mmi_softmax_loss(lp, i64({0, 2}))) == Approx(-(r0 + r1) / 2).epsilon(1e-12));
  // Row 1's first candidate is padding: it leaves the log-sum-exp.
  Tensor mask = f64({1, 1, 1, 0, 1, 1}, {2, 3});
  const double m1 = -5 - std::log(std::exp(-2.0) + std::exp(-5.0));
  CHECK(item(mmi_softmax_loss(lp, i64({0, 2}), mask)) == Approx(-(r0 + m1) / 2).epsilon(1e-12));
  // One candidate (the true region alone): nothing to discriminate against, loss 0.
  CHECK(item(mmi_softmax_loss(f64({-7, -3}, {2, 1}), i64({0, 0}))) == Approx(0.0).margin(1e-12));
  // Very negative log-probs (long sentences) stay finite: the log-sum-exp is stabilised.
  Tensor low = f64({-1000, -1001}, {1, 2});
  CHECK(item(mmi_softmax_loss(low, i64({0}))) == Approx(std::log1p(std::exp(-1.0))).epsilon(1e-12));
}

TEST_CASE("refexp losses: MMI-MM by hand", "[refexp]") {
  // Row 0: hinge max(0, 1 - (-1) + (-3)) = 0, term -1. Row 1: hinge 1 + 5 - 2 = 4, term -5 - 0.5*4 = -7.
  Tensor t = f64({-1, -5}, {2}), n = f64({-3, -2}, {2});
  CHECK(item(mmi_mm_loss(t, n, 1.0, 0.5)) == Approx(4.0).epsilon(1e-12));
  CHECK(item(mmi_mm_loss(t, n, 1.0, 0.0)) == Approx(3.0).epsilon(1e-12));  // lambda 0: ML
  CHECK(item(mmi_mm_loss(t, n, 0.0, 1.0)) == Approx((1 + 5 + 3) / 2.0).epsilon(1e-12));
}

TEST_CASE("refexp losses: f64 finite-difference gradients", "[refexp]") {
  Generator g(5);
  GradcheckOptions o;
  o.rtol = 1e-6;
  {
    Tensor lp = Tensor::randn({3, 4}, g, DType::F64).requires_grad_(true);
    Tensor idx = i64({0, 3, 1});
    GradcheckResult r = gradcheck([&](const std::vector<Tensor>& x) { return mmi_softmax_loss(x[0], idx); }, {lp}, o);
    INFO(r.message);
    CHECK(r.ok);
    CHECK(r.checked == 12);
  }
  {
    Tensor lp = Tensor::randn({3, 4}, g, DType::F64).requires_grad_(true);
    Tensor idx = i64({0, 3, 1});
    Tensor mask = f64({1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0}, {3, 4});
    GradcheckResult r =
        gradcheck([&](const std::vector<Tensor>& x) { return mmi_softmax_loss(x[0], idx, mask); }, {lp}, o);
    INFO(r.message);
    CHECK(r.ok);
    // The padding columns get exactly zero gradient.
    lp.zero_grad();
    mmi_softmax_loss(lp, idx, mask).backward();
    const auto gr = lp.grad().contiguous().to_vector<double>();
    CHECK(gr[2] == 0.0);
    CHECK(gr[4] == 0.0);
    CHECK(gr[11] == 0.0);
    CHECK(gr[0] != 0.0);
  }
  {
    // Values spread so that some rows are inside the margin (hinge active) and some outside.
    Tensor t = f64({-1.0, -2.5, -4.0, -0.5}, {4}).requires_grad_(true);
    Tensor n = f64({-3.2, -2.0, -1.0, -0.9}, {4}).requires_grad_(true);
    GradcheckResult r =
        gradcheck([&](const std::vector<Tensor>& x) { return mmi_mm_loss(x[0], x[1], 1.0, 0.7); }, {t, n}, o);
    INFO(r.message);
    CHECK(r.ok);
    CHECK(r.checked == 8);
    // Row 0 is outside the margin (-1 - (-3.2) = 2.2 > 1): its negative gets no gradient.
    t.zero_grad();
    n.zero_grad();
    mmi_mm_loss(t, n, 1.0, 0.7).backward();
    const auto gn = n.grad().contiguous().to_vector<double>();
    CHECK(gn[0] == 0.0);
    CHECK(gn[1] == Approx(0.7 / 4));  // d/dn of -mean(t - 0.7 (1 - t + n)) over 4 rows
  }
}

TEST_CASE("refexp losses: bad inputs are refused by name", "[refexp]") {
  Tensor lp = f64({-1, -2, -3, -4}, {2, 2});
  CHECK_THROWS_WITH(mmi_softmax_loss(lp, i64({0, 2})), Catch::Contains("true_index[1] = 2 is outside [0, 2)"));
  CHECK_THROWS_WITH(mmi_softmax_loss(lp, i64({0})), Catch::Contains("true_index must be i64 [2]"));
  CHECK_THROWS_WITH(mmi_softmax_loss(lp, i64({0, 1}), f64({1, 1, 1, 0}, {2, 2})),
                    Catch::Contains("row 1's true region (column 1) is masked out"));
  CHECK_THROWS_WITH(mmi_mm_loss(f64({-1}, {1}), f64({-1, -2}, {2}), 1, 1), Catch::Contains("must both be [B >= 1]"));
  CHECK_THROWS_WITH(mmi_mm_loss(f64({-1}, {1}), f64({-2}, {1}), -1, 1), Catch::Contains("margin must be"));
  CHECK_THROWS_WITH(mmi_mm_loss(f64({-1}, {1}), f64({-2}, {1}), 1, NAN), Catch::Contains("lambda must be"));
}
