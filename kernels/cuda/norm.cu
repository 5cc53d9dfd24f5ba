// CUDA layer normalisation: one thread per row (forward and input gradient) and one per column
// (weight and bias gradients), running the same per-row functions as the CPU
// (kernels/common/layer_norm.h). A reference-speed kernel: correct and deterministic, not tuned
// (a warp-per-row version is the obvious next step once a GPU profile says it matters).
#include "kernels/common/layer_norm.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace mrnn::cuda {

namespace {

template <typename T>
__global__ void layer_norm_kernel(const T* x, const T* w, const T* b, double eps, int64_t rows, int64_t n, T* y, T* mean,
                                  T* rstd) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  layer_norm_row_stats(x + r * n, n, eps, mean + r, rstd + r);
  layer_norm_row_forward(x + r * n, w, b, n, mean[r], rstd[r], y + r * n);
}

template <typename T>
__global__ void layer_norm_gx_kernel(const T* x, const T* w, const T* mean, const T* rstd, const T* g, int64_t rows,
                                     int64_t n, T* gx) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  layer_norm_row_backward(x + r * n, w, g + r * n, n, mean[r], rstd[r], gx + r * n);
}

template <typename T>
__global__ void layer_norm_params_kernel(const T* x, const T* g, const T* mean, const T* rstd, int64_t rows, int64_t n,
                                         T* gw, T* gb) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= n) return;
  layer_norm_column_grads(x, g, mean, rstd, rows, n, j, gw, gb);
}

template <typename T>
const T* opt(const Tensor& t) { return t.defined() ? ptr<T>(t) : nullptr; }
template <typename T>
T* opt_mut(const Tensor& t) { return t.defined() ? ptr<T>(t) : nullptr; }

unsigned blocks(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

}  // namespace

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd) {
  common_device("layer_norm", {&x, &y, &mean, &rstd});
  const int64_t n = x.size(-1), rows = x.numel() / n;
  if (rows == 0) return;
  dispatch_float(x.dtype(), "layer_norm", [&](auto z) {
    using T = decltype(z);
    Launch l(x);
    layer_norm_kernel<T><<<blocks(rows), kThreads, 0, l.stream>>>(ptr<T>(x), opt<T>(w), opt<T>(b), eps, rows, n,
                                                                   ptr<T>(y), ptr<T>(mean), ptr<T>(rstd));
    MRNN_CUDA_CHECK_LAUNCH("layer_norm", l.stream);
  });
}

void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  common_device("layer_norm_backward", {&x, &mean, &rstd, &g});
  const int64_t n = x.size(-1), rows = x.numel() / n;
  if (rows == 0) return;
  dispatch_float(x.dtype(), "layer_norm_backward", [&](auto z) {
    using T = decltype(z);
    Launch l(x);
    if (gx.defined()) {
      layer_norm_gx_kernel<T><<<blocks(rows), kThreads, 0, l.stream>>>(ptr<T>(x), opt<T>(w), ptr<T>(mean), ptr<T>(rstd),
                                                                        ptr<T>(g), rows, n, ptr<T>(gx));
      MRNN_CUDA_CHECK_LAUNCH("layer_norm_backward", l.stream);
    }
    if (gw.defined() || gb.defined()) {
      layer_norm_params_kernel<T><<<blocks(n), kThreads, 0, l.stream>>>(ptr<T>(x), ptr<T>(g), ptr<T>(mean), ptr<T>(rstd),
                                                                         rows, n, opt_mut<T>(gw), opt_mut<T>(gb));
      MRNN_CUDA_CHECK_LAUNCH("layer_norm_backward", l.stream);
    }
  });
}

}  // namespace mrnn::cuda
