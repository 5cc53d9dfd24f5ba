// The public gradient checker (kernels/gradcheck.h) as a user meets it: it passes a correct
// gradient, FAILS a wrong one and says where, skips kinks, leaves inputs as they were, and refuses
// f32 or non-leaf inputs with a reason.
#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "kernels/gradcheck.h"
#include "kernels/ops.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

// x^3 with a deliberately wrong backward (2x instead of 3x^2) when `wrong`.
Tensor cube(const Tensor& x, bool wrong) {
  Tensor out;
  {
    NoGradGuard ng;
    out = mul(mul(x, x), x);
  }
  if (needs_grad({&x})) {
    Tensor xs = x.detach();
    attach_grad(out, "cube", {x}, [xs, wrong](const Tensor& g) {
      Tensor d = wrong ? mul_scalar(xs, 2.0) : mul_scalar(square(xs), 3.0);
      return std::vector<Tensor>{mul(g, d)};
    });
  }
  return out;
}

}  // namespace

TEST_CASE("gradcheck passes a right gradient and fails a wrong one, naming the element", "[gradcheck]") {
  Generator g(1);
  Tensor x = Tensor::randn({2, 3}, g, DType::F64);
  x.requires_grad_(true);
  std::vector<double> before = x.to_vector<double>();
  GradcheckResult good = gradcheck([](const std::vector<Tensor>& in) { return cube(in[0], false); }, {x});
  CHECK(good.ok);
  CHECK(good.checked == 6);
  CHECK(good.max_rel_error < 1e-7);
  GradcheckResult bad = gradcheck([](const std::vector<Tensor>& in) { return cube(in[0], true); }, {x});
  CHECK_FALSE(bad.ok);
  CHECK_THAT(bad.message, Contains("input 0 element") && Contains("analytic"));
  CHECK(x.to_vector<double>() == before);  // perturbations undone
}

TEST_CASE("gradcheck: non-contiguous leaves, constant inputs, kinks", "[gradcheck]") {
  Generator g(2);
  Tensor base = Tensor::randn({4, 3}, g, DType::F64);
  Tensor xt = transpose(base, 0, 1).detach();  // a strided leaf
  xt.requires_grad_(true);
  Tensor c = Tensor::randn({3, 4}, g, DType::F64);  // no grad: passed through
  GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return tanh(mul(in[0], in[1])); }, {xt, c});
  CHECK(r.ok);
  CHECK(r.checked == 12);
  Tensor k = Tensor::from_vector(std::vector<double>{0.0, 1.0, -1.0});
  k.requires_grad_(true);
  GradcheckResult kink = gradcheck([](const std::vector<Tensor>& in) { return relu(in[0]); }, {k});
  CHECK(kink.ok);
  CHECK(kink.skipped_kinks == 1);  // relu at exactly 0
  CHECK(kink.checked == 2);
}

TEST_CASE("gradcheck refuses what it cannot check, saying why", "[gradcheck]") {
  Generator g(3);
  Tensor f = Tensor::randn({2}, g);
  f.requires_grad_(true);
  CHECK_THROWS_WITH(gradcheck([](const std::vector<Tensor>& in) { return in[0]; }, {f}), Contains("need f64"));
  Tensor d = Tensor::randn({2}, g, DType::F64);
  d.requires_grad_(true);
  Tensor nonleaf = mul_scalar(d, 2.0);
  CHECK_THROWS_WITH(gradcheck([](const std::vector<Tensor>& in) { return in[0]; }, {nonleaf}), Contains("not a leaf"));
  GradcheckOptions o;
  o.eps = 0;
  CHECK_THROWS_WITH(gradcheck([](const std::vector<Tensor>& in) { return in[0]; }, {d}, o), Contains("eps"));
}
