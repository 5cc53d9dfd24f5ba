// embedding, dropout, conv2d and pooling front-ends.
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  check_defined("embedding", {&weight, &indices});
  check_same_device("embedding", {&weight, &indices});
  require_backend("embedding", weight);
  MRNN_CHECK(weight.dim() == 2, "embedding: weight must be [V, D], got {}", weight.desc());
  MRNN_CHECK(indices.dtype() == DType::I64 || indices.dtype() == DType::I32,
             "embedding: indices must be i64 or i32, got {}", indices.desc());
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  Tensor w = weight.contiguous().detach(), idx = indices.contiguous();
  Tensor out = Tensor::empty(shape, weight.dtype(), weight.device());
  MRNN_DISPATCH(w.device(), embedding, w, idx, out);
  if (needs_grad({&weight})) {
    Shape wshape = weight.shape();
    DType dt = weight.dtype();
    attach_grad(out, "embedding", {weight}, [idx, wshape, dt](const Tensor& g) {
      Tensor gw = Tensor::zeros(wshape, dt, g.device());
      MRNN_DISPATCH(gw.device(), embedding_backward, g.contiguous(), idx, gw);
      return std::vector<Tensor>{gw};
    });
  }
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  check_defined("dropout", {&x});
  MRNN_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got {}", p);
  if (!training || p == 0) return x;
  require_backend("dropout", x);
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  const uint64_t offset = gen.advance(static_cast<uint64_t>(x.numel()));
  MRNN_DISPATCH(mask.device(), dropout_mask, gen.seed(), offset, p, mask);
  return mul(x, mask);
}

namespace {
#ifdef MRNN_WITH_CUDA
// conv2d on CUDA: cuDNN forward (bias added there) and one backward call for all gradients.
Tensor conv2d_cuda(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding, int64_t OH,
                   int64_t OW) {
  if (b.defined()) {
    check_same_device("conv2d", {&x, &b});
    check_same_dtype("conv2d", {&x, &b});
  }
  Tensor xc = x.contiguous().detach(), wc = w.contiguous().detach(), bc = b.defined() ? b.contiguous().detach() : b;
  Tensor out = Tensor::empty({x.size(0), w.size(0), OH, OW}, x.dtype(), x.device());
  cuda::conv2d_forward(xc, wc, bc, stride, padding, out);
  std::vector<Tensor> inputs{x, w};
  if (b.defined()) inputs.push_back(b);
  if (needs_grad(inputs)) {
    const bool gx_on = x.requires_grad(), gw_on = w.requires_grad(), gb_on = b.defined() && b.requires_grad();
    const bool has_b = b.defined();
    attach_grad(out, "conv2d", inputs, [xc, wc, gx_on, gw_on, gb_on, has_b, stride, padding](const Tensor& g) {
      Tensor gx = gx_on ? Tensor::empty(xc.shape(), xc.dtype(), xc.device()) : Tensor();
      Tensor gw = gw_on ? Tensor::empty(wc.shape(), wc.dtype(), wc.device()) : Tensor();
      Tensor gb = gb_on ? Tensor::empty({wc.size(0)}, wc.dtype(), wc.device()) : Tensor();
      cuda::conv2d_backward(xc, wc, g.contiguous(), stride, padding, gx, gw, gb);
      std::vector<Tensor> r{gx, gw};
      if (has_b) r.push_back(gb);
      return r;
    });
  }
  return out;
}

// Pooling on CUDA through cuDNN; backward needs the input and the output (no argmax tensor).
Tensor pool2d_cuda(bool is_max, const Tensor& x, int64_t kernel, int64_t stride, int64_t padding, int64_t OH,
                   int64_t OW) {
  Tensor xc = x.contiguous().detach();
  Tensor out = Tensor::empty({x.size(0), x.size(1), OH, OW}, x.dtype(), x.device());
  if (is_max) cuda::max_pool2d(xc, kernel, stride, padding, out);
  else cuda::avg_pool2d(xc, kernel, stride, padding, out);
  if (needs_grad({&x})) {
    Tensor y = out.detach();
    attach_grad(out, is_max ? "max_pool2d" : "avg_pool2d", {x},
                [is_max, xc, y, kernel, stride, padding](const Tensor& g) {
                  Tensor gx = Tensor::empty(xc.shape(), xc.dtype(), xc.device());
                  cuda::pool2d_backward(is_max, xc, y, g.contiguous(), kernel, stride, padding, gx);
                  return std::vector<Tensor>{gx};
                });
  }
  return out;
}
#endif

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, const char* op) {
  MRNN_CHECK(s >= 1 && p >= 0 && k >= 1, "{}: kernel {}, stride {}, padding {} are invalid", op, k, s, p);
  MRNN_CHECK(in + 2 * p >= k, "{}: input size {} (+2*padding {}) is smaller than the kernel {}", op, in, p, k);
  return (in + 2 * p - k) / s + 1;
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding) {
  check_defined("conv2d", {&x, &w});
  check_same_device("conv2d", {&x, &w});
  check_same_dtype("conv2d", {&x, &w});
  require_backend("conv2d", x);
  MRNN_CHECK(x.dim() == 4 && w.dim() == 4 && x.size(1) == w.size(1),
             "conv2d: input {} and weight {} must be [N, C, H, W] and [O, C, KH, KW]", x.desc(), w.desc());
  if (b.defined()) MRNN_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "conv2d: bias {} must be [{}]", b.desc(), w.size(0));
  const int64_t N = x.size(0), O = w.size(0), KH = w.size(2), KW = w.size(3);
  MRNN_CHECK(KH == KW, "conv2d: only square kernels are supported, got {}", w.desc());
  const int64_t OH = out_size(x.size(2), KH, stride, padding, "conv2d");
  const int64_t OW = out_size(x.size(3), KW, stride, padding, "conv2d");
  const int64_t CKK = w.size(1) * KH * KW, L = OH * OW;
#ifdef MRNN_WITH_CUDA
  if (x.device().is_cuda()) return conv2d_cuda(x, w, b, stride, padding, OH, OW);
#endif
  Tensor xc = x.contiguous().detach(), w2 = reshape(w.detach(), {O, CKK});
  Tensor out = Tensor::empty({N, O, OH, OW}, x.dtype(), x.device());
  Tensor cols = Tensor::empty({CKK, L}, x.dtype(), x.device());
  for (int64_t n = 0; n < N; ++n) {
    cpu::im2col(xc, n, KH, KW, stride, padding, cols);
    Tensor on = Tensor::view_of(out, {O, L}, {L, 1}, n * O * L);
    cpu::gemm(w2, false, cols, false, on, 1.0, 0.0);
  }
  if (b.defined()) {
    NoGradGuard ng;
    Tensor o3 = reshape(out, {N, O, L});
    o3.copy_(add(o3, reshape(b.detach(), {1, O, 1})));
  }
  std::vector<Tensor> inputs{x, w};
  if (b.defined()) inputs.push_back(b);
  if (needs_grad(inputs)) {
    bool gx_on = x.requires_grad(), gw_on = w.requires_grad(), has_b = b.defined();
    Shape wshape = w.shape();
    attach_grad(out, "conv2d", inputs,
                [xc, w2, wshape, gx_on, gw_on, has_b, KH, KW, stride, padding, O, CKK, L](const Tensor& g) {
                  const int64_t N = xc.size(0);
                  Tensor gc = g.contiguous();
                  Tensor gx = gx_on ? Tensor::zeros(xc.shape(), xc.dtype(), xc.device()) : Tensor();
                  Tensor gw2 = Tensor::zeros({O, CKK}, xc.dtype(), xc.device());
                  Tensor cols = Tensor::empty({CKK, L}, xc.dtype(), xc.device());
                  for (int64_t n = 0; n < N; ++n) {
                    Tensor gn = Tensor::view_of(gc, {O, L}, {L, 1}, gc.offset() + n * O * L);
                    if (gw_on) {
                      cpu::im2col(xc, n, KH, KW, stride, padding, cols);
                      cpu::gemm(gn, false, cols, true, gw2, 1.0, 1.0);
                    }
                    if (gx_on) {
                      cpu::gemm(w2, true, gn, false, cols, 1.0, 0.0);
                      cpu::col2im(cols, n, KH, KW, stride, padding, gx);
                    }
                  }
                  std::vector<Tensor> r{gx, gw_on ? reshape(gw2, wshape) : Tensor()};
                  if (has_b) r.push_back(sum(reshape(gc, {N, O, L}), {0, 2}));
                  return r;
                });
  }
  return out;
}

namespace {
void check_pool(const char* op, const Tensor& x) {
  check_defined(op, {&x});
  require_backend(op, x);
  MRNN_CHECK(x.dim() == 4, "{}: input must be [N, C, H, W], got {}", op, x.desc());
}
}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  check_pool("max_pool2d", x);
  MRNN_CHECK(padding * 2 <= kernel, "max_pool2d: padding {} must be at most half the kernel {}", padding, kernel);
  const int64_t OH = out_size(x.size(2), kernel, stride, padding, "max_pool2d");
  const int64_t OW = out_size(x.size(3), kernel, stride, padding, "max_pool2d");
#ifdef MRNN_WITH_CUDA
  if (x.device().is_cuda()) return pool2d_cuda(true, x, kernel, stride, padding, OH, OW);
#endif
  Tensor out = Tensor::empty({x.size(0), x.size(1), OH, OW}, x.dtype(), x.device());
  Tensor arg = Tensor::empty(out.shape(), DType::I64, x.device());
  cpu::max_pool2d(x.contiguous(), kernel, stride, padding, out, arg);
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    DType dt = x.dtype();
    attach_grad(out, "max_pool2d", {x}, [arg, in_shape, dt](const Tensor& g) {
      Tensor gx = Tensor::zeros(in_shape, dt, g.device());
      cpu::max_pool2d_backward(g.contiguous(), arg, gx);
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  check_pool("avg_pool2d", x);
  const int64_t OH = out_size(x.size(2), kernel, stride, padding, "avg_pool2d");
  const int64_t OW = out_size(x.size(3), kernel, stride, padding, "avg_pool2d");
#ifdef MRNN_WITH_CUDA
  if (x.device().is_cuda()) return pool2d_cuda(false, x, kernel, stride, padding, OH, OW);
#endif
  Tensor out = Tensor::empty({x.size(0), x.size(1), OH, OW}, x.dtype(), x.device());
  cpu::avg_pool2d(x.contiguous(), kernel, stride, padding, out);
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    DType dt = x.dtype();
    attach_grad(out, "avg_pool2d", {x}, [in_shape, dt, kernel, stride, padding](const Tensor& g) {
      Tensor gx = Tensor::zeros(in_shape, dt, g.device());
      cpu::avg_pool2d_backward(g.contiguous(), kernel, stride, padding, gx);
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}

}  // namespace mrnn
