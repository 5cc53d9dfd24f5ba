// CUDA vs CPU parity of the fused recurrent cells (kernels/ops_rnn_cells.cpp,
// kernels/cuda/rnn_cells.cu) beyond the op-table rows: widths over one 256-thread block (H = 300,
// two column blocks, the second partial), batches of 1 and 70, inputs as time steps of a [B, T, G]
// projection (row-strided views) and as transposed views (copied), f32 and f64, forward and every
// gradient. The CPU result on the same inputs is the reference, at the tolerances of
// cuda_support.h; allocations are poisoned so an unwritten element fails.
#include <catch2/catch.hpp>

#include <functional>
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
using CellFn = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;

// Output and gradients of sum(out * wts) on `dev`. layout 0: contiguous inputs; 1: xproj is step
// 2 of a [B, 4, G] tensor; 2: xproj and hproj are transposed-storage views.
std::vector<Tensor> run(const CellFn& fn, const std::vector<Tensor>& in, const Tensor& wts, Device dev, int layout) {
  std::vector<Tensor> x;
  for (const Tensor& t : in) x.push_back((dev.is_cpu() ? t.clone() : t.to(dev)).requires_grad_());
  Tensor xp = x[0], hp = x[1];
  if (layout == 1) xp = select(stack({x[0], x[0], x[0], x[0]}, 1), 1, 2);
  if (layout == 2) {
    xp = transpose(transpose(x[0], 0, 1).contiguous(), 0, 1);
    hp = transpose(transpose(x[1], 0, 1).contiguous(), 0, 1);
  }
  Tensor out = fn(xp, hp, x[2]);
  sum(mul(out, dev.is_cpu() ? wts : wts.to(dev))).backward();
  std::vector<Tensor> r{out.detach()};
  for (const Tensor& t : x) r.push_back(t.grad());
  return r;
}

void check_cell(const char* name, const CellFn& fn, int64_t gates, bool uses_state, int64_t b, int64_t h, DType dt,
                int layout) {
  Generator g(static_cast<uint64_t>(b * 1000 + h + gates));
  const std::vector<Tensor> in = {Tensor::randn({b, gates * h}, g, dt), Tensor::randn({b, gates * h}, g, dt),
                                  Tensor::randn({b, h}, g, dt)};
  const Tensor wts = Tensor::randn(gates == 4 ? Shape{2, b, h} : Shape{b, h}, g, dt);
  const std::vector<Tensor> cpu = run(fn, in, wts, Device::cpu(), layout), gpu = run(fn, in, wts, kGpu, layout);
  for (size_t k = 0; k < cpu.size(); ++k) {
    if (k == 3 && !uses_state) continue;
    INFO(name << " B " << b << " H " << h << " " << dtype_name(dt) << " layout " << layout << ": "
              << (k == 0 ? "output" : "gradient of input ") << k);
    REQUIRE(gpu[k].defined());
    CHECK(gpu[k].device() == kGpu);
    const std::string d = compare(gpu[k], cpu[k], tolerance(dt));
    INFO(d);
    CHECK(d.empty());
  }
}
#endif

}  // namespace

TEST_CASE("parity: fused RNN, LSTM and GRU cells, wide and strided, forward + backward", "[parity][rnn_cells]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  const CellFn relu = [](const Tensor& x, const Tensor& p, const Tensor&) { return rnn_cell(x, p, true); };
  const CellFn tanh_cell = [](const Tensor& x, const Tensor& p, const Tensor&) { return rnn_cell(x, p, false); };
  const CellFn lstm = [](const Tensor& x, const Tensor& p, const Tensor& c) { return lstm_cell(x, p, c); };
  const CellFn gru = [](const Tensor& x, const Tensor& p, const Tensor& h) { return gru_cell(x, p, h); };
  for (DType dt : {DType::F32, DType::F64}) {
    for (int layout : {0, 1, 2}) {
      for (int64_t b : {int64_t{1}, int64_t{70}}) {
        check_cell("relu", relu, 1, false, b, 300, dt, layout);
        check_cell("tanh", tanh_cell, 1, false, b, 300, dt, layout);
        check_cell("lstm", lstm, 4, true, b, 300, dt, layout);
        check_cell("gru", gru, 3, true, b, 300, dt, layout);
      }
    }
  }
#endif
}
