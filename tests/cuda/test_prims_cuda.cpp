// CUDA vs CPU parity of the extension primitives beyond their op-table rows (which the parity
// tests already run at small sizes): fuse with 1 and 4 inputs at larger widths for every
// activation (forward, all gradients, T above the backward kernel's 8 threads over time, M not a
// multiple of 32); linear_cross_entropy and cross_entropy with Reduction::None / Sum over many row
// blocks, block-per-row vocabularies and padding rows; gather along dims 0 and 2 with repeated
// indices. The CPU result on the same inputs is the reference (tolerances of cuda_support.h).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/fused.h"
#include "tests/cuda/cuda_support.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;

namespace {

#ifdef MRNN_WITH_CUDA
// fn on fresh leaves on `dev` (copies of `in`, indices kept as i64), then backward of
// sum(out * wts); returns the output and the gradients of the float inputs.
template <typename F>
std::vector<Tensor> run(const std::vector<Tensor>& in, const Tensor& wts, Device dev, F fn) {
  std::vector<Tensor> x;
  for (const Tensor& t : in) {
    Tensor v = dev.is_cpu() ? t.clone() : t.to(dev);
    if (is_floating(t.dtype())) v.requires_grad_();
    x.push_back(v);
  }
  Tensor out = fn(x);
  sum(mul(out, dev.is_cpu() ? wts : wts.to(dev))).backward();
  std::vector<Tensor> r{out.detach()};
  for (const Tensor& t : x)
    if (is_floating(t.dtype())) r.push_back(t.grad());
  return r;
}

template <typename F>
void check_parity(const std::vector<Tensor>& in, const Shape& out_shape, DType dt, const std::string& what, F fn) {
  Generator g(9);
  const Tensor wts = Tensor::randn(out_shape, g, dt);
  const std::vector<Tensor> cpu = run(in, wts, Device::cpu(), fn), gpu = run(in, wts, kGpu, fn);
  REQUIRE(cpu.size() == gpu.size());
  for (size_t k = 0; k < cpu.size(); ++k) {
    INFO(what << " " << dtype_name(dt) << ": output/gradient " << k);
    REQUIRE(gpu[k].defined());
    const std::string d = compare(gpu[k], cpu[k], tolerance(dt));
    INFO(d);
    CHECK(d.empty());
  }
}

Tensor ids(int64_t n, int64_t hi, uint64_t seed, int64_t pad_every) {
  Generator g(seed);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = pad_every && i % pad_every == 0 ? 0 : static_cast<int64_t>(g.randint(hi));
  return Tensor::from_vector(v, {n});
}
#endif

}  // namespace

TEST_CASE("parity: fuse with 1 and 4 inputs, every activation, with and without time", "[parity][fuse]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  for (DType dt : {DType::F32, DType::F64}) {
    for (FuseActivation a :
         {FuseActivation::ScaledTanh, FuseActivation::Tanh, FuseActivation::Relu, FuseActivation::Identity}) {
      Generator g(3);
      auto rn = [&](const Shape& s, double k) { return mul_scalar(Tensor::randn(s, g, dt), k); };
      const int64_t B = 5, T = 11, M = 70;
      // mQA: question state and image per sequence, answer state and word per step.
      std::vector<Tensor> in = {rn({B, 24}, 1), rn({B, 20}, 1), rn({B, T, 16}, 1), rn({B, T, 12}, 1),
                                rn({M, 24}, 0.1), rn({M, 20}, 0.1), rn({M, 16}, 0.1), rn({M, 12}, 0.1),
                                rn({M}, 0.5)};
      check_parity(in, {B, T, M}, dt, "fuse 4 inputs", [a](const std::vector<Tensor>& x) {
        return fuse({x[0], x[1], x[2], x[3]}, {x[4], x[5], x[6], x[7]}, x[8], a);
      });
      std::vector<Tensor> one = {rn({B, 33}, 1), rn({M, 33}, 0.2)};
      check_parity(one, {B, M}, dt, "fuse 1 input, no bias", [a](const std::vector<Tensor>& x) {
        return fuse({x[0]}, {x[1]}, Tensor(), a);
      });
    }
  }
#endif
}

TEST_CASE("parity: linear_cross_entropy and cross_entropy with Reduction::None and Sum", "[parity][reduction]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  for (DType dt : {DType::F32, DType::F64}) {
    for (int64_t V : {int64_t{300}, int64_t{3000}}) {  // warp- and block-per-row kernels
      Generator g(4);
      const int64_t N = 97, H = 32;
      std::vector<Tensor> in = {mul_scalar(Tensor::randn({N, H}, g, dt), 0.5),
                                mul_scalar(Tensor::randn({V, H}, g, dt), 0.2),
                                mul_scalar(Tensor::randn({V}, g, dt), 0.1), ids(N, V, 8, 6)};
      check_parity(in, {N}, dt, "linear_cross_entropy None", [](const std::vector<Tensor>& x) {
        return linear_cross_entropy(x[0], x[1], x[2], x[3], 0, 16, Reduction::None);
      });
      check_parity(in, {}, dt, "linear_cross_entropy Sum", [](const std::vector<Tensor>& x) {
        return linear_cross_entropy(x[0], x[1], x[2], x[3], 0, 16, Reduction::Sum);
      });
      std::vector<Tensor> ce = {Tensor::randn({N, V}, g, dt), ids(N, V, 5, 4)};
      check_parity(ce, {N}, dt, "cross_entropy None", [](const std::vector<Tensor>& x) {
        return cross_entropy(x[0], x[1], 0, Reduction::None);
      });
      check_parity(ce, {}, dt, "cross_entropy Sum", [](const std::vector<Tensor>& x) {
        return cross_entropy(x[0], x[1], 0, Reduction::Sum);
      });
    }
  }
#endif
}

TEST_CASE("parity: gather along dims 0 and 2, repeated indices, i32 index", "[parity][gather]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  for (DType dt : {DType::F32, DType::F64}) {
    Generator g(6);
    std::vector<Tensor> in = {Tensor::randn({7, 9, 5}, g, dt), reshape(ids(6 * 9 * 5, 7, 3, 0), {6, 9, 5})};
    check_parity(in, {6, 9, 5}, dt, "gather dim 0", [](const std::vector<Tensor>& x) { return gather(x[0], 0, x[1]); });
    std::vector<Tensor> in2 = {Tensor::randn({4, 3, 50}, g, dt),
                               reshape(ids(4 * 2 * 80, 50, 4, 0), {4, 2, 80}).to(DType::I32)};
    check_parity(in2, {4, 2, 80}, dt, "gather dim 2", [](const std::vector<Tensor>& x) {
      return gather(transpose(transpose(x[0], 0, 2).contiguous(), 0, 2), 2, x[1]);
    });
  }
#endif
}
