// Autograd graph behaviour: shared sub-expressions, accumulation, no-grad, freed graphs.
#include <catch2/catch.hpp>

#include "core/allocator.h"
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

// ---- slicing views accumulate in place (O(T) recurrent backward) ----

TEST_CASE("select/narrow gradients sum every contribution, in slices and whole", "[autograd]") {
  // Integer-valued weights: every sum is exact, so the expected values are exact whatever the order.
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_();
  Tensor base = mul_scalar(x, 1);  // a non-leaf base: the engine's own buffer
  Tensor w0 = Tensor::from_vector(std::vector<double>{1, 2}), w1 = Tensor::from_vector(std::vector<double>{3, 4});
  Tensor loss = add(sum(mul(select(base, 0, 0), w0)), sum(mul(select(base, 0, 0), w1)));  // same row twice
  loss = add(loss, sum(mul_scalar(narrow(base, 0, 1, 2), 10)));                              // rows 1, 2
  loss = add(loss, sum(mul_scalar(narrow(base, 1, 1, 1), 100)));                             // column 1
  loss = add(loss, sum(mul_scalar(base, 1000)));                                             // whole
  loss = add(loss, sum(mul_scalar(select(x, 0, 2), 7)));                                     // leaf slice
  loss.backward();
  CHECK(gv(x) == std::vector<double>{1000 + 4, 1000 + 6 + 100, 1000 + 10, 1000 + 10 + 100, 1000 + 10 + 7,
                                     1000 + 10 + 100 + 7});
  // A leaf's .grad keeps accumulating across backward() calls, slices included.
  sum(mul_scalar(select(x, 0, 1), 2)).backward();
  CHECK(gv(x) == std::vector<double>{1004, 1106, 1012, 1112, 1017, 1117});
  // A leaf that only gets a slice: zeros elsewhere.
  Tensor y = Tensor::from_vector(std::vector<double>{1, 2, 3}).requires_grad_();
  sum(mul_scalar(narrow(y, 0, 1, 1), 5)).backward();
  CHECK(gv(y) == std::vector<double>{0, 5, 0});
}

TEST_CASE("a view's gradient equals its node's own backward, and retain_graph replays it", "[autograd]") {
  Generator gen(3);
  Tensor x = Tensor::randn({4, 3, 5}, gen, DType::F64).requires_grad_();
  Tensor w = Tensor::randn({3, 2}, gen, DType::F64);
  Tensor v = narrow(select(x, 2, 1), 0, 1, 2);  // [2, 3]
  Tensor loss = sum(matmul(v, w));
  Tensor g = Tensor::randn({2, 3}, gen, DType::F64);
  std::vector<double> reference;
  {
    NoGradGuard ng;  // the old path: each node's backward builds the full-size zero tensor
    Tensor g1 = v.grad_fn()->backward(g)[0];
    reference = v.grad_fn()->inputs[0].grad_fn()->backward(g1)[0].to_vector<double>();
  }
  v.backward(g, /*retain_graph=*/true);
  CHECK(gv(x) == reference);
  v.backward(g);
  std::vector<double> twice = reference;
  for (double& r : twice) r += r;
  CHECK(gv(x) == twice);
  CHECK_THROWS_WITH(v.backward(g), Contains("second time"));
}

TEST_CASE("gradient buffers never alias the seed, an input or a leaf's .grad", "[autograd]") {
  Tensor x = leaf({1, 2, 3});
  Tensor seed = Tensor::from_vector(std::vector<double>{1, 10, 100});
  Tensor z = mul_scalar(x, 1);
  Tensor y = add(add(z, z), z.clone());  // z's first gradients are the seed itself (add, clone pass g on)
  y.backward(seed);
  CHECK(seed.to_vector<double>() == std::vector<double>{1, 10, 100});
  CHECK(gv(x) == std::vector<double>{3, 30, 300});
  CHECK_FALSE(x.grad().shares_storage(seed));
  // A leaf whose only gradient is the seed gets its own copy, and later calls add into that copy.
  Tensor a = leaf({1, 2, 3});
  a.clone().backward(seed);
  a.clone().backward(seed);
  CHECK(gv(a) == std::vector<double>{2, 20, 200});
  CHECK(seed.to_vector<double>() == std::vector<double>{1, 10, 100});
}

TEST_CASE("a T-step recurrence over select allocates O(T) in backward, not O(T^2)", "[autograd]") {
  // h_t = tanh(xp[t] + h_{t-1} W): before the in-place slices each step's select built a full
  // [T, B, H] zero tensor and the sum was rebuilt out of place, so bytes grew with T^2.
  auto backward_bytes = [](int64_t T) {
    const int64_t B = 4, H = 16;
    Generator gen(5);
    Tensor xp = mul_scalar(Tensor::randn({T, B, H}, gen).requires_grad_(), 1);
    Tensor w = Tensor::randn({H, H}, gen, DType::F32, 0, 0.1).requires_grad_();
    Tensor h = Tensor::zeros({B, H});
    for (int64_t t = 0; t < T; ++t) h = tanh(add(select(xp, 0, t), matmul(h, w)));
    Tensor loss = sum(h);
    const uint64_t before = cpu_allocator::stats().bytes_requested;
    loss.backward();
    return static_cast<double>(cpu_allocator::stats().bytes_requested - before);
  };
  const double b32 = backward_bytes(32), b128 = backward_bytes(128);
  INFO("backward bytes: T=32 " << b32 << ", T=128 " << b128);
  CHECK(b128 < 5.0 * b32);  // linear: ~4x; quadratic: ~16x
}
