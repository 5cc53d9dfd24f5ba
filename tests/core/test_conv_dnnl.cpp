// conv2d() and max_pool2d() on f32 CPU tensors (oneDNN in a build with it, kernels/cpu/dnnl_conv.h)
// against the reference path (kernels/conv_reference.h) run in f64 on the same values: outputs and
// the gradients wrt every input, over shapes, strides, paddings, batch sizes, with and without a
// bias. The f32 error is bounded by the f64 result of the same op on |inputs| (the sum of |terms|)
// times a small multiple of the f32 epsilon. Then: the same inputs give bit-identical outputs and
// gradients run to run. In a build without oneDNN the f32 path is the reference itself (said by WARN).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/conv_reference.h"
#include "kernels/ops.h"

using namespace mrnn;

namespace {

struct ConvCase {
  int64_t N, C, H, W, O, K, stride, pad;
  bool bias;
};

struct Result {
  std::vector<double> y, gx, gw, gb;
};

std::vector<double> vals(const Tensor& t) { return t.defined() ? t.to(DType::F64).to_vector<double>() : std::vector<double>{}; }

// y = op(x, w, b); loss = sum(y * r); returns y and the gradients of loss wrt x, w, b.
template <class Op>
Result run_conv(Op op, const Tensor& x0, const Tensor& w0, const Tensor& b0, const Tensor& r0, DType dt) {
  // fresh leaves (to() of the same dtype would hand back the caller's tensor)
  auto leaf = [dt](const Tensor& t) { return t.detach().to(dt).clone().requires_grad_(); };
  Tensor x = leaf(x0), w = leaf(w0);
  Tensor b = b0.defined() ? leaf(b0) : Tensor();
  Tensor y = op(x, w, b);
  sum(mul(y, r0.to(dt))).backward();
  return {vals(y), vals(x.grad()), vals(w.grad()), b.defined() ? vals(b.grad()) : std::vector<double>{}};
}

// Counts entries with |got - want| > tol * scale + 1e-30.
int64_t mismatches(const std::vector<double>& got, const std::vector<double>& want, const std::vector<double>& scale,
                   double tol) {
  REQUIRE(got.size() == want.size());
  REQUIRE(scale.size() == want.size());
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want[i]) <= tol * scale[i] + 1e-30)) ++bad;
  return bad;
}

std::string x_desc(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

void warn_without_onednn() {
  if (std::string(cpu_conv_backend()) != "oneDNN")
    WARN("this build has no oneDNN: conv2d's f32 path is the reference itself (" << cpu_conv_backend() << ")");
}

}  // namespace

TEST_CASE("conv2d f32 (oneDNN when built) matches the im2col reference in f64, outputs and all gradients", "[ops][conv]") {
  warn_without_onednn();
  const std::vector<ConvCase> cases = {
      {2, 3, 9, 9, 4, 3, 1, 1, true},     {1, 3, 8, 7, 5, 3, 2, 1, false},   {3, 16, 10, 10, 32, 3, 1, 1, true},
      {2, 16, 11, 9, 8, 3, 2, 0, true},   {4, 32, 8, 8, 64, 3, 1, 1, false}, {1, 5, 7, 7, 3, 5, 1, 2, true},
      {5, 17, 6, 6, 20, 1, 1, 0, true},   {2, 8, 12, 12, 16, 3, 3, 1, true}, {64, 3, 16, 16, 16, 3, 1, 1, true},
      {7, 32, 5, 5, 64, 3, 1, 1, true},
  };
  Generator g(20);
  for (const ConvCase& c : cases) {
    INFO("x [" << c.N << ", " << c.C << ", " << c.H << ", " << c.W << "], w [" << c.O << ", " << c.C << ", " << c.K
               << ", " << c.K << "], stride " << c.stride << ", padding " << c.pad << (c.bias ? ", bias" : ""));
    Tensor x = Tensor::randn({c.N, c.C, c.H, c.W}, g), w = Tensor::randn({c.O, c.C, c.K, c.K}, g);
    Tensor b = c.bias ? Tensor::randn({c.O}, g) : Tensor();
    const int64_t OH = (c.H + 2 * c.pad - c.K) / c.stride + 1, OW = (c.W + 2 * c.pad - c.K) / c.stride + 1;
    Tensor r = Tensor::randn({c.N, c.O, OH, OW}, g);
    auto fast = [&](const Tensor& a, const Tensor& k, const Tensor& bb) { return conv2d(a, k, bb, c.stride, c.pad); };
    auto ref = [&](const Tensor& a, const Tensor& k, const Tensor& bb) {
      return conv2d_im2col(a, k, bb, c.stride, c.pad);
    };
    const Result got = run_conv(fast, x, w, b, r, DType::F32);
    const Result want = run_conv(ref, x, w, b, r, DType::F64);
    const Result scale = run_conv(ref, abs(x), abs(w), c.bias ? abs(b) : Tensor(), abs(r), DType::F64);
    const double tol = 64 * 1.2e-7;
    CHECK(mismatches(got.y, want.y, scale.y, tol) == 0);
    CHECK(mismatches(got.gx, want.gx, scale.gx, tol) == 0);
    CHECK(mismatches(got.gw, want.gw, scale.gw, tol) == 0);
    if (c.bias) CHECK(mismatches(got.gb, want.gb, scale.gb, tol) == 0);
    // and the f32 reference agrees with it to the same bound
    const Result ref32 = run_conv(ref, x, w, b, r, DType::F32);
    CHECK(mismatches(got.y, ref32.y, scale.y, 2 * tol) == 0);
    CHECK(mismatches(got.gw, ref32.gw, scale.gw, 2 * tol) == 0);
  }
}

TEST_CASE("conv2d f32 computes only the gradients asked for, and a wrong layout would fail", "[ops][conv]") {
  Generator g(21);
  Tensor x = Tensor::randn({2, 16, 6, 6}, g), w = Tensor::randn({8, 16, 3, 3}, g).requires_grad_();
  Tensor b = Tensor::randn({8}, g);
  sum(conv2d(x, w, b, 1, 1)).backward();
  CHECK(!x.grad().defined());
  CHECK(w.grad().defined());
  // The check above is able to fail: the same values transposed as [N, C, W, H] give another output.
  Tensor xt = transpose(x, 2, 3).contiguous();
  std::vector<double> a = vals(conv2d(x, w.detach(), b, 1, 1)), c = vals(conv2d(xt, w.detach(), b, 1, 1));
  Tensor scale = conv2d_im2col(abs(x).to(DType::F64), abs(w.detach()).to(DType::F64), abs(b).to(DType::F64), 1, 1);
  CHECK(mismatches(a, c, vals(scale), 1e-3) > 0);
}

TEST_CASE("max_pool2d f32 (oneDNN when built) matches the loop reference, values and gradient", "[ops][conv]") {
  warn_without_onednn();
  struct PoolCase {
    int64_t N, C, H, W, K, stride, pad;
  };
  const std::vector<PoolCase> cases = {{2, 3, 8, 8, 2, 2, 0},  {64, 16, 16, 16, 2, 2, 0}, {1, 2, 5, 5, 3, 2, 1},
                                       {3, 4, 7, 6, 2, 2, 0},  {2, 5, 9, 9, 3, 3, 0},     {1, 1, 6, 6, 3, 1, 1},
                                       {4, 7, 11, 10, 2, 1, 1}};
  Generator g(22);
  for (const PoolCase& c : cases) {
    INFO("x [" << c.N << ", " << c.C << ", " << c.H << ", " << c.W << "], kernel " << c.K << ", stride " << c.stride
               << ", padding " << c.pad);
    // random values: no ties, so both tie rules pick the same maximum
    Tensor x0 = Tensor::randn({c.N, c.C, c.H, c.W}, g);
    Tensor x = x0.clone().requires_grad_(), xr = x0.clone().requires_grad_();
    Tensor y = max_pool2d(x, c.K, c.stride, c.pad), yr = max_pool2d_loop(xr, c.K, c.stride, c.pad);
    Tensor r = Tensor::randn(y.shape(), g);
    sum(mul(y, r)).backward();
    sum(mul(yr, r)).backward();
    CHECK(vals(y) == vals(yr));  // a maximum is exact
    // Each window's gradient lands on its maximum; where windows overlap (stride < kernel) one
    // element may collect several, summed in another order: equal to float rounding.
    const std::vector<double> gx = vals(x.grad()), gr = vals(xr.grad());
    Tensor xs = x0.to(DType::F64).requires_grad_();  // the sum of |contributions| per element
    sum(mul(max_pool2d_loop(xs, c.K, c.stride, c.pad), abs(r).to(DType::F64))).backward();
    CHECK(mismatches(gx, gr, vals(xs.grad()), c.stride >= c.K ? 0.0 : 4 * 1.2e-7) == 0);
  }
}

TEST_CASE("max_pool2d f32 2x2 stride 2 keeps the reference's tie rule (first maximum), odd sizes too", "[ops][conv]") {
  Generator g(24);
  for (const Shape& shape : std::vector<Shape>{{3, 4, 8, 8}, {2, 3, 7, 9}, {1, 2, 5, 4}}) {
    INFO("x " << x_desc(shape));
    // values in {0, 1, 2, 3}: most windows hold equal maxima
    int64_t n = 1;
    for (int64_t v : shape) n *= v;
    std::vector<float> ints(static_cast<size_t>(n));
    for (float& v : ints) v = static_cast<float>(g.randint(4));
    Tensor x0 = Tensor::from_vector(ints, shape);
    Tensor x = x0.clone().requires_grad_(), xr = x0.clone().requires_grad_();
    Tensor y = max_pool2d(x, 2, 2), yr = max_pool2d_loop(xr, 2, 2);
    Tensor r = Tensor::randn(y.shape(), g);
    sum(mul(y, r)).backward();
    sum(mul(yr, r)).backward();
    CHECK(vals(y) == vals(yr));
    CHECK(vals(x.grad()) == vals(xr.grad()));
  }
}

TEST_CASE("conv2d and max_pool2d f32 are bit-identical run to run on the same inputs", "[ops][conv]") {
  Generator g(23);
  Tensor x0 = Tensor::randn({64, 16, 32, 32}, g), w0 = mul_scalar(Tensor::randn({32, 16, 3, 3}, g), 0.1);
  Tensor b0 = Tensor::randn({32}, g);
  auto once = [&] {
    Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
    Tensor y = max_pool2d(relu(conv2d(x, w, b, 1, 1)), 2, 2);
    sum(mul(y, y)).backward();
    return std::vector<std::vector<double>>{vals(y), vals(x.grad()), vals(w.grad()), vals(b.grad())};
  };
  const auto first = once();
  for (int rep = 0; rep < 3; ++rep) CHECK(once() == first);
}
