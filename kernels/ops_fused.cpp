// The fused multimodal layer (see kernels/fused.h), one structure on both devices: GEMMs write
// w Vw^T + r Vr^T into one [B*T, M] buffer and img Vi^T once per image, then one epilogue pass
// (cpu:: / cuda::multimodal_forward_epilogue) adds the image term and the bias and applies the
// scaled tanh in place. Backward: one pass (multimodal_backward_epilogue) gives dpre from the saved
// output together with the per-image sums over time and the bias gradient, then the gradient GEMMs.
#include "core/autograd.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/fused.h"
#include "kernels/ops.h"

namespace mrnn {

Tensor multimodal(const Tensor& w, const Tensor& r, const Tensor& img, const Tensor& Vw, const Tensor& Vr,
                  const Tensor& Vi, const Tensor& bias) {
  const char* op = "multimodal";
  check_defined(op, {&w, &r, &img, &Vw, &Vr, &Vi, &bias});
  check_same_device(op, {&w, &r, &img, &Vw, &Vr, &Vi, &bias});
  check_same_dtype(op, {&w, &r, &img, &Vw, &Vr, &Vi, &bias});
  require_backend(op, w);
  const bool seq = w.dim() == 3;
  MRNN_CHECK((w.dim() == 2 || seq) && r.dim() == w.dim() && img.dim() == 2,
             "multimodal: expected w [B, T, Dw], r [B, T, Dr], img [B, Di]; got {}, {}, {}", w.desc(), r.desc(),
             img.desc());
  const int64_t B = w.size(0), T = seq ? w.size(1) : 1, M = Vw.size(0);
  MRNN_CHECK(r.size(0) == B && img.size(0) == B && (!seq || r.size(1) == T),
             "multimodal: batch/time sizes differ: w {}, r {}, img {}", w.desc(), r.desc(), img.desc());
  MRNN_CHECK(Vw.dim() == 2 && Vr.dim() == 2 && Vi.dim() == 2 && Vr.size(0) == M && Vi.size(0) == M &&
                 bias.dim() == 1 && bias.size(0) == M,
             "multimodal: weights must be Vw [M, Dw], Vr [M, Dr], Vi [M, Di], bias [M]; got {}, {}, {}, {}", Vw.desc(),
             Vr.desc(), Vi.desc(), bias.desc());
  MRNN_CHECK(Vw.size(1) == w.size(-1) && Vr.size(1) == r.size(-1) && Vi.size(1) == img.size(1),
             "multimodal: input widths do not match weights: w {} / Vw {}, r {} / Vr {}, img {} / Vi {}", w.desc(),
             Vw.desc(), r.desc(), Vr.desc(), img.desc(), Vi.desc());

  Tensor w2, r2, ip, out, bias_c;
  {
    NoGradGuard ng;
    w2 = reshape(w.detach(), {B * T, w.size(-1)});
    r2 = reshape(r.detach(), {B * T, r.size(-1)});
    bias_c = bias.detach().contiguous();
    ip = Tensor::empty({B, M}, w.dtype(), w.device());  // img Vi^T, once per image
    out = Tensor::empty({B * T, M}, w.dtype(), w.device());
  }
  MRNN_DISPATCH(ip.device(), gemm, img.detach(), false, Vi.detach(), true, ip, 1.0, 0.0);
  MRNN_DISPATCH(out.device(), gemm, w2, false, Vw.detach(), true, out, 1.0, 0.0);
  MRNN_DISPATCH(out.device(), gemm, r2, false, Vr.detach(), true, out, 1.0, 1.0);
  MRNN_DISPATCH(out.device(), multimodal_forward_epilogue, ip, bias_c, T, out);
  Shape out_shape = seq ? Shape{B, T, M} : Shape{B, M};
  Tensor m = Tensor::view_of(out, out_shape, contiguous_strides(out_shape), 0);

  if (needs_grad({&w, &r, &img, &Vw, &Vr, &Vi, &bias})) {
    Tensor imgd = img.detach().contiguous(), Vwd = Vw.detach(), Vrd = Vr.detach(), Vid = Vi.detach();
    Shape ws = w.shape(), rs = r.shape();
    attach_grad(m, op, {w, r, img, Vw, Vr, Vi, bias},
                [out, w2, r2, imgd, Vwd, Vrd, Vid, ws, rs, B, T, M](const Tensor& g) {
                  Tensor dpre = Tensor::empty({B * T, M}, out.dtype(), out.device());
                  Tensor dip = Tensor::empty({B, M}, out.dtype(), out.device());
                  Tensor db = Tensor::empty({M}, out.dtype(), out.device());
                  Tensor g2 = reshape(g, {B * T, M}).contiguous();
                  // dpre, the image term's gradient (summed over time) and the bias gradient
                  MRNN_DISPATCH(out.device(), multimodal_backward_epilogue, out, g2, T, dpre, dip, db);
                  auto mm = [](const Tensor& a, bool ta, const Tensor& b, bool tb, int64_t rows, int64_t cols) {
                    Tensor c = Tensor::empty({rows, cols}, a.dtype(), a.device());
                    MRNN_DISPATCH(c.device(), gemm, a, ta, b, tb, c, 1.0, 0.0);
                    return c;
                  };
                  Tensor dw = reshape(mm(dpre, false, Vwd, false, B * T, Vwd.size(1)), ws);
                  Tensor dr = reshape(mm(dpre, false, Vrd, false, B * T, Vrd.size(1)), rs);
                  Tensor dVw = mm(dpre, true, w2, false, M, w2.size(1));
                  Tensor dVr = mm(dpre, true, r2, false, M, r2.size(1));
                  Tensor dimg = mm(dip, false, Vid, false, B, Vid.size(1));
                  Tensor dVi = mm(dip, true, imgd, false, M, imgd.size(1));
                  return std::vector<Tensor>{dw, dr, dimg, dVw, dVr, dVi, db};
                });
  }
  return m;
}

}  // namespace mrnn
