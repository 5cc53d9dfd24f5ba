// Row-wise softmax cross entropy computed in place over a block of logits: the inner loop of the
// fused output layer (kernels/ops_linear_xent.cpp). Per row: bias add + max, one exp pass that
// stores e^(x - max) and sums it, one pass that turns the row into its gradient. f32 rows use the
// vectorizable fast_exp (AVX2 where present, kernels/cpu/simd.h) with f32 lanes summed in f64
// per 256 values; f64 rows use libm exactly.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/common/fast_math.h"
#include "kernels/common/online_lse.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"

namespace mrnn::cpu {

namespace {

int64_t target_of(const Tensor& t, int64_t r) {
  return t.dtype() == DType::I64 ? static_cast<int64_t>(t.data<int64_t>()[r])
                                 : static_cast<int64_t>(t.data<int32_t>()[r]);
}

// One real row: returns logsumexp(x + b) - (x + b)[t]; with write_grad leaves scale * (p - onehot).
// Always inlined, so the f32 instance is compiled inside each target clone of xent_row_f32.
template <typename T>
__attribute__((always_inline)) inline double xent_row(T* x, const T* b, int64_t v, int64_t t, double scale,
                                                      bool write_grad) {
  if (b) {
#pragma omp simd
    for (int64_t j = 0; j < v; ++j) x[j] += b[j];
  }
  T m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t j = 1; j < v; ++j) m = x[j] > m ? x[j] : m;
  const T xt = x[t];
  double s = 0;
  constexpr int64_t kBlock = 256;
  for (int64_t j0 = 0; j0 < v; j0 += kBlock) {
    const int64_t j1 = std::min(v, j0 + kBlock);
    T part = 0;
#pragma omp simd reduction(+ : part)
    for (int64_t j = j0; j < j1; ++j) {
      const T e = fast_exp(x[j] - m);
      x[j] = e;
      part += e;
    }
    s += static_cast<double>(part);
  }
  if (write_grad) {
    const T k = static_cast<T>(scale / s);
#pragma omp simd
    for (int64_t j = 0; j < v; ++j) x[j] *= k;
    x[t] -= static_cast<T>(scale);
  }
  return static_cast<double>(m) + std::log(s) - static_cast<double>(xt);
}

MRNN_CPU_CLONES double xent_row_f32(float* x, const float* b, int64_t v, int64_t t, double scale, bool write_grad) {
  return xent_row<float>(x, b, v, t, scale, write_grad);
}
double xent_row_any(float* x, const float* b, int64_t v, int64_t t, double scale, bool write_grad) {
  return xent_row_f32(x, b, v, t, scale, write_grad);
}
double xent_row_any(double* x, const double* b, int64_t v, int64_t t, double scale, bool write_grad) {
  return xent_row<double>(x, b, v, t, scale, write_grad);
}

}  // namespace

int64_t softmax_xent_rows(const Tensor& logits, const Tensor& bias, const Tensor& targets, int64_t ignore_index,
                          double grad_scale, bool write_grad, double* loss_sum, const Tensor& row_scale,
                          const Tensor& row_loss_out) {
  const int64_t rows = logits.size(0), v = logits.size(1);
  MRNN_CHECK(!row_scale.defined() || (row_scale.dtype() == logits.dtype() && row_scale.numel() == rows &&
                                      row_scale.is_contiguous()),
             "softmax_xent_rows: row_scale must be a contiguous [{}] tensor like {}, got {}", rows, logits.desc(),
             row_scale.desc());
  MRNN_CHECK(!row_loss_out.defined() || (row_loss_out.dtype() == DType::F64 && row_loss_out.numel() == rows &&
                                         row_loss_out.is_contiguous()),
             "softmax_xent_rows: row_loss must be a contiguous f64 [{}] tensor, got {}", rows, row_loss_out.desc());
  std::vector<double> row_loss(static_cast<size_t>(rows), 0.0);  // summed in order below: the
  std::vector<char> real(static_cast<size_t>(rows), 0);           // loss is thread-count independent
  dispatch_float(logits.dtype(), "softmax_xent_rows", [&](auto z) {
    using T = decltype(z);
    T* px = logits.data<T>();
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    const T* prs = row_scale.defined() ? row_scale.data<T>() : nullptr;
#pragma omp parallel for schedule(static) if (rows * v > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      T* x = px + r * v;
      const int64_t t = target_of(targets, r);
      if (t == ignore_index) {
        if (write_grad) std::fill(x, x + v, T(0));
        continue;
      }
      const double scale = prs ? grad_scale * static_cast<double>(prs[r]) : grad_scale;
      row_loss[static_cast<size_t>(r)] = xent_row_any(x, pb, v, t, scale, write_grad);
      real[static_cast<size_t>(r)] = 1;
    }
  });
  int64_t count = 0;
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    total += row_loss[static_cast<size_t>(r)];
    count += real[static_cast<size_t>(r)];
  }
  *loss_sum = total;
  if (row_loss_out.defined()) std::copy(row_loss.begin(), row_loss.end(), row_loss_out.data<double>());
  return count;
}

// ---- the logits-free loss (linear_cross_entropy_loss): one vocabulary chunk at a time ----

namespace {

// (max, sum of e^(z - max)) of one chunk row z + b, the sum from T partials of 256 values added in
// f64, as xent_row does; returns the pair in T.
template <typename T>
__attribute__((always_inline)) inline void chunk_stat(const T* z, const T* b, int64_t c, T* m_out, T* s_out) {
  T m = b ? z[0] + b[0] : z[0];
  if (b) {
#pragma omp simd reduction(max : m)
    for (int64_t j = 1; j < c; ++j) m = z[j] + b[j] > m ? z[j] + b[j] : m;
  } else {
#pragma omp simd reduction(max : m)
    for (int64_t j = 1; j < c; ++j) m = z[j] > m ? z[j] : m;
  }
  double s = 0;
  for (int64_t j0 = 0; j0 < c; j0 += 256) {
    const int64_t j1 = std::min(c, j0 + 256);
    T part = 0;
    if (b) {
#pragma omp simd reduction(+ : part)
      for (int64_t j = j0; j < j1; ++j) part += fast_exp(z[j] + b[j] - m);
    } else {
#pragma omp simd reduction(+ : part)
      for (int64_t j = j0; j < j1; ++j) part += fast_exp(z[j] - m);
    }
    s += static_cast<double>(part);
  }
  *m_out = m;
  *s_out = static_cast<T>(s);
}

MRNN_CPU_CLONES void chunk_stat_f32(const float* z, const float* b, int64_t c, float* m, float* s) {
  chunk_stat<float>(z, b, c, m, s);
}
void chunk_stat_any(const float* z, const float* b, int64_t c, float* m, float* s) { chunk_stat_f32(z, b, c, m, s); }
void chunk_stat_any(const double* z, const double* b, int64_t c, double* m, double* s) {
  chunk_stat<double>(z, b, c, m, s);
}

}  // namespace

void xent_chunk_stats(const Tensor& z, const Tensor& bias, const Tensor& targets, int64_t ignore_index, int64_t c0,
                      bool first, const Tensor& stats) {
  const int64_t rows = z.size(0), c = z.size(1);
  dispatch_float(z.dtype(), "xent_chunk_stats", [&](auto tag) {
    using T = decltype(tag);
    const T* pz = z.data<T>();
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    T* ps = stats.data<T>();
#pragma omp parallel for schedule(static) if (rows * c > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = target_of(targets, r);
      if (t == ignore_index) continue;
      const T* zr = pz + r * c;
      T* o = ps + 3 * r;
      T m, s;
      chunk_stat_any(zr, pb, c, &m, &s);
      if (first) {
        o[0] = m;
        o[1] = s;
      } else {
        o[1] = online_lse_merge(o[0], o[1], m, s);
        o[0] = o[0] > m ? o[0] : m;
      }
      if (t >= c0 && t < c0 + c) o[2] = pb ? zr[t - c0] + pb[t - c0] : zr[t - c0];
    }
  });
}

double xent_stats_loss(const Tensor& stats, const Tensor& targets, int64_t ignore_index) {
  const int64_t rows = stats.size(0);
  double total = 0;
  dispatch_float(stats.dtype(), "xent_stats_loss", [&](auto tag) {
    using T = decltype(tag);
    const T* ps = stats.data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      if (target_of(targets, r) == ignore_index) continue;
      const T* o = ps + 3 * r;
      total += static_cast<double>(o[0]) + std::log(static_cast<double>(o[1])) - static_cast<double>(o[2]);
    }
  });
  return total;
}

}  // namespace mrnn::cpu
