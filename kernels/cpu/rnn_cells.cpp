// CPU loops of the fused recurrent cells (kernels/ops_rnn_cells.cpp): one pass per step over the
// gate pre-activations, forward and backward. The per-element math is kernels/common/rnn_cells.h,
// the code the CUDA kernels run too. Rows are parallel over the batch; each row's loop is
// vectorized (f32 loops compiled for AVX2 as well, see kernels/cpu/simd.h).
#include <cstdint>

#include "kernels/common/rnn_cells.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"

namespace mrnn::cpu {

namespace {

constexpr int64_t kParallelMin = 32768;

// A [rows, cols] matrix with unit column stride and any row stride (a time step of [B, T, G]).
template <typename T>
struct Rows {
  T* p;
  int64_t ld;
  T* operator[](int64_t r) const { return p + r * ld; }
};

template <typename T>
Rows<T> rows_of(const Tensor& t, const char* op, const char* what, int64_t rows, int64_t cols) {
  MRNN_CHECK(t.dim() == 2 && t.size(0) == rows && t.size(1) == cols && (t.strides()[1] == 1 || cols <= 1),
             "{}: {} must be a [{}, {}] matrix with unit column stride, got {} (strides {})", op, what, rows, cols,
             t.desc(), shape_str(t.strides()));
  return {static_cast<T*>(t.storage()->data()) + t.offset(), t.strides()[0]};
}

// Runs row(b) for every batch row, in parallel when the work is large enough.
template <typename F>
void for_rows(int64_t rows, int64_t work_per_row, F&& row) {
#pragma omp parallel for schedule(static) if (rows * work_per_row > kParallelMin && rows > 1)
  for (int64_t b = 0; b < rows; ++b) row(b);
}

// ---- row loops: templates, plus f32 versions compiled twice (MRNN_CPU_CLONES) ----
// Forced inline so each clone compiles its own copy of the loop for its target (a call to an
// out-of-line template would run the baseline code).
#if defined(__GNUC__)
#define MRNN_ROW_INLINE inline __attribute__((always_inline))
#else
#define MRNN_ROW_INLINE inline
#endif
template <typename T>
MRNN_ROW_INLINE void rnn_fwd_row(bool relu, const T* x, const T* hp, T* h, int64_t n) {
  if (relu) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) h[j] = rnn_cell_f(true, x[j], hp[j]);
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) h[j] = rnn_cell_f(false, x[j], hp[j]);
  }
}
template <typename T>
MRNN_ROW_INLINE void rnn_bwd_row(bool relu, const T* h, const T* g, T* d, int64_t n) {
  if (relu) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) d[j] = rnn_cell_df(true, h[j], g[j]);
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) d[j] = rnn_cell_df(false, h[j], g[j]);
  }
}
// x, hp: the four gate blocks of one row at 0, n, 2n, 3n; act likewise; c, h_new, c_new: n values.
template <typename T>
MRNN_ROW_INLINE void lstm_fwd_row(const T* x, const T* hp, const T* c, T* act, T* h_new, T* c_new, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j)
    lstm_cell_f(x[j], x[n + j], x[2 * n + j], x[3 * n + j], hp[j], hp[n + j], hp[2 * n + j], hp[3 * n + j], c[j],
                act[j], act[n + j], act[2 * n + j], act[3 * n + j], c_new[j], h_new[j]);
}
template <typename T>
MRNN_ROW_INLINE void lstm_bwd_row(const T* act, const T* c, const T* c_new, const T* dh, const T* dcn, T* dpre, T* dc,
                                  int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j)
    lstm_cell_df(act[j], act[n + j], act[2 * n + j], act[3 * n + j], c[j], c_new[j], dh[j], dcn[j], dpre[j],
                 dpre[n + j], dpre[2 * n + j], dpre[3 * n + j], dc[j]);
}
template <typename T>
MRNN_ROW_INLINE void gru_fwd_row(const T* x, const T* hp, const T* h, T* act, T* h_new, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j)
    gru_cell_f(x[j], x[n + j], x[2 * n + j], hp[j], hp[n + j], hp[2 * n + j], h[j], act[j], act[n + j], act[2 * n + j],
               h_new[j]);
}
template <typename T>
MRNN_ROW_INLINE void gru_bwd_row(const T* act, const T* hp, const T* h, const T* g, T* dx, T* dhp, T* dh, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    T dr, dz;
    gru_cell_df(act[j], act[n + j], act[2 * n + j], hp[2 * n + j], h[j], g[j], dr, dz, dx[2 * n + j], dhp[2 * n + j],
                dh[j]);
    dx[j] = dhp[j] = dr;
    dx[n + j] = dhp[n + j] = dz;
  }
}

MRNN_CPU_CLONES void rnn_fwd_row_f32(bool relu, const float* x, const float* hp, float* h, int64_t n) {
  rnn_fwd_row(relu, x, hp, h, n);
}
MRNN_CPU_CLONES void rnn_bwd_row_f32(bool relu, const float* h, const float* g, float* d, int64_t n) {
  rnn_bwd_row(relu, h, g, d, n);
}
MRNN_CPU_CLONES void lstm_fwd_row_f32(const float* x, const float* hp, const float* c, float* act, float* h_new,
                                      float* c_new, int64_t n) {
  lstm_fwd_row(x, hp, c, act, h_new, c_new, n);
}
MRNN_CPU_CLONES void lstm_bwd_row_f32(const float* act, const float* c, const float* c_new, const float* dh,
                                      const float* dcn, float* dpre, float* dc, int64_t n) {
  lstm_bwd_row(act, c, c_new, dh, dcn, dpre, dc, n);
}
MRNN_CPU_CLONES void gru_fwd_row_f32(const float* x, const float* hp, const float* h, float* act, float* h_new,
                                     int64_t n) {
  gru_fwd_row(x, hp, h, act, h_new, n);
}
MRNN_CPU_CLONES void gru_bwd_row_f32(const float* act, const float* hp, const float* h, const float* g, float* dx,
                                     float* dhp, float* dh, int64_t n) {
  gru_bwd_row(act, hp, h, g, dx, dhp, dh, n);
}

// Overloads the front-ends below call: f32 goes to the cloned loops, f64 to the templates.
void rnn_fwd(bool relu, const float* x, const float* hp, float* h, int64_t n) { rnn_fwd_row_f32(relu, x, hp, h, n); }
void rnn_fwd(bool relu, const double* x, const double* hp, double* h, int64_t n) { rnn_fwd_row(relu, x, hp, h, n); }
void rnn_bwd(bool relu, const float* h, const float* g, float* d, int64_t n) { rnn_bwd_row_f32(relu, h, g, d, n); }
void rnn_bwd(bool relu, const double* h, const double* g, double* d, int64_t n) { rnn_bwd_row(relu, h, g, d, n); }
void lstm_fwd(const float* x, const float* hp, const float* c, float* act, float* hn, float* cn, int64_t n) {
  lstm_fwd_row_f32(x, hp, c, act, hn, cn, n);
}
void lstm_fwd(const double* x, const double* hp, const double* c, double* act, double* hn, double* cn, int64_t n) {
  lstm_fwd_row(x, hp, c, act, hn, cn, n);
}
void lstm_bwd(const float* act, const float* c, const float* cn, const float* dh, const float* dcn, float* dpre,
              float* dc, int64_t n) {
  lstm_bwd_row_f32(act, c, cn, dh, dcn, dpre, dc, n);
}
void lstm_bwd(const double* act, const double* c, const double* cn, const double* dh, const double* dcn, double* dpre,
              double* dc, int64_t n) {
  lstm_bwd_row(act, c, cn, dh, dcn, dpre, dc, n);
}
void gru_fwd(const float* x, const float* hp, const float* h, float* act, float* hn, int64_t n) {
  gru_fwd_row_f32(x, hp, h, act, hn, n);
}
void gru_fwd(const double* x, const double* hp, const double* h, double* act, double* hn, int64_t n) {
  gru_fwd_row(x, hp, h, act, hn, n);
}
void gru_bwd(const float* act, const float* hp, const float* h, const float* g, float* dx, float* dhp, float* dh,
             int64_t n) {
  gru_bwd_row_f32(act, hp, h, g, dx, dhp, dh, n);
}
void gru_bwd(const double* act, const double* hp, const double* h, const double* g, double* dx, double* dhp,
             double* dh, int64_t n) {
  gru_bwd_row(act, hp, h, g, dx, dhp, dh, n);
}

}  // namespace

void rnn_cell_forward(bool relu, const Tensor& xp, const Tensor& hp, const Tensor& h) {
  const char* op = "rnn_cell";
  const int64_t b = h.size(0), n = h.size(1);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const Rows<T> x = rows_of<T>(xp, op, "xproj", b, n), p = rows_of<T>(hp, op, "hproj", b, n),
                  o = rows_of<T>(h, op, "h", b, n);
    for_rows(b, n, [&](int64_t r) { rnn_fwd(relu, x[r], p[r], o[r], n); });
  });
}

void rnn_cell_backward(bool relu, const Tensor& h, const Tensor& g, const Tensor& dpre) {
  const char* op = "rnn_cell backward";
  const int64_t b = h.size(0), n = h.size(1);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const Rows<T> y = rows_of<T>(h, op, "h", b, n), gg = rows_of<T>(g, op, "dh", b, n),
                  d = rows_of<T>(dpre, op, "dpre", b, n);
    for_rows(b, n, [&](int64_t r) { rnn_bwd(relu, y[r], gg[r], d[r], n); });
  });
}

void lstm_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& c, const Tensor& act, const Tensor& hc) {
  const char* op = "lstm_cell";
  const int64_t b = c.size(0), n = c.size(1);
  MRNN_CHECK(hc.dim() == 3 && hc.size(0) == 2 && hc.size(1) == b && hc.size(2) == n && hc.is_contiguous(),
             "{}: output must be a contiguous [2, {}, {}], got {}", op, b, n, hc.desc());
  dispatch_float(c.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const Rows<T> x = rows_of<T>(xp, op, "xproj", b, 4 * n), p = rows_of<T>(hp, op, "hproj", b, 4 * n),
                  cc = rows_of<T>(c, op, "c", b, n), a = rows_of<T>(act, op, "gates", b, 4 * n);
    T* out = static_cast<T*>(hc.storage()->data()) + hc.offset();
    for_rows(b, 8 * n, [&](int64_t r) { lstm_fwd(x[r], p[r], cc[r], a[r], out + r * n, out + (b + r) * n, n); });
  });
}

void lstm_cell_backward(const Tensor& act, const Tensor& c, const Tensor& hc, const Tensor& ghc, const Tensor& dpre,
                        const Tensor& dc) {
  const char* op = "lstm_cell backward";
  const int64_t b = c.size(0), n = c.size(1);
  MRNN_CHECK(hc.is_contiguous() && ghc.is_contiguous() && hc.shape() == Shape({2, b, n}) && ghc.shape() == hc.shape(),
             "{}: output and its gradient must be contiguous [2, {}, {}], got {} and {}", op, b, n, hc.desc(),
             ghc.desc());
  dispatch_float(c.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const Rows<T> a = rows_of<T>(act, op, "gates", b, 4 * n), cc = rows_of<T>(c, op, "c", b, n),
                  d = rows_of<T>(dpre, op, "dpre", b, 4 * n), dcc = rows_of<T>(dc, op, "dc", b, n);
    const T* y = static_cast<const T*>(hc.storage()->data()) + hc.offset();
    const T* gy = static_cast<const T*>(ghc.storage()->data()) + ghc.offset();
    for_rows(b, 8 * n, [&](int64_t r) {
      lstm_bwd(a[r], cc[r], y + (b + r) * n, gy + r * n, gy + (b + r) * n, d[r], dcc[r], n);
    });
  });
}

void gru_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& h, const Tensor& act, const Tensor& h_new) {
  const char* op = "gru_cell";
  const int64_t b = h.size(0), n = h.size(1);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const Rows<T> x = rows_of<T>(xp, op, "xproj", b, 3 * n), p = rows_of<T>(hp, op, "hproj", b, 3 * n),
                  hh = rows_of<T>(h, op, "h", b, n), a = rows_of<T>(act, op, "gates", b, 3 * n),
                  o = rows_of<T>(h_new, op, "h_new", b, n);
    for_rows(b, 6 * n, [&](int64_t r) { gru_fwd(x[r], p[r], hh[r], a[r], o[r], n); });
  });
}

void gru_cell_backward(const Tensor& act, const Tensor& hp, const Tensor& h, const Tensor& g, const Tensor& dxp,
                       const Tensor& dhp, const Tensor& dh) {
  const char* op = "gru_cell backward";
  const int64_t b = h.size(0), n = h.size(1);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const Rows<T> a = rows_of<T>(act, op, "gates", b, 3 * n), p = rows_of<T>(hp, op, "hproj", b, 3 * n),
                  hh = rows_of<T>(h, op, "h", b, n), gg = rows_of<T>(g, op, "dh_new", b, n),
                  dx = rows_of<T>(dxp, op, "dxproj", b, 3 * n), dp = rows_of<T>(dhp, op, "dhproj", b, 3 * n),
                  dhh = rows_of<T>(dh, op, "dh", b, n);
    for_rows(b, 8 * n, [&](int64_t r) { gru_bwd(a[r], p[r], hh[r], gg[r], dx[r], dp[r], dhh[r], n); });
  });
}

}  // namespace mrnn::cpu
