// CPU implementations of the ops (no autograd here: kernels/ops_*.cpp record the nodes).
// Outputs are allocated by the caller, contiguous; inputs may be any strided view.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/elementwise.h"
#include "kernels/common/fuse.h"

namespace mrnn::cpu {

void unary(UnaryKind k, const Tensor& x, const Tensor& out);
// gx = df(x, y, g) elementwise; x, y, g same shape.
void unary_backward(UnaryKind k, const Tensor& x, const Tensor& y, const Tensor& g, const Tensor& gx);
// out = a (op) b with broadcasting to out's shape.
void binary(BinaryKind k, const Tensor& a, const Tensor& b, const Tensor& out);
void affine(const Tensor& x, double mul, double add, const Tensor& out);  // out = x*mul + add
void clamp(const Tensor& x, double lo, double hi, const Tensor& out);
void clamp_backward(const Tensor& x, double lo, double hi, const Tensor& g, const Tensor& gx);
// out = cond != 0 ? a : b, each operand broadcast to out's shape; cond in a's dtype.
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

// C = alpha * op(A) @ op(B) + beta * C for 2-d views (any row- or column-major layout).
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, double alpha, double beta);

// Reduce x (contiguous, shape [outer, n, inner]) over the middle axis.
void sum_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out);
void max_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out, const Tensor& argmax);

// Row-wise over the last dim of contiguous [rows, n].
void softmax_rows(const Tensor& x, const Tensor& out, bool log);
void softmax_rows_backward(const Tensor& y, const Tensor& g, const Tensor& gx, bool log);
// log(sum_j exp(x[j])) of one f32 row of n >= 1 values (vectorized; f64 across 256-value blocks).
double logsumexp_row_f32(const float* x, int64_t n);
// Per row: lse[r] = logsumexp(logits[r]); loss = sum over real rows of (lse - logit[target]).
// Returns the number of real rows. row_loss (f64 [rows], contiguous), when defined, receives each
// row's lse - logit[target] (0 for ignored rows).
int64_t cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                              double* loss_sum, const Tensor& row_loss = Tensor());
// dlogits = scale * (softmax - onehot(target)) for real rows, 0 for ignored rows; with row_scale
// (contiguous [rows], the logits' dtype) row r uses scale * row_scale[r].
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                            double scale, const Tensor& dlogits, const Tensor& row_scale = Tensor());

// In place over contiguous logits [rows, V] (+ bias [V] when defined): adds the bias, accumulates
// sum over real rows of (logsumexp - logit[target]) into *loss_sum and returns the number of real
// rows (target != ignore_index; targets must already be in range). With write_grad each real row
// becomes grad_scale * (softmax - onehot(target)) and each ignored row 0; otherwise the rows are
// left as scratch. Optional: row_scale (contiguous [rows], the logits' dtype) makes row r's
// gradient scale grad_scale * row_scale[r] (Reduction::None's backward); row_loss (contiguous f64
// [rows]) receives each row's loss (0 for ignored rows).
int64_t softmax_xent_rows(const Tensor& logits, const Tensor& bias, const Tensor& targets, int64_t ignore_index,
                          double grad_scale, bool write_grad, double* loss_sum, const Tensor& row_scale = Tensor(),
                          const Tensor& row_loss = Tensor());
// The logits-free loss (linear_cross_entropy_loss), one vocabulary chunk [c0, c0 + c) at a time:
// z contiguous [rows, c] (+ bias chunk [c] when defined), stats contiguous [rows, 3] in z's dtype
// holding per real row (max, sum of e^(z - max), z at the target); first initialises them, later
// chunks merge in (online log-sum-exp). Ignored rows are left alone.
void xent_chunk_stats(const Tensor& z, const Tensor& bias, const Tensor& targets, int64_t ignore_index, int64_t c0,
                      bool first, const Tensor& stats);
// Sum over real rows of max + log(sum) - z[target], in row order (f64).
double xent_stats_loss(const Tensor& stats, const Tensor& targets, int64_t ignore_index);

// gather (kernels/ops_gather.cpp): out[p] = x[p with p[dim] := index[p]] for every position p of
// index (contiguous i64/i32, values already checked in range); x any strides, out contiguous with
// index's shape. Backward: gx (contiguous, zeroed, x's shape) += g at those positions, in index order.
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
void gather_backward(const Tensor& g, int64_t dim, const Tensor& index, const Tensor& gx);

// Layer normalisation over the last dim of contiguous x [rows, n] (kernels/common/layer_norm.h);
// w, b [n] or undefined; y like x, mean and rstd [rows]. Backward writes whichever of gx (like x),
// gw, gb ([n]) is defined.
void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd);
void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor& gw, const Tensor& gb);

void embedding(const Tensor& weight, const Tensor& indices, const Tensor& out);
void embedding_backward(const Tensor& g, const Tensor& indices, const Tensor& gweight);  // gweight zeroed

void dropout_mask(uint64_t seed, uint64_t offset, double p, const Tensor& mask);  // 0 or 1/(1-p)

void im2col(const Tensor& x, int64_t n, int64_t kh, int64_t kw, int64_t stride, int64_t pad, const Tensor& cols);
void col2im(const Tensor& cols, int64_t n, int64_t kh, int64_t kw, int64_t stride, int64_t pad, const Tensor& gx);
void max_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out, const Tensor& argmax);
void max_pool2d_backward(const Tensor& g, const Tensor& argmax, const Tensor& gx);
// f32 2x2 stride-2 unpadded max pooling (kernels/cpu/pool2x2.cpp): x contiguous [N, C, H, W],
// out [N, C, H/2, W/2]; which[i] (one byte per output) := the winner's index in its window
// (0..3, row-major; first maximum on ties). The backward overwrites all of gx (x's shape).
void max_pool2x2(const Tensor& x, const Tensor& out, uint8_t* which);
void max_pool2x2_backward(const Tensor& g, const uint8_t* which, const Tensor& gx);
void avg_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out);
void avg_pool2d_backward(const Tensor& g, int64_t k, int64_t s, int64_t p, const Tensor& gx);

// The fused N-input layer's epilogues (kernels/cpu/fuse.cpp; math in kernels/common/fuse.h).
// All tensors contiguous, one float dtype, rows = B * steps. Forward, in place: out [rows, M]
// (holding the sum of the per-step projections) := act((out[r] + seq_term[r / steps]) + bias),
// where seq_term [B, M] (the per-sequence projections) and bias [M] may each be undefined.
// Backward from the saved output y and upstream g [rows, M]: dpre := act'(y, g), dseq [B, M] :=
// per-sequence sums of dpre over its steps, dbias [M] := sum of dseq (time, then sequences ascending).
void fuse_forward_epilogue(const Tensor& seq_term, const Tensor& bias, int64_t steps, FuseActivation act,
                           const Tensor& out);
void fuse_backward_epilogue(const Tensor& y, const Tensor& g, int64_t steps, FuseActivation act, const Tensor& dpre,
                            const Tensor& dseq, const Tensor& dbias);

// ---- the fused recurrent cells (kernels/cpu/rnn_cells.cpp; math in kernels/common/rnn_cells.h) ----
// Matrices are [B, G] with unit column stride and any row stride (one time step of a [B, T, G]
// projection) unless "contiguous" is said; one float dtype. Gate blocks of width H sit side by
// side: LSTM i, f, g, o ([B, 4H]); GRU r, z, n ([B, 3H]).
// h [B, H] := rnn_cell_f(relu, xp, hp). Backward: dpre := rnn_cell_df(relu, h, g).
void rnn_cell_forward(bool relu, const Tensor& xp, const Tensor& hp, const Tensor& h);
void rnn_cell_backward(bool relu, const Tensor& h, const Tensor& g, const Tensor& dpre);
// xp, hp [B, 4H], c [B, H]: act [B, 4H] := the activated gates, hc (contiguous [2, B, H]) := (h', c').
void lstm_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& c, const Tensor& act, const Tensor& hc);
// From act, c and hc (saved) and ghc (contiguous [2, B, H], the gradient of hc): dpre [B, 4H]
// (the gradient of both projections) and dc [B, H].
void lstm_cell_backward(const Tensor& act, const Tensor& c, const Tensor& hc, const Tensor& ghc, const Tensor& dpre,
                        const Tensor& dc);
// xp, hp [B, 3H], h [B, H]: act [B, 3H] := (r, z, n), h_new [B, H] := (1 - z) n + z h.
void gru_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& h, const Tensor& act, const Tensor& h_new);
// From act, hp, h (saved) and g (the gradient of h_new): dxp, dhp [B, 3H] and dh [B, H].
void gru_cell_backward(const Tensor& act, const Tensor& hp, const Tensor& h, const Tensor& g, const Tensor& dxp,
                       const Tensor& dhp, const Tensor& dh);

}  // namespace mrnn::cpu
