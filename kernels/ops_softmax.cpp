// softmax / log_softmax along any dim and the fused masked cross entropy.
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_defined(name, {&x});
  require_backend(name, x);
  MRNN_CHECK(x.dim() >= 1, "{}: needs at least 1 dim, got {}", name, x.desc());
  dim = wrap_dim(dim, x.dim(), name);
  const int64_t last = x.dim() - 1;
  // Work on the dim as the last, contiguous axis; move it back afterwards.
  Tensor xt;
  {
    NoGradGuard ng;
    xt = (dim == last ? x : transpose(x, dim, last)).contiguous();
  }
  Tensor yt = Tensor::empty(xt.shape(), x.dtype(), x.device());
  MRNN_DISPATCH(xt.device(), softmax_rows, xt, yt, log);
  Tensor out;
  {
    NoGradGuard ng;
    out = dim == last ? yt : transpose(yt, dim, last).contiguous();
  }
  if (needs_grad({&x})) {
    // The backward keeps the output values, detached: when dim is the last one, out is yt itself,
    // and capturing yt would make out's node own out (a cycle that never frees).
    attach_grad(out, name, {x}, [yt = yt.detach(), dim, last, log](const Tensor& g) {
      Tensor gt = (dim == last ? g : transpose(g, dim, last)).contiguous();
      Tensor gx = Tensor::empty(gt.shape(), gt.dtype(), gt.device());
      MRNN_DISPATCH(yt.device(), softmax_rows_backward, yt, gt, gx, log);
      return std::vector<Tensor>{dim == last ? gx : transpose(gx, dim, last).contiguous()};
    });
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, true); }

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, Reduction reduction) {
  check_defined("cross_entropy", {&logits, &targets});
  check_same_device("cross_entropy", {&logits, &targets});
  require_backend("cross_entropy", logits);
  MRNN_CHECK(logits.dim() == 2, "cross_entropy: logits must be [N, V], got {}", logits.desc());
  MRNN_CHECK(targets.dim() == 1 && targets.size(0) == logits.size(0),
             "cross_entropy: targets must be [{}], got {}", logits.size(0), targets.desc());
  MRNN_CHECK(targets.dtype() == DType::I64 || targets.dtype() == DType::I32,
             "cross_entropy: targets must be i64 or i32, got {}", targets.desc());
  const bool mean = reduction == Reduction::Mean, rows_out = reduction == Reduction::None;
  Tensor lc = logits.contiguous().detach(), tc = targets.contiguous();
  Tensor lse = Tensor::empty({logits.size(0)}, DType::F64, logits.device());
  // Reduction::None: the per-row losses in f64, converted to the logits' dtype at the end.
  Tensor rows = rows_out ? Tensor::empty({logits.size(0)}, DType::F64, logits.device()) : Tensor();
  auto per_row = [&] {
    NoGradGuard ng;
    return rows.to(logits.dtype());
  };
#ifdef MRNN_WITH_CUDA
  if (logits.device().is_cuda()) {  // the loss stays on the device; only the row count comes back
    Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
    const int64_t count = cuda::cross_entropy_forward(lc, tc, ignore_index, lse, loss, mean, rows);
    Tensor out = rows_out ? per_row() : loss;
    if (needs_grad({&logits})) {
      const double inv_count = !mean ? 1.0 : count ? 1.0 / static_cast<double>(count) : 0.0;
      attach_grad(out, "cross_entropy", {logits}, [lc, tc, lse, inv_count, ignore_index](const Tensor& g) {
        Tensor d = Tensor::empty(lc.shape(), lc.dtype(), lc.device());
        cuda::cross_entropy_backward(lc, tc, ignore_index, lse, g.contiguous(), inv_count, d);
        return std::vector<Tensor>{d};
      });
    }
    return out;
  }
#endif
  double total = 0;
  const int64_t count = cpu::cross_entropy_forward(lc, tc, ignore_index, lse, &total, rows);
  Tensor out = rows_out ? per_row()
                        : Tensor::scalar(!mean ? total : count ? total / static_cast<double>(count) : 0.0,
                                         logits.dtype());
  if (needs_grad({&logits})) {
    attach_grad(out, "cross_entropy", {logits}, [lc, tc, lse, count, mean, rows_out, ignore_index](const Tensor& g) {
      Tensor d = Tensor::empty(lc.shape(), lc.dtype(), lc.device());
      if (rows_out) {
        cpu::cross_entropy_backward(lc, tc, ignore_index, lse, 1.0, d, g.contiguous());
      } else {
        const double scale = !mean ? g.item() : count ? g.item() / static_cast<double>(count) : 0.0;
        cpu::cross_entropy_backward(lc, tc, ignore_index, lse, scale, d);
      }
      return std::vector<Tensor>{d};
    });
  }
  return out;
}

}  // namespace mrnn
