// The CNN encoder's pooling heads (layers/cnn_encoder.h): the max head is the per-channel maximum
// of the last block's map fed to the linear layer, the pyramid head that maximum followed by the
// four quadrant maxima (both checked against host loops over the module's own parameters), max is
// translation-invariant where flatten and pyramid are not, and all heads pass the f64
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
  CHECK(parse_cnn_pool("pyramid") == CnnPool::Pyramid);
  CHECK(parse_cnn_pool("max-where") == CnnPool::MaxWhere);
  for (CnnPool pool : {CnnPool::Max, CnnPool::Flatten, CnnPool::Pyramid, CnnPool::MaxWhere})
    CHECK(parse_cnn_pool(cnn_pool_name(pool)) == pool);
  CHECK_THROWS_WITH(parse_cnn_pool("avg"), Contains("'avg'") && Contains("flatten, max, pyramid or max-where"));
}

// The last block's map for x, computed with the module's own conv weights p.
static Tensor last_map(const std::map<std::string, Tensor>& p, int blocks, Tensor h) {
  for (int b = 1; b <= blocks; ++b) {
    const std::string k = "conv" + std::to_string(b);
    h = max_pool2d(relu(conv2d(h, p.at(k + ".weight"), p.at(k + ".bias"), 1, 1)), 2, 2);
  }
  return h;
}

// The linear layer "fc" of p as a host loop over one sample's head features f; appends its outputs
// to want.
static void host_fc(const std::map<std::string, Tensor>& p, const std::vector<double>& f, std::vector<float>& want) {
  const std::vector<float> w = p.at("fc.weight").to_vector<float>(), b = p.at("fc.bias").to_vector<float>();
  REQUIRE(w.size() == b.size() * f.size());
  for (size_t o = 0; o < b.size(); ++o) {
    double sum = b[o];
    for (size_t i = 0; i < f.size(); ++i) sum += static_cast<double>(w[o * f.size() + i]) * f[i];
    want.push_back(static_cast<float>(sum));
  }
}

TEST_CASE("cnn encoder: the pyramid head feeds the whole-map maximum, then each quadrant's, to the linear layer", "[cnn]") {
  // An even map (16 -> 4x4: quadrants of 2x2) and an odd one (20 -> 5x5: 3x3 quadrants that share
  // the middle row and column).
  for (int64_t size : {16, 20}) {
    INFO("image size " << size);
    Generator gen(5);
    CnnEncoder enc(size, {4, 6}, 5, gen, CnnPool::Pyramid);
    std::map<std::string, Tensor> p = params_of(enc);
    REQUIRE(p.at("fc.weight").size(1) == 30);  // 5 * C
    Tensor x = Tensor::randn({2, 3, size, size}, gen);
    Tensor h = last_map(p, 2, x);
    const int s = static_cast<int>(h.size(2)), k = (s + 1) / 2, C = 6;
    REQUIRE(s == size / 4);
    std::vector<float> hv = h.to_vector<float>();
    auto at = [&](int n, int c, int i, int j) { return static_cast<double>(hv[((n * C + c) * s + i) * s + j]); };
    std::vector<float> want;
    for (int n = 0; n < 2; ++n) {
      std::vector<double> f(5 * C, -INFINITY);  // [C whole | C x 4 quadrants, channel-major]
      for (int c = 0; c < C; ++c)
        for (int i = 0; i < s; ++i)
          for (int j = 0; j < s; ++j) {
            f[c] = std::max(f[c], at(n, c, i, j));
            for (int q = 0; q < 4; ++q) {
              const int i0 = (q / 2) * (s - k), j0 = (q % 2) * (s - k);
              if (i >= i0 && i < i0 + k && j >= j0 && j < j0 + k) f[C + c * 4 + q] = std::max(f[C + c * 4 + q], at(n, c, i, j));
            }
          }
      host_fc(p, f, want);
    }
    CHECK(max_abs_diff(enc.pre_activation(x), Tensor::from_vector(want, {2, 5})) < 1e-5);
  }
}

TEST_CASE("cnn encoder: the max-where head feeds each channel's maximum, then its softmax-weighted mean x and y", "[cnn]") {
  Generator gen(9);
  CnnEncoder enc(24, {4, 5}, 3, gen, CnnPool::MaxWhere);  // a 6x6 last map
  std::map<std::string, Tensor> p = params_of(enc);
  const int C = 5;
  REQUIRE(p.at("fc.weight").size(1) == 3 * C);
  Tensor x = Tensor::randn({2, 3, 24, 24}, gen);
  Tensor h = last_map(p, 2, x);
  const int s = static_cast<int>(h.size(2));
  REQUIRE(s == 6);
  std::vector<float> hv = h.to_vector<float>();
  std::vector<float> want;
  for (int n = 0; n < 2; ++n) {
    std::vector<double> f(3 * C);  // [C maxima | x, y of channel 0 | x, y of channel 1 | ...]
    for (int c = 0; c < C; ++c) {
      const float* m = &hv[static_cast<size_t>((n * C + c) * s * s)];
      double top = -INFINITY, z = 0, ex = 0, ey = 0;
      for (int i = 0; i < s * s; ++i) top = std::max(top, static_cast<double>(m[i]));
      for (int i = 0; i < s; ++i)
        for (int j = 0; j < s; ++j) {
          const double e = std::exp(m[i * s + j] - top);
          z += e;
          ex += e * (-1.0 + 2.0 * j / (s - 1));
          ey += e * (-1.0 + 2.0 * i / (s - 1));
        }
      f[c] = top;
      f[C + 2 * c] = ex / z;
      f[C + 2 * c + 1] = ey / z;
    }
    host_fc(p, f, want);
  }
  CHECK(max_abs_diff(enc.pre_activation(x), Tensor::from_vector(want, {2, 3})) < 1e-5);
}

TEST_CASE("cnn encoder: the pyramid head refuses a last map smaller than 2x2, naming the sizes", "[cnn]") {
  Generator gen(1);
  CHECK_THROWS_WITH(CnnEncoder(8, {4, 4, 4}, 5, gen, CnnPool::Pyramid), Contains("pyramid") && Contains("1x1"));
  CHECK_NOTHROW(CnnEncoder(8, {4, 4}, 5, gen, CnnPool::Pyramid));
}

TEST_CASE("cnn encoder: the max head feeds each channel's maximum over positions to the linear layer", "[cnn]") {
  Generator gen(7);
  CnnEncoder enc(16, {4, 6}, 5, gen, CnnPool::Max);
  std::map<std::string, Tensor> p = params_of(enc);
  REQUIRE(p.at("fc.weight").size(1) == 6);  // C inputs, not C * 4 * 4
  Tensor x = Tensor::randn({3, 3, 16, 16}, gen);

  // The blocks with the module's own weights, then the head as a host loop.
  Tensor h = last_map(p, 2, x);
  REQUIRE(h.size(2) == 4);
  std::vector<float> hv = h.to_vector<float>();
  std::vector<float> want;
  for (int n = 0; n < 3; ++n) {
    std::vector<double> m(6, -INFINITY);
    for (int c = 0; c < 6; ++c)
      for (int i = 0; i < 16; ++i) m[c] = std::max(m[c], static_cast<double>(hv[(n * 6 + c) * 16 + i]));
    host_fc(p, m, want);
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
  // The pyramid head sees which quadrant the patch is in: (8, 8) is top left, (24, 16) bottom left.
  Generator g3(3);
  CnnEncoder with_pyramid(48, {8, 8, 8}, 6, g3, CnnPool::Pyramid);
  CHECK(max_abs_diff(with_pyramid.pre_activation(a), with_pyramid.pre_activation(b)) > 1e-2);
  Generator g4(3);
  CnnEncoder with_where(48, {8, 8, 8}, 6, g4, CnnPool::MaxWhere);  // ... and so does max-where
  CHECK(max_abs_diff(with_where.pre_activation(a), with_where.pre_activation(b)) > 1e-2);
  // ... and the max head still sees the patch itself: an image without it differs.
  CHECK(max_abs_diff(with_max.pre_activation(a), with_max.pre_activation(Tensor::zeros({1, 3, 48, 48}))) > 1e-3);
}

TEST_CASE("cnn encoder: every head's parameter and input gradients pass the f64 finite-difference check", "[cnn]") {
  for (CnnPool pool : {CnnPool::Max, CnnPool::Flatten, CnnPool::Pyramid, CnnPool::MaxWhere}) {
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
