// CUDA vs CPU parity of the logits-free loss linear_cross_entropy_loss (kernels/fused.h,
// kernels/cuda/xent.cu's chunk kernels): warp-per-row (chunks <= 1024 columns) and
// block-per-row chunks, chunk sizes that do not divide V, several row blocks, f32/f64, i32/i64
// targets, with and without bias; the shape (4096 rows, H 512, V 10000) against both the
// CPU and linear_cross_entropy on the GPU; and that linear_cross_entropy's device-side loss sum
// is bit-identical run to run. Skipped without a GPU.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/fused.h"
#include "tests/cuda/cuda_support.h"

using namespace mrnn;
using namespace mrnn::testing;

namespace {

struct Inputs {
  Tensor x, w, b, t;
};

Inputs make(int64_t n, int64_t h, int64_t v, DType dt, uint64_t seed) {
  Generator g(seed);
  Inputs in;
  in.x = Tensor::randn({n, h}, g, dt);
  in.w = mul_scalar(Tensor::randn({v, h}, g, dt), 1.0 / std::sqrt(static_cast<double>(h)));
  in.b = mul_scalar(Tensor::randn({v}, g, dt), 0.5);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[static_cast<size_t>(i)] = i % 4 == 3 ? 0 : 1 + (i * 7919) % (v - 1);
  in.t = Tensor::from_vector(t);
  return in;
}

}  // namespace

TEST_CASE("parity: linear_cross_entropy_loss, warp- and block-per-row chunks, f32/f64", "[parity][reduce][xent]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Device gpu = Device::cuda(0);
  cuda::set_poison_allocations(true);
  for (DType dt : {DType::F32, DType::F64}) {
    const Inputs in = make(150, 24, 3000, dt, 61);
    const Tensor xg = in.x.to(gpu), wg = in.w.to(gpu), bg = in.b.to(gpu);
    for (int64_t chunk : {int64_t{0}, int64_t{1000}, int64_t{1024}, int64_t{1500}, int64_t{3000}, int64_t{77}}) {
      for (bool bias : {true, false}) {
        for (DType tdt : {DType::I64, DType::I32}) {
          INFO(dtype_name(dt) << " chunk " << chunk << (bias ? " with" : " without") << " bias " << dtype_name(tdt));
          const Tensor want = linear_cross_entropy_loss(in.x, in.w, bias ? in.b : Tensor(), in.t.to(tdt), 0, chunk);
          const Tensor got =
              linear_cross_entropy_loss(xg, wg, bias ? bg : Tensor(), in.t.to(tdt).to(gpu), 0, chunk);
          CHECK(got.device() == gpu);
          const std::string d = compare(got, want, tolerance(dt));
          INFO(d);
          CHECK(d.empty());
        }
      }
    }
  }
  cuda::set_poison_allocations(false);
#endif
}

TEST_CASE("parity: logits-free loss at the issue's shape, and the device-side loss sum of linear_cross_entropy",
          "[xent]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Device gpu = Device::cuda(0);
  const Inputs in = make(4096, 512, 10000, DType::F32, 62);
  const Tensor xg = in.x.to(gpu), wg = in.w.to(gpu), bg = in.b.to(gpu), tg = in.t.to(gpu);
  NoGradGuard ng;
  const Tensor cpu = linear_cross_entropy_loss(in.x, in.w, in.b, in.t, 0);
  const Tensor fused_gpu = linear_cross_entropy(xg, wg, bg, tg, 0);
  const Tensor free_gpu = linear_cross_entropy_loss(xg, wg, bg, tg, 0);
  CHECK(compare(free_gpu, cpu, tolerance(DType::F32)).empty());
  CHECK(compare(fused_gpu, cpu, tolerance(DType::F32)).empty());
  // The row-block sums are added on the device in a fixed order: bit-identical run to run.
  CHECK(linear_cross_entropy(xg, wg, bg, tg, 0, 300).item() == linear_cross_entropy(xg, wg, bg, tg, 0, 300).item());
  CHECK(linear_cross_entropy_loss(xg, wg, bg, tg, 0, 999).item() ==
        linear_cross_entropy_loss(xg, wg, bg, tg, 0, 999).item());
#endif
}
