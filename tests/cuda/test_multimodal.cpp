// CUDA vs CPU parity of the fused multimodal layer (kernels/ops_fused.cpp, kernels/cuda/fuse.cu)
// beyond the op-table rows: forward and all seven gradients on random inputs, with time ([B, T, M],
// T above and below the backward kernel's 8 threads over time) and without ([B, M]), M not a
// multiple of the 32-column tile, f32 and f64; bit-identical gradients over two runs (the bias
// gradient's last-block sum is deterministic); a transposed-storage weight. The CPU result on the
// same inputs is the reference, at the tolerances of cuda_support.h; allocations are poisoned.
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
struct Sizes {
  int64_t b, t, dw, dr, di, m;  // t == 0: no time axis
};

// w, r, img ~ N(0, 1); weights ~ N(0, 1/fan-in) so the pre-activations are of unit scale and the
// activation's slope varies over the elements; bias ~ N(0, 1/4).
std::vector<Tensor> make_inputs(const Sizes& s, DType dt, uint64_t seed) {
  Generator g(seed);
  auto rn = [&](const Shape& sh, double scale) { return mul_scalar(Tensor::randn(sh, g, dt), scale); };
  const double k = 1.0 / std::sqrt(static_cast<double>(s.dw + s.dr + s.di));
  return {rn(s.t ? Shape{s.b, s.t, s.dw} : Shape{s.b, s.dw}, 1.0),
          rn(s.t ? Shape{s.b, s.t, s.dr} : Shape{s.b, s.dr}, 1.0),
          rn({s.b, s.di}, 1.0),
          rn({s.m, s.dw}, k),
          rn({s.m, s.dr}, k),
          rn({s.m, s.di}, k),
          rn({s.m}, 0.5)};
}

// Output and the gradients of sum(out * wts) on `dev`; transposed_vw: Vw as a transposed view.
std::vector<Tensor> run(const std::vector<Tensor>& in, const Tensor& wts, Device dev, bool transposed_vw) {
  std::vector<Tensor> x;
  for (size_t k = 0; k < in.size(); ++k) {
    Tensor v = dev.is_cpu() ? in[k].clone() : in[k].to(dev);
    if (k == 3 && transposed_vw) v = transpose(transpose(v, 0, 1).contiguous(), 0, 1);
    x.push_back(v.requires_grad_());
  }
  Tensor out = multimodal(x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
  sum(mul(out, dev.is_cpu() ? wts : wts.to(dev))).backward();
  std::vector<Tensor> r{out.detach()};
  for (const Tensor& t : x) r.push_back(t.grad());
  return r;
}

void check_sizes(const Sizes& s, DType dt, bool transposed_vw) {
  const std::vector<Tensor> in = make_inputs(s, dt, 100 + static_cast<uint64_t>(s.b * 31 + s.t * 7 + s.m));
  Generator g(9);
  const Tensor wts = Tensor::randn(s.t ? Shape{s.b, s.t, s.m} : Shape{s.b, s.m}, g, dt);
  const std::vector<Tensor> cpu = run(in, wts, Device::cpu(), transposed_vw);
  const std::vector<Tensor> gpu = run(in, wts, kGpu, transposed_vw);
  const char* names[] = {"out", "dw", "dr", "dimg", "dVw", "dVr", "dVi", "dbias"};
  for (size_t k = 0; k < cpu.size(); ++k) {
    INFO(names[k] << ": B " << s.b << " T " << s.t << " M " << s.m << " " << dtype_name(dt)
                  << (transposed_vw ? " (transposed Vw)" : ""));
    REQUIRE(gpu[k].defined());
    CHECK(gpu[k].device() == kGpu);
    const std::string d = compare(gpu[k], cpu[k], tolerance(dt));
    INFO(d);
    CHECK(d.empty());
  }
}
#endif

}  // namespace

// "[reduce]" too: racecheck runs those (the backward kernel reduces through shared memory).
TEST_CASE("parity: multimodal forward + backward, with and without time, odd column tiles",
          "[parity][reduce][multimodal]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  for (DType dt : {DType::F32, DType::F64}) {
    check_sizes({3, 11, 16, 24, 20, 70}, dt, false);  // T > 8: several steps per thread
    check_sizes({2, 5, 8, 12, 10, 33}, dt, false);    // T < 8: fewer threads over time
    check_sizes({5, 0, 16, 24, 20, 33}, dt, false);   // no time axis
    check_sizes({1, 1, 7, 9, 5, 1}, dt, false);       // one image, one step, one column
    check_sizes({3, 11, 16, 24, 20, 70}, dt, true);
  }
#endif
}

// Not "[parity]": too slow under memcheck. Many blocks count themselves done per column tile.
TEST_CASE("parity: multimodal at the m-RNN's layer width, 64 images x 20 steps", "[multimodal]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  check_sizes({64, 20, 64, 96, 128, 512}, DType::F32, false);
#endif
}

TEST_CASE("parity: multimodal gradients are bit-identical run to run on the GPU", "[parity][multimodal]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Sizes s{48, 9, 16, 16, 16, 96};
  const std::vector<Tensor> in = make_inputs(s, DType::F32, 5);
  Generator g(10);
  const Tensor wts = Tensor::randn({s.b, s.t, s.m}, g);
  const std::vector<Tensor> a = run(in, wts, kGpu, false), b = run(in, wts, kGpu, false);
  for (size_t k = 0; k < a.size(); ++k) {
    INFO("output/gradient " << k);
    CHECK(a[k].to_vector<float>() == b[k].to_vector<float>());
  }
#endif
}
