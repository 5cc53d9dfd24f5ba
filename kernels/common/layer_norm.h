// Per-row math of layer normalisation over the last dim, shared by the CPU loop and the CUDA
// kernel (MRNN_HD), so the CPU tests check the formulas the GPU runs. Accumulation is in double:
// a row of thousands of f32 values keeps its mean and variance to f32 rounding.
//   y = (x - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps),  var the biased variance.
//   gx = rstd * (gw_hat - mean(gw_hat) - xhat * mean(gw_hat * xhat)), gw_hat = g * w.
// w and b may be null (no elementwise affine: w = 1, b = 0).
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common/host_device.h"

namespace mrnn {

// Two passes (mean, then squared deviations). Requires n >= 1.
template <typename T>
MRNN_HD void layer_norm_row_stats(const T* x, int64_t n, double eps, T* mean_out, T* rstd_out) {
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += static_cast<double>(x[j]);
  const double mean = s / static_cast<double>(n);
  double v = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double d = static_cast<double>(x[j]) - mean;
    v += d * d;
  }
  *mean_out = static_cast<T>(mean);
  *rstd_out = static_cast<T>(1.0 / std::sqrt(v / static_cast<double>(n) + eps));
}

template <typename T>
MRNN_HD void layer_norm_row_forward(const T* x, const T* w, const T* b, int64_t n, T mean, T rstd, T* y) {
  for (int64_t j = 0; j < n; ++j) {
    const T xhat = (x[j] - mean) * rstd;
    y[j] = xhat * (w ? w[j] : T(1)) + (b ? b[j] : T(0));
  }
}

template <typename T>
MRNN_HD void layer_norm_row_backward(const T* x, const T* w, const T* g, int64_t n, T mean, T rstd, T* gx) {
  double s1 = 0, s2 = 0;  // sum of g*w and of g*w*xhat
  for (int64_t j = 0; j < n; ++j) {
    const double gw = static_cast<double>(g[j]) * (w ? static_cast<double>(w[j]) : 1.0);
    s1 += gw;
    s2 += gw * (static_cast<double>(x[j]) - mean) * rstd;
  }
  const double m1 = s1 / static_cast<double>(n), m2 = s2 / static_cast<double>(n);
  for (int64_t j = 0; j < n; ++j) {
    const double gw = static_cast<double>(g[j]) * (w ? static_cast<double>(w[j]) : 1.0);
    const double xhat = (static_cast<double>(x[j]) - mean) * rstd;
    gx[j] = static_cast<T>(static_cast<double>(rstd) * (gw - m1 - xhat * m2));
  }
}

// Column j of the weight and bias gradients: sums over rows of g * xhat and of g. x and g are
// contiguous [rows, n]; mean and rstd [rows]. gw or gb may be null (not wanted).
template <typename T>
MRNN_HD void layer_norm_column_grads(const T* x, const T* g, const T* mean, const T* rstd, int64_t rows, int64_t n,
                                     int64_t j, T* gw, T* gb) {
  double sw = 0, sb = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const double gv = static_cast<double>(g[r * n + j]);
    sw += gv * (static_cast<double>(x[r * n + j]) - mean[r]) * rstd[r];
    sb += gv;
  }
  if (gw) gw[j] = static_cast<T>(sw);
  if (gb) gb[j] = static_cast<T>(sb);
}

}  // namespace mrnn
