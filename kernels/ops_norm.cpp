// layer_norm: one fused node with a hand-written backward (the kernels are kernels/cpu/norm.cpp
// and kernels/cuda/norm.cu, the math kernels/common/layer_norm.h).
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_defined("layer_norm", {&x});
  require_backend("layer_norm", x);
  MRNN_CHECK(is_floating(x.dtype()), "layer_norm: x must be f32 or f64, got {}", x.desc());
  MRNN_CHECK(x.dim() >= 1 && x.size(-1) >= 1, "layer_norm: x {} needs a non-empty last dim", x.desc());
  MRNN_CHECK(eps >= 0, "layer_norm: eps must be >= 0, got {}", eps);
  const int64_t n = x.size(-1);
  for (const Tensor* p : {&weight, &bias}) {
    if (!p->defined()) continue;
    MRNN_CHECK(p->shape() == Shape{n}, "layer_norm: {} must be [{}] (x's last dim), got {}",
               p == &weight ? "weight" : "bias", n, p->desc());
    check_same_device("layer_norm", {&x, p});
    check_same_dtype("layer_norm", {&x, p});
  }
  Tensor xc = x.contiguous();
  Tensor wc = weight.defined() ? weight.contiguous() : Tensor(), bc = bias.defined() ? bias.contiguous() : Tensor();
  const int64_t rows = x.numel() / n;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mu = Tensor::empty({rows}, x.dtype(), x.device()), rstd = Tensor::empty({rows}, x.dtype(), x.device());
  MRNN_DISPATCH(x.device(), layer_norm, xc, wc, bc, eps, y, mu, rstd);
  if (needs_grad({&x, &weight, &bias})) {
    Tensor xs = xc.detach(), ws = wc.defined() ? wc.detach() : Tensor();
    const bool gx_on = x.requires_grad(), gw_on = weight.defined() && weight.requires_grad(),
               gb_on = bias.defined() && bias.requires_grad();
    attach_grad(y, "layer_norm", {x, weight, bias}, [=](const Tensor& g) {
      Tensor gc = g.contiguous();
      Tensor gx = gx_on ? Tensor::empty(xs.shape(), xs.dtype(), xs.device()) : Tensor();
      Tensor gw = gw_on ? Tensor::empty({n}, xs.dtype(), xs.device()) : Tensor();
      Tensor gb = gb_on ? Tensor::empty({n}, xs.dtype(), xs.device()) : Tensor();
      MRNN_DISPATCH(xs.device(), layer_norm_backward, xs, ws, mu, rstd, gc, gx, gw, gb);
      return std::vector<Tensor>{gx, gw, gb};
    });
  }
  return y;
}

}  // namespace mrnn
