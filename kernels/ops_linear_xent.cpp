// linear_cross_entropy (kernels/fused.h): row blocks of logits through one GEMM, the in-place
// softmax cross entropy (kernels/cpu/softmax_xent.cpp, kernels/cuda/xent.cu), then the two
// gradient GEMMs on the same block while it is still in cache-sized memory. One code path for both
// devices: the GEMMs and the row kernel dispatch on x's device.
#include <algorithm>

#include "core/autograd.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/fused.h"
#include "kernels/ops.h"
#include "kernels/reduction.h"

namespace mrnn {

namespace {

// linear_cross_entropy_loss: vocabulary columns per chunk when not given, and the logits of one
// scratch block (rows x chunk, 4 MB in f32: in cache between the GEMM and the statistics pass).
constexpr int64_t kAutoVocabChunk = 2048, kLossBlockLogits = int64_t{1} << 20;

// Rows per block: about 2M logits (8 MB in f32), at least 64 rows, blocks of equal size. Smaller
// blocks would make the GEMMs less efficient; larger ones only add to the peak memory of a step
// (measured at the bench sizes: 32 MB blocks peak at 171 MB, 8 MB blocks at 151 MB, same speed).
int64_t block_rows(int64_t n, int64_t v, int64_t requested) {
  if (requested > 0) return std::min(requested, std::max<int64_t>(n, 1));
  const int64_t cap = std::max<int64_t>(64, (int64_t{2} << 20) / std::max<int64_t>(v, 1));
  const int64_t blocks = (n + cap - 1) / cap;
  return std::max<int64_t>(1, (n + blocks - 1) / std::max<int64_t>(blocks, 1));
}

// The checks shared by both entry points; returns the contiguous targets on x's device and sets
// *count to the number of real rows. Targets are checked and counted on the host: for CUDA inputs
// from a copy of the N integers (the one read-back of the op), unless the caller passes them on
// the CPU, when they are checked there and uploaded once (no read-back).
Tensor check_args(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& targets,
                  int64_t ignore_index, int64_t* count) {
  check_defined(op, {&x, &weight, &targets});
  MRNN_CHECK(x.dim() == 2 && weight.dim() == 2 && x.size(1) == weight.size(1),
             "{}: expected x [N, H] and weight [V, H], got {} and {}", op, x.desc(), weight.desc());
  MRNN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)),
             "{}: bias must be [{}], got {}", op, weight.size(0), bias.desc());
  MRNN_CHECK(targets.dim() == 1 && targets.size(0) == x.size(0), "{}: targets must be [{}], got {}", op, x.size(0),
             targets.desc());
  MRNN_CHECK(targets.dtype() == DType::I64 || targets.dtype() == DType::I32, "{}: targets must be i64 or i32, got {}",
             op, targets.desc());
  if (bias.defined()) {
    check_same_device(op, {&x, &weight, &bias});
    check_same_dtype(op, {&x, &weight, &bias});
  } else {
    check_same_device(op, {&x, &weight});
    check_same_dtype(op, {&x, &weight});
  }
  MRNN_CHECK(targets.device() == x.device() || targets.device().is_cpu(),
             "{}: targets must be on x's device ({}) or on the CPU, got {}", op, x.device().str(), targets.desc());
  require_backend(op, x);
  const int64_t N = x.size(0), V = weight.size(0);
  Tensor tc = targets.contiguous();
  // Device-safe: the values are read on the host only from a CPU tensor, an explicit copy of the
  // N targets when they live on a GPU (never a device pointer dereferenced on the host).
  const Tensor th = tc.device().is_cpu() ? tc : tc.to(Device::cpu());
  int64_t n = 0;
  for (int64_t r = 0; r < N; ++r) {
    const int64_t t = th.dtype() == DType::I64 ? th.data<int64_t>()[r] : th.data<int32_t>()[r];
    MRNN_CHECK(t == ignore_index || (t >= 0 && t < V), "{}: target {} at row {} is outside [0, {})", op, t, r, V);
    n += t != ignore_index;
  }
  *count = n;
  return tc.to(x.device());  // host targets for device inputs: one upload
}

// The loss scalar (x's dtype, on x's device) from a sum kept on the host (CPU) or in a device
// accumulator f64 [1] (CUDA: converted and scaled there, no read-back).
Tensor loss_scalar(double host_total, const Tensor& acc, double scale, const Tensor& x) {
  if (!acc.defined()) return Tensor::scalar(host_total * scale, x.dtype());
  return mul_scalar(reshape(acc, {}), scale).to(x.dtype());
}

}  // namespace

namespace {

// One row block's losses and, with write_grad, its gradient rows in place (scaled by grad_scale,
// and per row by row_scale when defined); row losses go to row_loss (f64) when defined, else the
// block's sum is added to *total (CPU) or acc (CUDA).
void xent_block(const Tensor& z, const Tensor& bias, const Tensor& targets, int64_t ignore_index, double grad_scale,
                bool write_grad, const Tensor& row_scale, const Tensor& row_loss, const Tensor& acc, double* total) {
#ifdef MRNN_WITH_CUDA
  if (z.device().is_cuda()) {
    cuda::softmax_xent_rows_acc(z, bias, targets, ignore_index, grad_scale, write_grad, row_loss.defined() ? Tensor() : acc,
                                row_scale, row_loss);
    return;
  }
#endif
  (void)acc;
  double part = 0;
  cpu::softmax_xent_rows(z, bias, targets, ignore_index, grad_scale, write_grad, &part, row_scale, row_loss);
  *total += part;
}

// The gradients of one row block from its gradient rows z: dx rows := z W, dW (+)= z^T x_b,
// db (+)= 1^T z (written by the first block, beta 0, and accumulated by the rest).
void block_grads(const Tensor& z, const Tensor& xb, const Tensor& wd, const Tensor& ones, bool first,
                 const Tensor& dx_rows, const Tensor& dw, const Tensor& db) {
  const int64_t n = z.size(0);
  if (dx_rows.defined()) MRNN_DISPATCH(z.device(), gemm, z, false, wd, false, dx_rows, 1.0, 0.0);
  const double beta = first ? 0.0 : 1.0;
  if (dw.defined()) MRNN_DISPATCH(z.device(), gemm, z, true, xb, false, dw, 1.0, beta);
  if (db.defined()) MRNN_DISPATCH(z.device(), gemm, narrow(ones, 1, 0, n), false, z, false, db, 1.0, beta);
}

// Reduction::None: the [N] row losses; nothing of the gradient is computed in the forward pass,
// since the upstream gradient is a vector. Backward recomputes each block's logits (one GEMM),
// turns them into gradient rows scaled by the upstream gradient, then the three gradient GEMMs:
// O(block) memory, never [N, V].
Tensor linear_cross_entropy_rows(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& tc,
                                 int64_t ignore_index, int64_t chunk_rows) {
  const Device dev = x.device();
  const int64_t N = x.size(0), V = weight.size(0);
  const bool want_grad = needs_grad({&x, &weight, &bias});
  Tensor xd = x.detach().contiguous(), wd = weight.detach(), bd = bias.defined() ? bias.detach().contiguous() : Tensor();
  const int64_t rows = block_rows(N, V, chunk_rows);
  Tensor losses = Tensor::empty({N}, DType::F64, dev), out;
  {
    NoGradGuard ng;
    Tensor block = Tensor::empty({rows, V}, x.dtype(), dev);
    double unused = 0;
    for (int64_t r0 = 0; r0 < N; r0 += rows) {
      const int64_t n = std::min(rows, N - r0);
      Tensor z = narrow(block, 0, 0, n), xb = narrow(xd, 0, r0, n);
      MRNN_DISPATCH(dev, gemm, xb, false, wd, true, z, 1.0, 0.0);
      xent_block(z, bd, narrow(tc, 0, r0, n), ignore_index, 1.0, false, Tensor(), narrow(losses, 0, r0, n), Tensor(),
                 &unused);
    }
    out = losses.to(x.dtype());
  }
  if (!want_grad) return out;
  const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
  attach_grad(out, "linear_cross_entropy", {x, weight, bias},
              [xd, wd, bd, tc, ignore_index, rows, gx, gw, gb](const Tensor& g) {
                const Device dev = xd.device();
                const int64_t N = xd.size(0), H = xd.size(1), V = wd.size(0);
                Tensor gc = g.contiguous();
                Tensor dx = gx ? Tensor::empty({N, H}, xd.dtype(), dev) : Tensor();
                Tensor dw = !gw ? Tensor() : N ? Tensor::empty({V, H}, xd.dtype(), dev) : Tensor::zeros({V, H}, xd.dtype(), dev);
                Tensor db = !gb ? Tensor() : N ? Tensor::empty({1, V}, xd.dtype(), dev) : Tensor::zeros({1, V}, xd.dtype(), dev);
                Tensor ones = gb ? Tensor::ones({1, rows}, xd.dtype(), dev) : Tensor();
                Tensor block = Tensor::empty({rows, V}, xd.dtype(), dev), scratch = Tensor::empty({rows}, DType::F64, dev);
                double unused = 0;
                for (int64_t r0 = 0; r0 < N; r0 += rows) {
                  const int64_t n = std::min(rows, N - r0);
                  Tensor z = narrow(block, 0, 0, n), xb = narrow(xd, 0, r0, n);
                  MRNN_DISPATCH(dev, gemm, xb, false, wd, true, z, 1.0, 0.0);
                  xent_block(z, bd, narrow(tc, 0, r0, n), ignore_index, 1.0, true, narrow(gc, 0, r0, n),
                             narrow(scratch, 0, 0, n), Tensor(), &unused);
                  block_grads(z, xb, wd, ones, r0 == 0, dx.defined() ? narrow(dx, 0, r0, n) : Tensor(), dw, db);
                }
                if (db.defined()) db = reshape(db, {V});
                return std::vector<Tensor>{dx, dw, db};
              });
  return out;
}

}  // namespace

Tensor linear_cross_entropy(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& targets,
                            int64_t ignore_index, int64_t chunk_rows, Reduction reduction) {
  const char* op = "linear_cross_entropy";
  int64_t count = 0;
  Tensor tc = check_args(op, x, weight, bias, targets, ignore_index, &count);
  if (reduction == Reduction::None) return linear_cross_entropy_rows(x, weight, bias, tc, ignore_index, chunk_rows);
  const Device dev = x.device();
  const int64_t N = x.size(0), H = x.size(1), V = weight.size(0);
  const double scale = reduction == Reduction::Sum ? 1.0 : count ? 1.0 / static_cast<double>(count) : 0.0;
  const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
  const bool want_grad = needs_grad({&x, &weight, &bias});

  Tensor xd = x.detach().contiguous(), wd = weight.detach(), bd = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor dx, dw, db, ones;
  if (want_grad && gx) dx = Tensor::empty({N, H}, x.dtype(), x.device());
  // dW and db are written by the first block's GEMM (beta 0) and accumulated by the rest.
  if (want_grad && gw) dw = N ? Tensor::empty({V, H}, x.dtype(), x.device()) : Tensor::zeros({V, H}, x.dtype(), x.device());
  if (want_grad && gb) db = N ? Tensor::empty({1, V}, x.dtype(), x.device()) : Tensor::zeros({1, V}, x.dtype(), x.device());
  const int64_t rows = block_rows(N, V, chunk_rows);
  Tensor block = Tensor::empty({rows, V}, x.dtype(), x.device());
  if (db.defined()) ones = Tensor::ones({1, rows}, x.dtype(), x.device());
  double total = 0;
  // CUDA: the block losses add up on the device (no read-back per block).
  Tensor acc = dev.is_cpu() ? Tensor() : Tensor::zeros({1}, DType::F64, dev);
  {
    NoGradGuard ng;
    for (int64_t r0 = 0; r0 < N; r0 += rows) {
      const int64_t n = std::min(rows, N - r0);
      Tensor z = narrow(block, 0, 0, n), xb = narrow(xd, 0, r0, n), tb = narrow(tc, 0, r0, n);
      MRNN_DISPATCH(dev, gemm, xb, false, wd, true, z, 1.0, 0.0);
      xent_block(z, bd, tb, ignore_index, scale, want_grad, Tensor(), Tensor(), acc, &total);
      if (want_grad) block_grads(z, xb, wd, ones, r0 == 0, dx.defined() ? narrow(dx, 0, r0, n) : Tensor(), dw, db);
    }
  }
  Tensor loss = loss_scalar(total, acc, scale, x);
  if (want_grad) {
    if (db.defined()) db = reshape(db, {V});
    attach_grad(loss, op, {x, weight, bias}, [dx, dw, db](const Tensor& g) {
      if (!g.device().is_cpu()) {  // scaled on the device: the upstream gradient is never read back
        const Tensor gs = g.to(dx.defined() ? dx.dtype() : dw.defined() ? dw.dtype() : g.dtype());
        auto scaled = [&gs](const Tensor& t) { return t.defined() ? mul(t, gs) : t; };
        return std::vector<Tensor>{scaled(dx), scaled(dw), scaled(db)};
      }
      const double s = g.item();
      auto scaled = [s](const Tensor& t) { return !t.defined() || s == 1.0 ? t : mul_scalar(t, s); };
      return std::vector<Tensor>{scaled(dx), scaled(dw), scaled(db)};
    });
  }
  return loss;
}

Tensor linear_cross_entropy_loss(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& targets,
                                 int64_t ignore_index, int64_t vocab_chunk) {
  const char* op = "linear_cross_entropy_loss";
  MRNN_CHECK(vocab_chunk >= 0, "{}: vocab_chunk must be >= 0 (0 = automatic), got {}", op, vocab_chunk);
  int64_t count = 0;
  Tensor tc = check_args(op, x, weight, bias, targets, ignore_index, &count);
  const Device dev = x.device();
  const int64_t N = x.size(0), V = weight.size(0);
  const double scale = count ? 1.0 / static_cast<double>(count) : 0.0;
  NoGradGuard ng;
  Tensor xd = x.detach().contiguous(), wd = weight.detach(), bd = bias.defined() ? bias.detach().contiguous() : Tensor();
  const int64_t chunk = std::max<int64_t>(1, std::min(V, vocab_chunk > 0 ? vocab_chunk : kAutoVocabChunk));
  const int64_t rows = std::max<int64_t>(1, std::min(N, std::max<int64_t>(64, kLossBlockLogits / chunk)));
  // One scratch block of rows x chunk logits (each chunk a contiguous [n, c] view of its front)
  // and the per-row (max, sum, target logit) statistics.
  Tensor scratch = Tensor::empty({rows * chunk}, x.dtype(), dev);
  Tensor stats = Tensor::empty({rows, 3}, x.dtype(), dev);
  double total = 0;
  Tensor acc = dev.is_cpu() ? Tensor() : Tensor::zeros({1}, DType::F64, dev);
  for (int64_t r0 = 0; r0 < N; r0 += rows) {
    const int64_t n = std::min(rows, N - r0);
    Tensor xb = narrow(xd, 0, r0, n), tb = narrow(tc, 0, r0, n), st = narrow(stats, 0, 0, n);
    for (int64_t c0 = 0; c0 < V; c0 += chunk) {
      const int64_t c = std::min(chunk, V - c0);
      Tensor z = reshape(narrow(scratch, 0, 0, n * c), {n, c});
      Tensor bc = bd.defined() ? narrow(bd, 0, c0, c) : Tensor();
      MRNN_DISPATCH(dev, gemm, xb, false, narrow(wd, 0, c0, c), true, z, 1.0, 0.0);
      MRNN_DISPATCH(dev, xent_chunk_stats, z, bc, tb, ignore_index, c0, c0 == 0, st);
    }
#ifdef MRNN_WITH_CUDA
    if (acc.defined()) {
      cuda::xent_stats_loss(st, tb, ignore_index, acc);
      continue;
    }
#endif
    total += cpu::xent_stats_loss(st, tb, ignore_index);
  }
  return loss_scalar(total, acc, scale, x);
}

}  // namespace mrnn
