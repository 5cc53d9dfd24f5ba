// Merging two partial log-sum-exp states (max m, sum of e^(x - m)) into one, the step of an
// online log-sum-exp over vocabulary chunks (linear_cross_entropy_loss in kernels/fused.h). Shared
// by the CPU (kernels/cpu/softmax_xent.cpp) and CUDA (kernels/cuda/xent.cu) chunk kernels so both
// rescale the running sum with the same formula (fast_exp: exact libm for f64).
#pragma once
#include <cmath>

#include "kernels/common/fast_math.h"
#include "kernels/common/host_device.h"

namespace mrnn {

// The sum of the merged state, relative to max(m1, m2): s1 e^(m1 - M) + s2 e^(m2 - M). Two empty
// states (both maxima -inf) give s1 + s2 (0).
template <typename T>
MRNN_HD T online_lse_merge(T m1, T s1, T m2, T s2) {
  const T m = m1 > m2 ? m1 : m2;
  if (m == T(-INFINITY)) return s1 + s2;
  return s1 * fast_exp(m1 - m) + s2 * fast_exp(m2 - m);
}

}  // namespace mrnn
