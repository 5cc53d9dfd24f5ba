// CPU layer normalisation: rows (and, for the parameter gradients, columns) in parallel; the
// math is kernels/common/layer_norm.h.
#include "kernels/common/layer_norm.h"
#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

namespace {
template <typename T>
const T* opt(const Tensor& t) { return t.defined() ? t.data<T>("layer_norm") : nullptr; }
template <typename T>
T* opt_mut(const Tensor& t) { return t.defined() ? t.data<T>("layer_norm") : nullptr; }
}  // namespace

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd) {
  dispatch_float(x.dtype(), "layer_norm", [&](auto z) {
    using T = decltype(z);
    const int64_t n = x.size(-1), rows = x.numel() / n;
    const T *px = x.data<T>("layer_norm"), *pw = opt<T>(w), *pb = opt<T>(b);
    T *py = y.data<T>("layer_norm"), *pm = mean.data<T>("layer_norm"), *pr = rstd.data<T>("layer_norm");
#pragma omp parallel for schedule(static) if (rows * n > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      layer_norm_row_stats(px + r * n, n, eps, pm + r, pr + r);
      layer_norm_row_forward(px + r * n, pw, pb, n, pm[r], pr[r], py + r * n);
    }
  });
}

void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  dispatch_float(x.dtype(), "layer_norm_backward", [&](auto z) {
    using T = decltype(z);
    const int64_t n = x.size(-1), rows = x.numel() / n;
    const T *px = x.data<T>("layer_norm"), *pw = opt<T>(w), *pg = g.data<T>("layer_norm");
    const T *pm = mean.data<T>("layer_norm"), *pr = rstd.data<T>("layer_norm");
    T *pgx = opt_mut<T>(gx), *pgw = opt_mut<T>(gw), *pgb = opt_mut<T>(gb);
    if (pgx) {
#pragma omp parallel for schedule(static) if (rows * n > 32768)
      for (int64_t r = 0; r < rows; ++r) layer_norm_row_backward(px + r * n, pw, pg + r * n, n, pm[r], pr[r], pgx + r * n);
    }
    if (pgw || pgb) {
#pragma omp parallel for schedule(static) if (rows * n > 32768)
      for (int64_t j = 0; j < n; ++j) layer_norm_column_grads(px, pg, pm, pr, rows, n, j, pgw, pgb);
    }
  });
}

}  // namespace mrnn::cpu
