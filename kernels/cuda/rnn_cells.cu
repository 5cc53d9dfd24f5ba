// CUDA kernels of the fused recurrent cells (kernels/ops_rnn_cells.cpp; issue 6, kernel 4): one
// launch per step and direction does all the elementwise work of a ReLU/tanh RNN, LSTM or GRU
// step (the projections are cuBLAS GEMMs in the front-end). The per-element math is
// kernels/common/rnn_cells.h, the code the CPU loops run.
#include "kernels/common/rnn_cells.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace mrnn::cuda {

namespace {

// A [rows, cols] matrix with unit column stride and row stride ld (e.g. one step of [B, T, G]).
template <typename T>
struct Rows {
  T* p;
  int64_t ld;
  __device__ __forceinline__ T* operator[](int64_t r) const { return p + r * ld; }
};

template <typename T>
Rows<T> rows_of(const Tensor& t, const char* op, const char* what, int64_t rows, int64_t cols) {
  MRNN_CHECK(t.dim() == 2 && t.size(0) == rows && t.size(1) == cols && (t.strides()[1] == 1 || cols <= 1),
             "{}: {} must be a [{}, {}] matrix with unit column stride, got {} (strides {})", op, what, rows, cols,
             t.desc(), shape_str(t.strides()));
  return {ptr<T>(t), t.strides()[0]};
}

// Grid for rows x n elements: blocks of kThreads over the n columns, grid.y over rows (each
// block strides over rows by gridDim.y). Kernels index (r, j) without divisions.
struct Grid2 {
  dim3 grid;
  bool empty;
};
Grid2 grid2(int64_t rows, int64_t n, const char* op) {
  if (rows == 0 || n == 0) return {dim3(1), true};
  return {dim3(grid_dim((n + kThreads - 1) / kThreads, op), static_cast<unsigned>(std::min<int64_t>(rows, 65535))),
          false};
}

#define MRNN_ROW_LOOP                                                          \
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; \
  if (j >= n) return;                                                          \
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y)

template <typename T>
__global__ void rnn_fwd_kernel(bool relu, Rows<const T> x, Rows<const T> hp, Rows<T> h, int64_t rows, int64_t n) {
  MRNN_ROW_LOOP { h[r][j] = rnn_cell_f(relu, x[r][j], hp[r][j]); }
}
template <typename T>
__global__ void rnn_bwd_kernel(bool relu, Rows<const T> h, Rows<const T> g, Rows<T> d, int64_t rows, int64_t n) {
  MRNN_ROW_LOOP { d[r][j] = rnn_cell_df(relu, h[r][j], g[r][j]); }
}
template <typename T>
__global__ void lstm_fwd_kernel(Rows<const T> x, Rows<const T> hp, Rows<const T> c, Rows<T> act, T* hc, int64_t rows,
                                int64_t n) {
  MRNN_ROW_LOOP {
    const T *xr = x[r], *pr = hp[r];
    T* ar = act[r];
    lstm_cell_f(xr[j], xr[n + j], xr[2 * n + j], xr[3 * n + j], pr[j], pr[n + j], pr[2 * n + j], pr[3 * n + j],
                c[r][j], ar[j], ar[n + j], ar[2 * n + j], ar[3 * n + j], hc[(rows + r) * n + j], hc[r * n + j]);
  }
}
template <typename T>
__global__ void lstm_bwd_kernel(Rows<const T> act, Rows<const T> c, const T* hc, const T* ghc, Rows<T> dpre,
                                Rows<T> dc, int64_t rows, int64_t n) {
  MRNN_ROW_LOOP {
    const T* ar = act[r];
    T* dr = dpre[r];
    lstm_cell_df(ar[j], ar[n + j], ar[2 * n + j], ar[3 * n + j], c[r][j], hc[(rows + r) * n + j], ghc[r * n + j],
                 ghc[(rows + r) * n + j], dr[j], dr[n + j], dr[2 * n + j], dr[3 * n + j], dc[r][j]);
  }
}
template <typename T>
__global__ void gru_fwd_kernel(Rows<const T> x, Rows<const T> hp, Rows<const T> h, Rows<T> act, Rows<T> h_new,
                               int64_t rows, int64_t n) {
  MRNN_ROW_LOOP {
    const T *xr = x[r], *pr = hp[r];
    T* ar = act[r];
    gru_cell_f(xr[j], xr[n + j], xr[2 * n + j], pr[j], pr[n + j], pr[2 * n + j], h[r][j], ar[j], ar[n + j],
               ar[2 * n + j], h_new[r][j]);
  }
}
template <typename T>
__global__ void gru_bwd_kernel(Rows<const T> act, Rows<const T> hp, Rows<const T> h, Rows<const T> g, Rows<T> dx,
                               Rows<T> dhp, Rows<T> dh, int64_t rows, int64_t n) {
  MRNN_ROW_LOOP {
    const T* ar = act[r];
    T *xr = dx[r], *pr = dhp[r];
    T dr, dz;
    gru_cell_df(ar[j], ar[n + j], ar[2 * n + j], hp[r][2 * n + j], h[r][j], g[r][j], dr, dz, xr[2 * n + j],
                pr[2 * n + j], dh[r][j]);
    xr[j] = pr[j] = dr;
    xr[n + j] = pr[n + j] = dz;
  }
}
#undef MRNN_ROW_LOOP

template <typename T>
Rows<const T> in_rows(const Tensor& t, const char* op, const char* what, int64_t rows, int64_t cols) {
  const Rows<T> r = rows_of<T>(t, op, what, rows, cols);
  return {r.p, r.ld};
}

void check_contiguous_hc(const char* op, const Tensor& t, int64_t b, int64_t n) {
  MRNN_CHECK(t.is_contiguous() && t.shape() == Shape({2, b, n}), "{}: expected a contiguous [2, {}, {}], got {}", op,
             b, n, t.desc());
}

}  // namespace

void rnn_cell_forward(bool relu, const Tensor& xp, const Tensor& hp, const Tensor& h) {
  const char* op = "cuda::rnn_cell";
  common_device(op, {&xp, &hp, &h});
  check_same_dtype(op, {&xp, &hp, &h});
  const int64_t b = h.size(0), n = h.size(1);
  const Grid2 g = grid2(b, n, op);
  Launch l(h);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const auto x = in_rows<T>(xp, op, "xproj", b, n), p = in_rows<T>(hp, op, "hproj", b, n);
    const auto o = rows_of<T>(h, op, "h", b, n);
    if (!g.empty) rnn_fwd_kernel<T><<<g.grid, kThreads, 0, l.stream>>>(relu, x, p, o, b, n);
  });
  MRNN_CUDA_CHECK_LAUNCH("rnn_fwd_kernel", l.stream);
}

void rnn_cell_backward(bool relu, const Tensor& h, const Tensor& gh, const Tensor& dpre) {
  const char* op = "cuda::rnn_cell backward";
  common_device(op, {&h, &gh, &dpre});
  check_same_dtype(op, {&h, &gh, &dpre});
  const int64_t b = h.size(0), n = h.size(1);
  const Grid2 g = grid2(b, n, op);
  Launch l(h);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const auto y = in_rows<T>(h, op, "h", b, n), gg = in_rows<T>(gh, op, "dh", b, n);
    const auto d = rows_of<T>(dpre, op, "dpre", b, n);
    if (!g.empty) rnn_bwd_kernel<T><<<g.grid, kThreads, 0, l.stream>>>(relu, y, gg, d, b, n);
  });
  MRNN_CUDA_CHECK_LAUNCH("rnn_bwd_kernel", l.stream);
}

void lstm_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& c, const Tensor& act, const Tensor& hc) {
  const char* op = "cuda::lstm_cell";
  common_device(op, {&xp, &hp, &c, &act, &hc});
  check_same_dtype(op, {&xp, &hp, &c, &act, &hc});
  const int64_t b = c.size(0), n = c.size(1);
  check_contiguous_hc(op, hc, b, n);
  const Grid2 g = grid2(b, n, op);
  Launch l(c);
  dispatch_float(c.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const auto x = in_rows<T>(xp, op, "xproj", b, 4 * n), p = in_rows<T>(hp, op, "hproj", b, 4 * n),
               cc = in_rows<T>(c, op, "c", b, n);
    const auto a = rows_of<T>(act, op, "gates", b, 4 * n);
    if (!g.empty) lstm_fwd_kernel<T><<<g.grid, kThreads, 0, l.stream>>>(x, p, cc, a, ptr<T>(hc), b, n);
  });
  MRNN_CUDA_CHECK_LAUNCH("lstm_fwd_kernel", l.stream);
}

void lstm_cell_backward(const Tensor& act, const Tensor& c, const Tensor& hc, const Tensor& ghc, const Tensor& dpre,
                        const Tensor& dc) {
  const char* op = "cuda::lstm_cell backward";
  common_device(op, {&act, &c, &hc, &ghc, &dpre, &dc});
  check_same_dtype(op, {&act, &c, &hc, &ghc, &dpre, &dc});
  const int64_t b = c.size(0), n = c.size(1);
  check_contiguous_hc(op, hc, b, n);
  check_contiguous_hc(op, ghc, b, n);
  const Grid2 g = grid2(b, n, op);
  Launch l(c);
  dispatch_float(c.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const auto a = in_rows<T>(act, op, "gates", b, 4 * n), cc = in_rows<T>(c, op, "c", b, n);
    const auto d = rows_of<T>(dpre, op, "dpre", b, 4 * n), dcc = rows_of<T>(dc, op, "dc", b, n);
    if (!g.empty)
      lstm_bwd_kernel<T><<<g.grid, kThreads, 0, l.stream>>>(a, cc, ptr<T>(hc), ptr<T>(ghc), d, dcc, b, n);
  });
  MRNN_CUDA_CHECK_LAUNCH("lstm_bwd_kernel", l.stream);
}

void gru_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& h, const Tensor& act, const Tensor& h_new) {
  const char* op = "cuda::gru_cell";
  common_device(op, {&xp, &hp, &h, &act, &h_new});
  check_same_dtype(op, {&xp, &hp, &h, &act, &h_new});
  const int64_t b = h.size(0), n = h.size(1);
  const Grid2 g = grid2(b, n, op);
  Launch l(h);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const auto x = in_rows<T>(xp, op, "xproj", b, 3 * n), p = in_rows<T>(hp, op, "hproj", b, 3 * n),
               hh = in_rows<T>(h, op, "h", b, n);
    const auto a = rows_of<T>(act, op, "gates", b, 3 * n), o = rows_of<T>(h_new, op, "h_new", b, n);
    if (!g.empty) gru_fwd_kernel<T><<<g.grid, kThreads, 0, l.stream>>>(x, p, hh, a, o, b, n);
  });
  MRNN_CUDA_CHECK_LAUNCH("gru_fwd_kernel", l.stream);
}

void gru_cell_backward(const Tensor& act, const Tensor& hp, const Tensor& h, const Tensor& gh, const Tensor& dxp,
                       const Tensor& dhp, const Tensor& dh) {
  const char* op = "cuda::gru_cell backward";
  common_device(op, {&act, &hp, &h, &gh, &dxp, &dhp, &dh});
  check_same_dtype(op, {&act, &hp, &h, &gh, &dxp, &dhp, &dh});
  const int64_t b = h.size(0), n = h.size(1);
  const Grid2 g = grid2(b, n, op);
  Launch l(h);
  dispatch_float(h.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const auto a = in_rows<T>(act, op, "gates", b, 3 * n), p = in_rows<T>(hp, op, "hproj", b, 3 * n),
               hh = in_rows<T>(h, op, "h", b, n), gg = in_rows<T>(gh, op, "dh_new", b, n);
    const auto dx = rows_of<T>(dxp, op, "dxproj", b, 3 * n), dp = rows_of<T>(dhp, op, "dhproj", b, 3 * n),
               dhh = rows_of<T>(dh, op, "dh", b, n);
    if (!g.empty) gru_bwd_kernel<T><<<g.grid, kThreads, 0, l.stream>>>(a, p, hh, gg, dx, dp, dhh, b, n);
  });
  MRNN_CUDA_CHECK_LAUNCH("gru_bwd_kernel", l.stream);
}

}  // namespace mrnn::cuda
