// Autograd graph behaviour: shared sub-expressions, accumulation, no-grad, freed graphs.
#include <catch2/catch.hpp>

#include "kernels/ops.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {
Tensor leaf(std::vector<double> v) { return Tensor::from_vector(v).requires_grad_(); }
std::vector<double> gv(const Tensor& t) { return t.grad().to_vector<double>(); }
}  // namespace

TEST_CASE("shared sub-expressions accumulate gradients", "[autograd]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = mul(x, x);           // x used twice in one op
  Tensor z = add(y, mul(y, x));   // y used twice across ops: z = x^2 + x^3
  sum(z).backward();
  CHECK(gv(x) == std::vector<double>{2 + 3, 4 + 12, 6 + 27});
}

TEST_CASE("gradients accumulate across backward calls until zero_grad", "[autograd]") {
  Tensor x = leaf({1, 2});
  sum(mul_scalar(x, 3)).backward();
  sum(mul_scalar(x, 3)).backward();
  CHECK(gv(x) == std::vector<double>{6, 6});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  sum(x).backward();
  CHECK(gv(x) == std::vector<double>{1, 1});
}

TEST_CASE("backward with a seed gradient and on non-scalars", "[autograd]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = mul_scalar(x, 2);
  CHECK_THROWS_WITH(y.backward(), Contains("one-element output"));
  y.backward(Tensor::from_vector(std::vector<double>{1, 10, 100}));
  CHECK(gv(x) == std::vector<double>{2, 20, 200});
}

TEST_CASE("NoGradGuard records nothing", "[autograd]") {
  Tensor x = leaf({1, 2});
  Tensor y;
  {
    NoGradGuard ng;
    CHECK_FALSE(grad_enabled());
    y = mul(x, x);
  }
  CHECK(grad_enabled());
  CHECK_FALSE(y.requires_grad());
  CHECK(y.is_leaf());
  CHECK_THROWS_WITH(y.backward(), Contains("does not require grad"));
}

TEST_CASE("the graph is freed after backward, a second backward is a clear error", "[autograd]") {
  Tensor x = leaf({1, 2});
  Tensor y = sum(tanh(x));
  y.backward();
  CHECK_THROWS_WITH(y.backward(), Contains("backward through the graph a second time"));
  Tensor z = sum(tanh(x));
  z.backward(Tensor(), /*retain_graph=*/true);
  z.backward();
  CHECK(x.grad().to_vector<double>()[0] == Approx(3 * (1 - std::tanh(1.0) * std::tanh(1.0))));
}

TEST_CASE("only tensors that require grad get gradients, detach cuts the graph", "[autograd]") {
  Tensor x = leaf({1, 2});
  Tensor c = Tensor::from_vector(std::vector<double>{3, 4});
  sum(mul(x, c)).backward();
  CHECK(gv(x) == std::vector<double>{3, 4});
  CHECK_FALSE(c.grad().defined());
  Tensor d = mul(x, x).detach();
  CHECK_FALSE(d.requires_grad());
  CHECK_THROWS_WITH(Tensor::arange(3).requires_grad_(), Contains("only floating-point"));
}

TEST_CASE("in-place changes of tensors that require grad are refused outside NoGradGuard", "[autograd]") {
  Tensor x = leaf({1, 2});
  CHECK_THROWS_WITH(x.fill_(0), Contains("NoGradGuard"));
  NoGradGuard ng;
  x.fill_(0);
  CHECK(x.to_vector<double>() == std::vector<double>{0, 0});
}

TEST_CASE("gradients flow through views into the base leaf", "[autograd]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = add(sum(mul_scalar(narrow(x, 1, 0, 2), 2)), sum(select(reshape(transpose(x, 0, 0), {3, 2}), 1, 0)));
  y.backward();
  // narrow: columns 0 and 1 get 2 each; select(reshape) picks the flat elements 0, 2 and 4.
  CHECK(gv(x) == std::vector<double>{2 + 1, 2, 0 + 1, 2, 2 + 1, 0});
}
