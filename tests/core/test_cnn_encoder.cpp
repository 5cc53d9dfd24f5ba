// The CNN encoder's pooling heads (layers/cnn_encoder.h): the max head is the per-channel maximum
// of the last block's map fed to the linear layer (checked against a host loop over the module's
// own parameters), it is translation-invariant where flatten is not, and both heads pass the f64
// finite-difference check of the public gradient checker.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "kernels/gradcheck.h"
#include "kernels/ops.h"
#include "layers/cnn_encoder.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

std::map<std::string, Tensor> params_of(const Module& m) {
  std::map<std::string, Tensor> p;
  for (auto& [name, t] : m.named_parameters()) p[name] = t;
  return p;
}

// A black (0) image holding one 8x8 patch, its values varying by channel and row, at (y, x). Zero
// background, zero padding and the zero-initialised conv biases make the conv stack exactly
// shift-equivariant while the patch's response stays inside the image.
Tensor patch_image(int64_t size, int64_t y, int64_t x) {
  std::vector<float> v(static_cast<size_t>(3 * size * size), 0.f);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t j = 0; j < 8; ++j) v[static_cast<size_t>((c * size + y + i) * size + x + j)] = 0.5f + 0.4f * c - 0.05f * i;
  return Tensor::from_vector(v, {1, 3, size, size});
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  REQUIRE(x.size() == y.size());
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::fabs(static_cast<double>(x[i]) - y[i]));
  return d;
}

}  // namespace

TEST_CASE("cnn encoder: pooling names parse both ways and an unknown one is refused naming it", "[cnn]") {
  CHECK(parse_cnn_pool("max") == CnnPool::Max);
  CHECK(parse_cnn_pool("flatten") == CnnPool::Flatten);
  CHECK(std::string(cnn_pool_name(CnnPool::Max)) == "max");
  CHECK(std::string(cnn_pool_name(CnnPool::Flatten)) == "flatten");
  CHECK_THROWS_WITH(parse_cnn_pool("avg"), Contains("'avg'") && Contains("flatten or max"));
}

TEST_CASE("cnn encoder: the max head feeds each channel's maximum over positions to the linear layer", "[cnn]") {
  Generator gen(7);
  CnnEncoder enc(16, {4, 6}, 5, gen, CnnPool::Max);
  std::map<std::string, Tensor> p = params_of(enc);
  REQUIRE(p.at("fc.weight").size(1) == 6);  // C inputs, not C * 4 * 4
  Tensor x = Tensor::randn({3, 3, 16, 16}, gen);

  // The blocks with the module's own weights, then the head as a host loop.
  Tensor h = x;
  for (int b = 1; b <= 2; ++b) {
    const std::string k = "conv" + std::to_string(b);
    h = max_pool2d(relu(conv2d(h, p.at(k + ".weight"), p.at(k + ".bias"), 1, 1)), 2, 2);
  }
  REQUIRE(h.size(2) == 4);
  std::vector<float> hv = h.to_vector<float>(), w = p.at("fc.weight").to_vector<float>(),
                     bias = p.at("fc.bias").to_vector<float>();
  std::vector<float> want(3 * 5);
  for (int n = 0; n < 3; ++n) {
    std::vector<double> m(6, -INFINITY);
    for (int c = 0; c < 6; ++c)
      for (int i = 0; i < 16; ++i) m[c] = std::max(m[c], static_cast<double>(hv[(n * 6 + c) * 16 + i]));
    for (int o = 0; o < 5; ++o) {
      double s = bias[o];
      for (int c = 0; c < 6; ++c) s += static_cast<double>(w[o * 6 + c]) * m[c];
      want[n * 5 + o] = static_cast<float>(s);
    }
  }
  Tensor got = enc.pre_activation(x);
  REQUIRE(got.shape() == Shape{3, 5});
  CHECK(max_abs_diff(got, Tensor::from_vector(want, {3, 5})) < 1e-5);
  CHECK(max_abs_diff(enc.forward(x), relu(got)) == 0);
}

TEST_CASE("cnn encoder: a patch moved by a multiple of the total stride gives the same max feature, not flatten", "[cnn]") {
  Generator g1(3), g2(3);
  CnnEncoder with_max(48, {8, 8, 8}, 6, g1, CnnPool::Max);
  CnnEncoder with_flatten(48, {8, 8, 8}, 6, g2, CnnPool::Flatten);
  // The total stride is 8; the response of the patch reaches about 8 pixels beyond it.
  Tensor a = patch_image(48, 8, 8), b = patch_image(48, 8 + 16, 8 + 8);
  const double moved_max = max_abs_diff(with_max.pre_activation(a), with_max.pre_activation(b));
  const double moved_flat = max_abs_diff(with_flatten.pre_activation(a), with_flatten.pre_activation(b));
  CHECK(moved_max < 1e-5);
  CHECK(moved_flat > 1e-2);  // the flatten head sees where the patch is
  // ... and the max head still sees the patch itself: an image without it differs.
  CHECK(max_abs_diff(with_max.pre_activation(a), with_max.pre_activation(Tensor::zeros({1, 3, 48, 48}))) > 1e-3);
}

TEST_CASE("cnn encoder: both heads' parameter and input gradients pass the f64 finite-difference check", "[cnn]") {
  for (CnnPool pool : {CnnPool::Max, CnnPool::Flatten}) {
    INFO(cnn_pool_name(pool));
    Generator gen(11);
    CnnEncoder enc(8, {3, 4}, 3, gen, pool);
    enc.to(DType::F64);
    Tensor x = Tensor::randn({2, 3, 8, 8}, gen, DType::F64).requires_grad_();
    std::vector<Tensor> inputs = enc.parameters();
    inputs.push_back(x);
    GradcheckResult r = gradcheck([&](const std::vector<Tensor>&) { return enc.pre_activation(x); }, inputs);
    INFO(r.message);
    CHECK(r.ok);
    CHECK(r.checked > 0);
  }
}
