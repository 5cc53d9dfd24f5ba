// embedding, dropout, conv2d and pooling front-ends: CUDA (cuDNN), oneDNN for f32 on the CPU when built
// with it (kernels/cpu/dnnl_conv.h), else the reference im2col path (kernels/conv_reference.h).
#include "kernels/conv_reference.h"
#include "kernels/conv_shape.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#ifdef MRNN_WITH_DNNL
#include "kernels/cpu/dnnl_conv.h"
#endif

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

#ifdef MRNN_WITH_DNNL
// f32 conv2d through oneDNN (kernels/cpu/dnnl_conv.h): forward with the bias, backward-data for x
// and backward-weights (+ bias) for w and b, each run only when its input needs a gradient.
Tensor conv2d_onednn(const Tensor& x, const Tensor& w, const Tensor& b, const cpu::DnnlConv2d& s) {
  Tensor xc = x.contiguous().detach(), wc = w.contiguous().detach(), bc = b.defined() ? b.contiguous().detach() : b;
  Tensor out = Tensor::empty({s.N, s.O, s.OH, s.OW});
  cpu::dnnl_conv2d_forward(s, xc, wc, bc, out);
  std::vector<Tensor> inputs{x, w};
  if (b.defined()) inputs.push_back(b);
  if (needs_grad(inputs)) {
    const bool gx_on = x.requires_grad(), gw_on = w.requires_grad(), gb_on = b.defined() && b.requires_grad();
    attach_grad(out, "conv2d", inputs, [xc, wc, s, gx_on, gw_on, gb_on](const Tensor& g) {
      Tensor gc = g.contiguous();
      Tensor gx = gx_on ? Tensor::empty(xc.shape()) : Tensor();
      Tensor gw = gw_on || gb_on ? Tensor::empty(wc.shape()) : Tensor();
      Tensor gb = gb_on ? Tensor::empty({s.O}) : Tensor();
      cpu::dnnl_conv2d_backward(s, xc, gc, wc, gx, gw, gb);
      std::vector<Tensor> r{gx, gw_on ? gw : Tensor()};
      if (s.bias) r.push_back(gb_on ? gb : Tensor());
      return r;
    });
  }
  return out;
}

// f32 max pooling through oneDNN; the backward uses the workspace (the argmax) of the forward.
Tensor max_pool2d_onednn(const Tensor& x, const cpu::DnnlPool2d& s) {
  Tensor xc = x.contiguous().detach();
  Tensor out = Tensor::empty({s.N, s.C, s.OH, s.OW});
  const bool train = needs_grad({&x});
  Tensor ws = cpu::dnnl_max_pool2d_forward(s, xc, out, train);
  if (train) {
    attach_grad(out, "max_pool2d", {x}, [s, ws](const Tensor& g) {
      Tensor gx = Tensor::empty({s.N, s.C, s.H, s.W});
      cpu::dnnl_max_pool2d_backward(s, g.contiguous(), ws, gx);
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}
#endif

// f32 2x2 stride-2 pooling by kernels/cpu/pool2x2.cpp; the winners (one byte each) live in an f32
// tensor of a quarter the size for the backward.
Tensor max_pool2x2_cpu(const Tensor& x, const Pool2dDims& d) {
  Tensor xc = x.contiguous().detach();
  Tensor out = Tensor::empty({d.N, d.C, d.OH, d.OW});
  Tensor which = Tensor::empty({(d.N * d.C * d.OH * d.OW + 3) / 4});
  cpu::max_pool2x2(xc, out, static_cast<uint8_t*>(which.raw_data()));
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    attach_grad(out, "max_pool2d", {x}, [which, in_shape](const Tensor& g) {
      Tensor gx = Tensor::empty(in_shape);
      cpu::max_pool2x2_backward(g.contiguous(), static_cast<const uint8_t*>(which.raw_data()), gx);
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, const char* op) {
  MRNN_CHECK(s >= 1 && p >= 0 && k >= 1, "{}: kernel {}, stride {}, padding {} are invalid", op, k, s, p);
  MRNN_CHECK(in + 2 * p >= k, "{}: input size {} (+2*padding {}) is smaller than the kernel {}", op, in, p, k);
  return (in + 2 * p - k) / s + 1;
}
}  // namespace

Conv2dDims check_conv2d(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride,
                        int64_t padding) {
  check_defined(op, {&x, &w});
  check_same_device(op, {&x, &w});
  check_same_dtype(op, {&x, &w});
  require_backend(op, x);
  MRNN_CHECK(x.dim() == 4 && w.dim() == 4 && x.size(1) == w.size(1),
             "{}: input {} and weight {} must be [N, C, H, W] and [O, C, KH, KW]", op, x.desc(), w.desc());
  if (b.defined()) {
    check_same_device(op, {&x, &b});
    check_same_dtype(op, {&x, &b});
    MRNN_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "{}: bias {} must be [{}]", op, b.desc(), w.size(0));
  }
  MRNN_CHECK(w.size(2) == w.size(3), "{}: only square kernels are supported, got {}", op, w.desc());
  const int64_t K = w.size(2);
  return {x.size(0), x.size(1),        x.size(2), x.size(3), w.size(0), K, out_size(x.size(2), K, stride, padding, op),
          out_size(x.size(3), K, stride, padding, op)};
}

Pool2dDims check_pool2d(const char* op, const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                        bool is_max) {
  check_defined(op, {&x});
  require_backend(op, x);
  MRNN_CHECK(x.dim() == 4, "{}: input must be [N, C, H, W], got {}", op, x.desc());
  if (is_max)
    MRNN_CHECK(padding * 2 <= kernel, "{}: padding {} must be at most half the kernel {}", op, padding, kernel);
  return {x.size(0), x.size(1), x.size(2), x.size(3), out_size(x.size(2), kernel, stride, padding, op),
          out_size(x.size(3), kernel, stride, padding, op)};
}

const char* cpu_conv_backend() {
#ifdef MRNN_WITH_DNNL
  return "oneDNN";
#else
  return "im2col+OpenBLAS";
#endif
}

std::string conv2d_cpu_implementation(const Tensor& x, const Tensor& w, bool bias, int64_t stride, int64_t padding) {
  [[maybe_unused]] const Conv2dDims d = check_conv2d("conv2d_cpu_implementation", x, w, Tensor(), stride, padding);
#ifdef MRNN_WITH_DNNL
  if (d.N > 0) return cpu::dnnl_conv2d_implementation({d.N, d.C, d.H, d.W, d.O, d.K, d.OH, d.OW, stride, padding, bias});
#endif
  return "im2col+OpenBLAS";
}

std::string max_pool2d_cpu_implementation(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  [[maybe_unused]] const Pool2dDims d = check_pool2d("max_pool2d_cpu_implementation", x, kernel, stride, padding, true);
  if (x.dtype() == DType::F32 && kernel == 2 && stride == 2 && padding == 0) return "2x2 kernel (kernels/cpu/pool2x2.cpp)";
#ifdef MRNN_WITH_DNNL
  if (d.N * d.C > 0) return cpu::dnnl_max_pool2d_implementation({d.N, d.C, d.H, d.W, d.OH, d.OW, kernel, stride, padding});
#endif
  return "loop";
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding) {
  [[maybe_unused]] const Conv2dDims d = check_conv2d("conv2d", x, w, b, stride, padding);
#ifdef MRNN_WITH_CUDA
  if (x.device().is_cuda()) return conv2d_cuda(x, w, b, stride, padding, d.OH, d.OW);
#endif
#ifdef MRNN_WITH_DNNL
  if (x.dtype() == DType::F32 && d.N > 0)
    return conv2d_onednn(x, w, b, {d.N, d.C, d.H, d.W, d.O, d.K, d.OH, d.OW, stride, padding, b.defined()});
#endif
  return conv2d_im2col(x, w, b, stride, padding);
}

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  [[maybe_unused]] const Pool2dDims d = check_pool2d("max_pool2d", x, kernel, stride, padding, true);
#ifdef MRNN_WITH_CUDA
  if (x.device().is_cuda()) return pool2d_cuda(true, x, kernel, stride, padding, d.OH, d.OW);
#endif
  // The encoder's pool: a kernel of our own, faster than oneDNN's NCHW pooling (docs/performance.md).
  if (x.dtype() == DType::F32 && kernel == 2 && stride == 2 && padding == 0) return max_pool2x2_cpu(x, d);
#ifdef MRNN_WITH_DNNL
  if (x.dtype() == DType::F32 && d.N * d.C > 0)
    return max_pool2d_onednn(x, {d.N, d.C, d.H, d.W, d.OH, d.OW, kernel, stride, padding});
#endif
  return max_pool2d_loop(x, kernel, stride, padding);
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const Pool2dDims d = check_pool2d("avg_pool2d", x, kernel, stride, padding, false);
  const int64_t OH = d.OH, OW = d.OW;
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
