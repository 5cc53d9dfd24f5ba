// The reference CPU convolution (im2col + OpenBLAS GEMM per image) and max pooling (a loop), with
// autograd; kernels/conv_reference.h says when they run and how the images are split over threads.
#include <omp.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "core/autograd.h"
#include "kernels/conv_reference.h"
#include "kernels/conv_shape.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

// Threads for N images: OpenMP's team size, at most one per image.
int threads_for(int64_t N) { return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), N))); }

std::vector<Tensor> column_buffers(int T, int64_t rows, int64_t cols, DType dt) {
  std::vector<Tensor> b(static_cast<size_t>(T));
  for (Tensor& t : b) t = Tensor::empty({rows, cols}, dt);
  return b;
}

// fn(thread, image) for every image, images split statically over T threads (thread t always gets
// the same images, whatever the timing). Inside, im2col's loop and OpenBLAS run on one thread
// (nested regions are inactive). The first exception is rethrown after the loop.
template <class Fn>
void parallel_images(int64_t N, int T, Fn fn) {
  std::exception_ptr err;
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      try {
        fn(t, n);
      } catch (...) {
#pragma omp critical(mrnn_conv_im2col_error)
        if (!err) err = std::current_exception();
      }
    }
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace

Tensor conv2d_im2col(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding) {
  const Conv2dDims d = check_conv2d("conv2d_im2col", x, w, b, stride, padding);
  MRNN_CHECK(x.device().is_cpu(), "conv2d_im2col: runs on the CPU only, got {}", x.desc());
  const int64_t N = d.N, O = d.O, KH = d.K, KW = d.K, OH = d.OH, OW = d.OW;
  const int64_t CKK = d.C * KH * KW, L = OH * OW;
  Tensor xc = x.contiguous().detach(), w2 = reshape(w.detach(), {O, CKK});
  Tensor out = Tensor::empty({N, O, OH, OW}, x.dtype(), x.device());
  const int T = threads_for(N);
  std::vector<Tensor> cols = column_buffers(T, CKK, L, x.dtype());
  parallel_images(N, T, [&](int t, int64_t n) {
    cpu::im2col(xc, n, KH, KW, stride, padding, cols[t]);
    Tensor on = Tensor::view_of(out, {O, L}, {L, 1}, n * O * L);
    cpu::gemm(w2, false, cols[t], false, on, 1.0, 0.0);
  });
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
                  const int T = threads_for(N);
                  std::vector<Tensor> cols = column_buffers(T, CKK, L, xc.dtype());
                  // one weight-gradient partial sum per thread, added in thread order below
                  std::vector<Tensor> gw_part(gw_on ? T : 0);
                  for (Tensor& p : gw_part) p = Tensor::zeros({O, CKK}, xc.dtype(), xc.device());
                  parallel_images(N, T, [&](int t, int64_t n) {
                    Tensor gn = Tensor::view_of(gc, {O, L}, {L, 1}, gc.offset() + n * O * L);
                    if (gw_on) {
                      cpu::im2col(xc, n, KH, KW, stride, padding, cols[t]);
                      cpu::gemm(gn, false, cols[t], true, gw_part[t], 1.0, 1.0);
                    }
                    if (gx_on) {  // col2im writes image n only
                      cpu::gemm(w2, true, gn, false, cols[t], 1.0, 0.0);
                      cpu::col2im(cols[t], n, KH, KW, stride, padding, gx);
                    }
                  });
                  Tensor gw2;
                  if (gw_on) {
                    NoGradGuard ng;
                    gw2 = gw_part[0];
                    for (int t = 1; t < T; ++t) gw2 = add(gw2, gw_part[t]);
                  }
                  std::vector<Tensor> r{gx, gw_on ? reshape(gw2, wshape) : Tensor()};
                  if (has_b) r.push_back(sum(reshape(gc, {N, O, L}), {0, 2}));
                  return r;
                });
  }
  return out;
}

Tensor max_pool2d_loop(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const Pool2dDims d = check_pool2d("max_pool2d_loop", x, kernel, stride, padding, true);
  MRNN_CHECK(x.device().is_cpu(), "max_pool2d_loop: runs on the CPU only, got {}", x.desc());
  Tensor out = Tensor::empty({d.N, d.C, d.OH, d.OW}, x.dtype(), x.device());
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

}  // namespace mrnn
