// The fused N-input layer (see kernels/fused.h: fuse, and multimodal, its m-RNN instance), one
// structure on both devices: GEMMs write the sum of the per-step projections x_i W_i^T into one
// [B*T, M] accumulator and the per-sequence ones once per sequence into one [B, M] term, then one
// epilogue pass (cpu:: / cuda::fuse_forward_epilogue) adds that term and the bias and applies the
// activation in place. Backward: one pass (fuse_backward_epilogue) gives dpre from the saved
// output together with the per-sequence sums over time and the bias gradient (fixed order), then
// the gradient GEMMs of the inputs that need them.
#include <string>

#include "core/autograd.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/fused.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

// c := a (op) b as a fresh [rows, cols] tensor.
Tensor mm(const Tensor& a, bool ta, const Tensor& b, bool tb, int64_t rows, int64_t cols) {
  Tensor c = Tensor::empty({rows, cols}, a.dtype(), a.device());
  MRNN_DISPATCH(c.device(), gemm, a, ta, b, tb, c, 1.0, 0.0);
  return c;
}

}  // namespace

Tensor fuse(const std::vector<Tensor>& xs, const std::vector<Tensor>& ws, const Tensor& bias, FuseActivation act,
            std::vector<bool> per_sequence) {
  const char* op = "fuse";
  const size_t n = xs.size();
  MRNN_CHECK(n >= 1 && ws.size() == n, "fuse: needs at least one input and one weight per input, got {} and {}", n,
             ws.size());
  MRNN_CHECK(per_sequence.empty() || per_sequence.size() == n,
             "fuse: per_sequence must be empty (inferred) or have one flag per input, got {} for {} inputs",
             per_sequence.size(), n);
  const Tensor& x0 = xs[0];
  for (size_t i = 0; i < n; ++i) {
    MRNN_CHECK(xs[i].defined() && ws[i].defined(), "fuse: input {} or its weight is undefined", i);
    check_same_device(op, {&x0, &xs[i], &ws[i]});
    check_same_dtype(op, {&x0, &xs[i], &ws[i]});
  }
  if (bias.defined()) {
    check_same_device(op, {&x0, &bias});
    check_same_dtype(op, {&x0, &bias});
  }
  require_backend(op, x0);
  bool any3 = false;
  for (const Tensor& x : xs) any3 = any3 || x.dim() == 3;
  if (per_sequence.empty()) {  // inferred: [B, D] inputs are per sequence when some input has time
    for (const Tensor& x : xs) per_sequence.push_back(any3 && x.dim() == 2);
  }
  bool any_step = false;
  for (size_t i = 0; i < n; ++i) any_step = any_step || !per_sequence[i];
  if (!any_step) per_sequence.assign(n, false);  // all per-sequence: one step of B rows
  // T from the per-step inputs: all [B, T, D_i] or all [B, D_i] (one step).
  const int64_t B = x0.size(0), M = ws[0].size(0);
  int64_t T = -1;
  bool seq = false;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& x = xs[i];
    const bool ps = per_sequence[i];
    MRNN_CHECK(ps ? x.dim() == 2 : (x.dim() == 2 || x.dim() == 3),
               "fuse: input {} must be {}, got {}", i, ps ? "[B, D] (per sequence)" : "[B, T, D] or [B, D]", x.desc());
    MRNN_CHECK(x.size(0) == B, "fuse: input {} has batch {}, input 0 has {}", i, x.size(0), B);
    if (!ps) {
      const int64_t t = x.dim() == 3 ? x.size(1) : 1;
      MRNN_CHECK(T < 0 || (t == T && (x.dim() == 3) == seq),
                 "fuse: the per-step inputs must all be [B, T, D] with one T, or all [B, D]; input {} is {}", i,
                 x.desc());
      T = t;
      seq = x.dim() == 3;
    }
    MRNN_CHECK(ws[i].dim() == 2 && ws[i].size(0) == M && ws[i].size(1) == x.size(-1),
               "fuse: weight {} must be [{}, {}] for input {}, got {}", i, M, x.size(-1), x.desc(), ws[i].desc());
  }
  MRNN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == M), "fuse: bias must be [{}], got {}", M,
             bias.desc());

  std::vector<Tensor> x2(n), wd(n);
  Tensor out, seq_term, bias_c;
  {
    NoGradGuard ng;
    for (size_t i = 0; i < n; ++i) {
      x2[i] = per_sequence[i] ? xs[i].detach() : reshape(xs[i].detach(), {B * T, xs[i].size(-1)});
      wd[i] = ws[i].detach();
    }
    if (bias.defined()) bias_c = bias.detach().contiguous();
    out = Tensor::empty({B * T, M}, x0.dtype(), x0.device());
  }
  const Device dev = x0.device();
  bool first_step = true, first_seq = true;
  for (size_t i = 0; i < n; ++i) {
    if (per_sequence[i]) {  // once per sequence, broadcast over time by the epilogue
      if (first_seq) seq_term = Tensor::empty({B, M}, x0.dtype(), dev);
      MRNN_DISPATCH(dev, gemm, x2[i], false, wd[i], true, seq_term, 1.0, first_seq ? 0.0 : 1.0);
      first_seq = false;
    } else {
      MRNN_DISPATCH(dev, gemm, x2[i], false, wd[i], true, out, 1.0, first_step ? 0.0 : 1.0);
      first_step = false;
    }
  }
  MRNN_DISPATCH(dev, fuse_forward_epilogue, seq_term, bias_c, T, act, out);
  Shape out_shape = seq ? Shape{B, T, M} : Shape{B, M};
  Tensor m = Tensor::view_of(out, out_shape, contiguous_strides(out_shape), 0);

  std::vector<Tensor> inputs(xs);
  inputs.insert(inputs.end(), ws.begin(), ws.end());
  inputs.push_back(bias);
  if (needs_grad(inputs)) {
    std::vector<bool> gx(n), gw(n);
    std::vector<Shape> shapes(n);
    for (size_t i = 0; i < n; ++i) {
      gx[i] = xs[i].requires_grad();
      gw[i] = ws[i].requires_grad();
      shapes[i] = xs[i].shape();
      if (per_sequence[i] && gw[i]) x2[i] = x2[i].contiguous();
    }
    const bool gb = bias.defined() && bias.requires_grad();
    attach_grad(m, op, inputs,
                [out, x2, wd, per_sequence, gx, gw, gb, shapes, act, B, T, M](const Tensor& g) {
                  const size_t n = x2.size();
                  Tensor dpre = Tensor::empty({B * T, M}, out.dtype(), out.device());
                  Tensor dseq = Tensor::empty({B, M}, out.dtype(), out.device());
                  Tensor db = Tensor::empty({M}, out.dtype(), out.device());
                  Tensor g2 = reshape(g, {B * T, M}).contiguous();
                  // dpre, the per-sequence term's gradient (summed over time) and the bias gradient
                  MRNN_DISPATCH(out.device(), fuse_backward_epilogue, out, g2, T, act, dpre, dseq, db);
                  std::vector<Tensor> grads(2 * n + 1);
                  for (size_t i = 0; i < n; ++i) {
                    const Tensor& d = per_sequence[i] ? dseq : dpre;
                    const int64_t rows = d.size(0);
                    if (gx[i]) grads[i] = reshape(mm(d, false, wd[i], false, rows, wd[i].size(1)), shapes[i]);
                    if (gw[i]) grads[n + i] = mm(d, true, x2[i], false, M, x2[i].size(1));
                  }
                  if (gb) grads[2 * n] = db;
                  return grads;
                });
  }
  return m;
}

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
  return fuse({w, r, img}, {Vw, Vr, Vi}, bias, FuseActivation::ScaledTanh, {false, false, true});
}

}  // namespace mrnn
