// Per-element math of the fused recurrent cells (kernels/fused.h: rnn_cell, lstm_cell, gru_cell):
// forward from the two pre-activation projections, backward from what the forward saved. Shared
// by the CPU loops (kernels/cpu/rnn_cells.cpp) and the CUDA kernels (kernels/cuda/rnn_cells.cu),
// so the CPU tests check the formulas the GPU runs. Gate order follows PyTorch: LSTM i, f, g, o;
// GRU r, z, n. Results go to reference outputs rather than returned structs: GCC vectorizes the
// CPU loops over scalars but not over a struct returned per element.
#pragma once
#include "kernels/common/elementwise.h"
#include "kernels/common/host_device.h"

// MRNN_CELL_HD: MRNN_HD, and forced inline on the host too, so the CPU row loops inline the whole
// cell (including its exp/tanh) and vectorize; a call left in the loop body would block that.
#if defined(__CUDACC__) || !defined(__GNUC__)
#define MRNN_CELL_HD MRNN_HD
#else
#define MRNN_CELL_HD inline __attribute__((always_inline))
#endif

namespace mrnn {

// ---- plain RNN: h = act(x + hh), act = relu or tanh ----
template <typename T>
MRNN_CELL_HD T rnn_cell_f(bool relu, T x, T hh) {
  const T pre = x + hh;
  return relu ? ReluF::f(pre) : TanhF::f(pre);
}
// dL/dpre from the output h and its gradient g: relu: g where h > 0 (the mask), tanh: g (1 - h^2).
template <typename T>
MRNN_CELL_HD T rnn_cell_df(bool relu, T h, T g) {
  return relu ? (h > T(0) ? g : T(0)) : g * (T(1) - h * h);
}

// ---- LSTM: (i, f, g, o) = (s, s, tanh, s)(x + hh), c' = f c + i g, h' = o tanh(c') ----
// Forward of one element: the four gate pre-activations come as x* + h*; writes the activated
// gates i, f, g, o (saved for backward), c' and h'.
template <typename T>
MRNN_CELL_HD void lstm_cell_f(T xi, T xf, T xg, T xo, T hi, T hf, T hg, T ho, T c, T& i, T& f, T& g, T& o, T& c_new,
                              T& h_new) {
  i = SigmoidF::f(xi + hi);
  f = SigmoidF::f(xf + hf);
  g = TanhF::f(xg + hg);
  o = SigmoidF::f(xo + ho);
  c_new = f * c + i * g;
  h_new = o * TanhF::f(c_new);
}
// Backward of one element from the saved gates, c (previous cell), c' and the upstream dh', dc':
// the gradients of the four gate pre-activations (di, df, dg, d_o) and of c (dc_prev).
template <typename T>
MRNN_CELL_HD void lstm_cell_df(T i, T f, T g, T o, T c, T c_new, T dh, T dc, T& di, T& df, T& dg, T& d_o,
                               T& dc_prev) {
  const T tc = TanhF::f(c_new);
  const T dct = dc + dh * o * (T(1) - tc * tc);  // total gradient of c'
  dc_prev = dct * f;
  di = dct * g * i * (T(1) - i);
  df = dct * c * f * (T(1) - f);
  dg = dct * i * (T(1) - g * g);
  d_o = dh * tc * o * (T(1) - o);
}

// ---- GRU: r = s(xr + hr), z = s(xz + hz), n = tanh(xn + r hn), h' = (1 - z) n + z h ----
// Forward of one element: writes the gates r, z, n (saved for backward) and h'.
template <typename T>
MRNN_CELL_HD void gru_cell_f(T xr, T xz, T xn, T hr, T hz, T hn, T h, T& r, T& z, T& n, T& h_new) {
  r = SigmoidF::f(xr + hr);
  z = SigmoidF::f(xz + hz);
  n = TanhF::f(xn + r * hn);
  h_new = n + z * (h - n);
}
// Backward of one element from the saved gates, hn (the n block of the recurrent projection), the
// previous h and the upstream dh': the gradients of the pre-activations dr, dz, dn (the input
// projection's three blocks; the recurrent projection's are dr, dz and dhn = r dn) and of h.
template <typename T>
MRNN_CELL_HD void gru_cell_df(T r, T z, T n, T hn, T h, T dh, T& dr, T& dz, T& dn, T& dhn, T& dh_prev) {
  dn = dh * (T(1) - z) * (T(1) - n * n);  // through tanh
  dz = dh * (h - n) * z * (T(1) - z);
  dr = dn * hn * r * (T(1) - r);
  dhn = dn * r;
  dh_prev = dh * z;
}

}  // namespace mrnn
