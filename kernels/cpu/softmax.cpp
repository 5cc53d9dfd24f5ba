// Row-wise softmax / log-softmax and the fused cross entropy on the CPU.
#include <type_traits>

#include "kernels/common/fast_math.h"
#include "kernels/common/softmax.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"

namespace mrnn::cpu {

MRNN_CPU_CLONES double logsumexp_row_f32(const float* x, int64_t n) {
  float m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t j = 1; j < n; ++j) m = x[j] > m ? x[j] : m;
  double s = 0;
  for (int64_t j0 = 0; j0 < n; j0 += 256) {
    const int64_t j1 = std::min(n, j0 + 256);
    float part = 0;
#pragma omp simd reduction(+ : part)
    for (int64_t j = j0; j < j1; ++j) part += fast_exp(x[j] - m);
    s += part;
  }
  return static_cast<double>(m) + std::log(s);
}

namespace {
// One f32 row: logsumexp (max pass, exp-sum pass), then the output pass; all vectorized.
MRNN_CPU_CLONES void softmax_row_f32(const float* x, float* y, int64_t n, bool log) {
  const float lse = static_cast<float>(logsumexp_row_f32(x, n));
  if (log) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] - lse;
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = fast_exp(x[j] - lse);
  }
}
}  // namespace

void softmax_rows(const Tensor& x, const Tensor& out, bool log) {
  const int64_t n = x.size(-1), rows = x.numel() / std::max<int64_t>(n, 1);
  dispatch_float(x.dtype(), "softmax", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static) if (rows * n > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = px + r * n;
      T* yr = po + r * n;
      if constexpr (std::is_same_v<T, float>) {
        if (n > 0) softmax_row_f32(xr, yr, n, log);
        continue;
      }
      const double lse = row_logsumexp(xr, n);
      for (int64_t j = 0; j < n; ++j) {
        double v = static_cast<double>(xr[j]) - lse;
        yr[j] = static_cast<T>(log ? v : std::exp(v));
      }
    }
  });
}

void softmax_rows_backward(const Tensor& y, const Tensor& g, const Tensor& gx, bool log) {
  const int64_t n = y.size(-1), rows = y.numel() / std::max<int64_t>(n, 1);
  dispatch_float(y.dtype(), "softmax_backward", [&](auto z) {
    using T = decltype(z);
    const T *py = y.data<T>(), *pg = g.data<T>();
    T* po = gx.data<T>();
#pragma omp parallel for schedule(static) if (rows * n > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      const T *yr = py + r * n, *gr = pg + r * n;
      T* o = po + r * n;
      double dot = 0;
      if (log) {  // y = log p: gx = g - p * sum(g)
        for (int64_t j = 0; j < n; ++j) dot += gr[j];
        for (int64_t j = 0; j < n; ++j) o[j] = static_cast<T>(gr[j] - std::exp(static_cast<double>(yr[j])) * dot);
      } else {    // y = p: gx = p * (g - sum(g * p))
        for (int64_t j = 0; j < n; ++j) dot += static_cast<double>(gr[j]) * yr[j];
        for (int64_t j = 0; j < n; ++j) o[j] = static_cast<T>(yr[j] * (gr[j] - dot));
      }
    }
  });
}

namespace {
template <typename I>
int64_t target_at(const Tensor& t, int64_t r) { return static_cast<int64_t>(t.data<I>()[r]); }
int64_t target(const Tensor& t, int64_t r) {
  return t.dtype() == DType::I64 ? target_at<int64_t>(t, r) : target_at<int32_t>(t, r);
}
}  // namespace

int64_t cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                              double* loss_sum, const Tensor& row_loss) {
  const int64_t rows = logits.size(0), v = logits.size(1);
  MRNN_CHECK(!row_loss.defined() || (row_loss.dtype() == DType::F64 && row_loss.numel() == rows &&
                                     row_loss.is_contiguous()),
             "cross_entropy: row_loss must be a contiguous f64 [{}] tensor, got {}", rows, row_loss.desc());
  for (int64_t r = 0; r < rows; ++r) {
    int64_t t = target(targets, r);
    MRNN_CHECK(t == ignore_index || (t >= 0 && t < v), "cross_entropy: target {} at row {} is outside [0, {})", t, r,
               v);
  }
  int64_t count = 0;
  double total = 0;
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto z) {
    using T = decltype(z);
    const T* px = logits.data<T>();
    double* pl = lse.data<double>();
    double* prl = row_loss.defined() ? row_loss.data<double>() : nullptr;
#pragma omp parallel for schedule(static) reduction(+ : total, count) if (rows * v > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = target(targets, r);
      if (t == ignore_index) {
        pl[r] = 0;
        if (prl) prl[r] = 0;
        continue;
      }
      pl[r] = row_logsumexp(px + r * v, v);
      const double l = pl[r] - static_cast<double>(px[r * v + t]);
      if (prl) prl[r] = l;
      total += l;
      count += 1;
    }
  });
  *loss_sum = total;
  return count;
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                            double scale, const Tensor& dlogits, const Tensor& row_scale) {
  const int64_t rows = logits.size(0), v = logits.size(1);
  MRNN_CHECK(!row_scale.defined() || (row_scale.dtype() == logits.dtype() && row_scale.numel() == rows &&
                                      row_scale.is_contiguous()),
             "cross_entropy_backward: row_scale must be a contiguous [{}] tensor like {}, got {}", rows, logits.desc(),
             row_scale.desc());
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&](auto z) {
    using T = decltype(z);
    const T* px = logits.data<T>();
    const T* prs = row_scale.defined() ? row_scale.data<T>() : nullptr;
    const double* pl = lse.data<double>();
    T* pd = dlogits.data<T>();
#pragma omp parallel for schedule(static) if (rows * v > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = target(targets, r);
      T* d = pd + r * v;
      if (t == ignore_index) {
        for (int64_t j = 0; j < v; ++j) d[j] = T(0);
        continue;
      }
      const double sr = prs ? scale * static_cast<double>(prs[r]) : scale;
      for (int64_t j = 0; j < v; ++j) d[j] = cross_entropy_grad<T>(px[r * v + j], pl[r], j == t, sr);
    }
  });
}

}  // namespace mrnn::cpu
