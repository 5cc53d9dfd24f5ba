// CUDA vs CPU parity of the fused output layer linear_cross_entropy (kernels/ops_linear_xent.cpp,
// kernels/cuda/xent.cu) beyond the op-table rows: vocabularies long enough for the block-per-row
// kernel, padding rows (ignored targets, whole ignored row blocks), automatic and odd row-block
// sizes, i64 and i32 targets, with and without bias, forward-only and forward + backward. The CPU
// result on the same inputs is the reference, at the f32/f64 tolerances of cuda_support.h; every
// CUDA allocation is poisoned with NaN so a gradient element nobody wrote fails the comparison.
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
// Inputs of one case: x [n, h] ~ N(0, 1), weight [v, h] ~ N(0, 1/h) (logits of unit scale, as in
// a trained output layer), bias [v] ~ N(0, 1/4), targets (i64) cycling through the classes with
// every 4th row and the last `pad_tail` rows set to the padding id `ignore`.
struct Inputs {
  Tensor x, w, b, t;
};

Inputs make_inputs(int64_t n, int64_t h, int64_t v, int64_t ignore, int64_t pad_tail, DType dt, uint64_t seed) {
  Generator g(seed);
  Inputs in;
  in.x = Tensor::randn({n, h}, g, dt);
  in.w = mul_scalar(Tensor::randn({v, h}, g, dt), 1.0 / std::sqrt(static_cast<double>(h)));
  in.b = mul_scalar(Tensor::randn({v}, g, dt), 0.5);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = (i * 7919 + 13) % v;
    if (c == ignore) c = (c + 1) % v;
    t[static_cast<size_t>(i)] = (i % 4 == 3 || i >= n - pad_tail) ? ignore : c;
  }
  in.t = Tensor::from_vector(t);
  return in;
}

struct Result {
  Tensor loss, dx, dw, db;
};

// linear_cross_entropy on fresh leaves on `dev` (the same values as `in`), then backward from the
// loss itself; with grad == false under NoGradGuard (the forward-only kernel path).
Result run(const Inputs& in, bool with_bias, DType target_dtype, int64_t ignore, int64_t chunk, Device dev,
           bool grad) {
  auto leaf = [&](const Tensor& t) {
    Tensor l = dev.is_cpu() ? t.clone() : t.to(dev);
    return grad ? l.requires_grad_() : l;
  };
  Tensor x = leaf(in.x), w = leaf(in.w), b = with_bias ? leaf(in.b) : Tensor();
  Tensor t = in.t.to(target_dtype).to(dev);
  Result r;
  if (!grad) {
    NoGradGuard ng;
    r.loss = linear_cross_entropy(x, w, b, t, ignore, chunk);
    return r;
  }
  r.loss = linear_cross_entropy(x, w, b, t, ignore, chunk);
  r.loss.backward();
  r.dx = x.grad();
  r.dw = w.grad();
  if (with_bias) r.db = b.grad();
  return r;
}

// Runs one configuration on both devices and compares loss and every gradient.
void check_config(const Inputs& in, bool with_bias, DType target_dtype, int64_t ignore, int64_t chunk, bool grad) {
  const DType dt = in.x.dtype();
  const Tolerance tol = tolerance(dt);
  INFO(dtype_name(dt) << " x " << in.x.desc() << " weight " << in.w.desc() << (with_bias ? " with" : " without")
                      << " bias, " << dtype_name(target_dtype) << " targets, ignore " << ignore << ", chunk_rows "
                      << chunk << (grad ? ", forward + backward" : ", forward only"));
  const Result cpu = run(in, with_bias, target_dtype, ignore, chunk, Device::cpu(), grad);
  const Result gpu = run(in, with_bias, target_dtype, ignore, chunk, kGpu, grad);
  REQUIRE(gpu.loss.device() == kGpu);
  const std::string loss = compare(gpu.loss, cpu.loss, tol);
  INFO("loss: " << loss << " (CPU " << cpu.loss.item() << ")");
  CHECK(loss.empty());
  CHECK(std::isfinite(cpu.loss.item()));
  if (!grad) return;
  const std::pair<const char*, std::pair<Tensor, Tensor>> grads[] = {
      {"dx", {gpu.dx, cpu.dx}}, {"dW", {gpu.dw, cpu.dw}}, {"db", {gpu.db, cpu.db}}};
  for (const auto& [name, pair] : grads) {
    if (!pair.second.defined()) continue;
    REQUIRE(pair.first.defined());
    CHECK(pair.first.device() == kGpu);
    const std::string d = compare(pair.first, pair.second, tol);
    INFO(name << ": " << d);
    CHECK(d.empty());
  }
}
#endif

}  // namespace

// Small enough for compute-sanitizer (memcheck runs "[parity]", racecheck "[reduce]"): V = 3000
// takes the block-per-row kernel and its shared-memory reduction, V = 700 the warp-per-row one.
TEST_CASE("parity: linear_cross_entropy, block- and warp-per-row kernels, padding rows, bias, i32/i64 targets",
          "[parity][reduce]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  for (DType dt : {DType::F32, DType::F64}) {
    for (int64_t v : {int64_t{3000}, int64_t{700}}) {
      const Inputs in = make_inputs(45, 24, v, 0, 9, dt, 40 + static_cast<uint64_t>(v));
      for (int64_t chunk : {int64_t{0}, int64_t{7}}) {
        check_config(in, true, DType::I64, 0, chunk, true);
        check_config(in, false, DType::I32, 0, chunk, true);
        check_config(in, true, DType::I64, 0, chunk, false);
      }
      // An ignore index that no row uses: every row counts.
      check_config(in, true, DType::I64, -100, 0, true);
    }
  }
#endif
}

TEST_CASE("parity: linear_cross_entropy is deterministic on the GPU and checks targets on the host",
          "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Inputs in = make_inputs(300, 32, 5000, 0, 20, DType::F32, 7);
  Tensor x = in.x.to(kGpu), w = in.w.to(kGpu), b = in.b.to(kGpu), t = in.t.to(kGpu);
  const std::vector<float> first = linear_cross_entropy(x, w, b, t, 0, 64).to_vector<float>();
  const std::vector<float> second = linear_cross_entropy(x, w, b, t, 0, 64).to_vector<float>();
  CHECK(first == second);  // fixed summation order: bit-identical run to run
  Tensor bad = Tensor::from_vector(std::vector<int64_t>{1, 2, 9, 0}).to(kGpu);
  Tensor x4 = narrow(x, 0, 0, 4), w6 = narrow(w, 0, 0, 6), b6 = narrow(b, 0, 0, 6);
  CHECK_THROWS_WITH(linear_cross_entropy(x4, w6, b6, bad, -100), Catch::Contains("target 9 at row 2 is outside [0, 6)"));
  // Targets may stay on the host (checked there, uploaded once: no read-back); the loss is the one
  // from device targets. The inputs themselves must share a device.
  const Tensor host_t = Tensor::from_vector(std::vector<int64_t>{1, 2, 3, 0});
  CHECK(linear_cross_entropy(x4, w6, b6, host_t, -100).item() ==
        linear_cross_entropy(x4, w6, b6, host_t.to(kGpu), -100).item());
  CHECK_THROWS_WITH(linear_cross_entropy(x4, w6, b6, Tensor::from_vector(std::vector<int64_t>{1, 2, 9, 0}), -100),
                    Catch::Contains("target 9 at row 2 is outside [0, 6)"));
  CHECK_THROWS_WITH(linear_cross_entropy(x4, narrow(in.w, 0, 0, 6), b6, host_t, -100),
                    Catch::Contains("different devices"));
#endif
}

// The shape class: N = 1024 rows, hidden 512, vocabulary 10000, f32, a quarter of the
// rows padding plus a padded tail, automatic row blocks and 77-row blocks (a short last block).
// Not tagged [parity]: its GEMMs are too large for the memcheck step of scripts/gpu-check.
TEST_CASE("parity: linear_cross_entropy at N=1024, H=512, V=10000 (f32, padding rows, row blocks 0 and 77)",
          "[xent]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  const Inputs in = make_inputs(1024, 512, 10000, 0, 40, DType::F32, 1024);
  check_config(in, true, DType::I64, 0, 0, true);
  check_config(in, true, DType::I32, 0, 77, true);
#endif
}
