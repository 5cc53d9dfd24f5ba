// Reductions over the middle axis of a contiguous [outer, n, inner] tensor. Every reduction over
// a run of consecutive dims maps onto this shape without copying.
#include <limits>

#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

void sum_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  dispatch_float(x.dtype(), "sum", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * n > 32768 && outer > 1)
      for (int64_t o = 0; o < outer; ++o) {
        double acc = 0;  // double accumulation keeps long f32 sums (losses, norms) accurate
        const T* row = px + o * n;
        for (int64_t j = 0; j < n; ++j) acc += row[j];
        po[o] = static_cast<T>(acc);
      }
      return;
    }
    // Column sums: parallel over (outer, inner chunk) so a single [n, inner] block still splits.
    const int64_t chunk = 256, nchunks = (inner + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (outer * n * inner > 32768)
    for (int64_t t = 0; t < outer * nchunks; ++t) {
      const int64_t o = t / nchunks, c0 = (t % nchunks) * chunk, c1 = std::min(inner, c0 + chunk);
      T* dst = po + o * inner;
      for (int64_t i = c0; i < c1; ++i) dst[i] = T(0);
      for (int64_t j = 0; j < n; ++j) {
        const T* src = px + (o * n + j) * inner;
#pragma omp simd
        for (int64_t i = c0; i < c1; ++i) dst[i] += src[i];
      }
    }
  });
}

void max_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out, const Tensor& argmax) {
  MRNN_CHECK(n > 0, "max: cannot reduce over an empty dimension of {}", x.desc());
  dispatch_float(x.dtype(), "max", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pi = argmax.data<int64_t>();
#pragma omp parallel for schedule(static) if (outer * n * inner > 32768)
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        T best = px[o * n * inner + i];
        int64_t arg = 0;
        for (int64_t j = 1; j < n; ++j) {
          T v = px[(o * n + j) * inner + i];
          if (v > best || (v != v && best == best)) { best = v; arg = j; }  // NaN propagates
        }
        po[o * inner + i] = best;
        pi[o * inner + i] = arg;
      }
    }
  });
}

}  // namespace mrnn::cpu
