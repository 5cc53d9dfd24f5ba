// Row-wise softmax building blocks shared by the CPU and CUDA kernels: a numerically safe
// log-sum-exp (subtract the row max) and the cross-entropy gradient formula.
#pragma once
#include <cmath>

#include "kernels/common/host_device.h"

namespace mrnn {

// log(sum_j exp(x[j])) over n values with stride 1; double accumulation for f32 rows.
template <typename T>
MRNN_HD double row_logsumexp(const T* x, long n) {
  double m = -INFINITY;
  for (long j = 0; j < n; ++j) m = x[j] > m ? static_cast<double>(x[j]) : m;
  if (m == -INFINITY) return m;
  double s = 0;
  for (long j = 0; j < n; ++j) s += std::exp(static_cast<double>(x[j]) - m);
  return m + std::log(s);
}

// d loss / d logit_j for one row of mean cross entropy: scale * (p_j - [j == target]).
template <typename T>
MRNN_HD T cross_entropy_grad(T logit, double lse, bool is_target, double scale) {
  double p = std::exp(static_cast<double>(logit) - lse);
  return static_cast<T>(scale * (p - (is_target ? 1.0 : 0.0)));
}

}  // namespace mrnn
