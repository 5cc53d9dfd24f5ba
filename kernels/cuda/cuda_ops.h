// CUDA implementations of the ops, mirroring kernels/cpu/cpu_ops.h function for function so the
// front-ends in kernels/ops_*.cpp dispatch with one line (MRNN_DISPATCH in kernels/dispatch.h).
// No autograd here. Outputs are allocated by the caller, contiguous, on the inputs' device; inputs
// may be any strided view unless a function says "contiguous". Work is queued on the current
// stream of the tensors' device (kernels/cuda/device.h); nothing blocks the host unless stated.
// Plain C++ header; defined only in builds with the CUDA backend.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/elementwise.h"
#include "kernels/common/fuse.h"

namespace mrnn::cuda {

// ---------------- elementwise (generic strided/broadcast kernel over kernels/common functors) ----
void unary(UnaryKind k, const Tensor& x, const Tensor& out);
void unary_backward(UnaryKind k, const Tensor& x, const Tensor& y, const Tensor& g, const Tensor& gx);
void binary(BinaryKind k, const Tensor& a, const Tensor& b, const Tensor& out);  // broadcasts to out
void affine(const Tensor& x, double mul, double add, const Tensor& out);         // out = x*mul + add
void clamp(const Tensor& x, double lo, double hi, const Tensor& out);
void clamp_backward(const Tensor& x, double lo, double hi, const Tensor& g, const Tensor& gx);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);  // broadcasts to out

// Layer normalisation over the last dim of contiguous x [rows, n] (kernels/common/layer_norm.h);
// w, b [n] or undefined; y like x, mean and rstd [rows]. Backward writes whichever of gx (like x),
// gw, gb ([n]) is defined.
void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd);
void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor& gw, const Tensor& gb);

// ---------------- tensor plumbing (core/tensor.cpp) ----------------
// Every element of the (possibly strided) CUDA tensor t := value converted to t's dtype.
void fill(const Tensor& t, double value);
// dst[...] = src[...] for equal shapes, any layouts and dtypes, any pair of devices (at least one
// CUDA). Host<->device copies stage large transfers through pinned buffers and block the host
// until the data has arrived; device-side copies are queued on the current stream.
void copy(const Tensor& src, const Tensor& dst);

// ---------------- GEMM (cuBLAS; TF32 only when allow_tf32()) ----------------
// C = alpha * op(A) @ op(B) + beta * C for 2-d views; C needs unit column stride.
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, double alpha, double beta);
// out[i] = a[i] @ b[i] for 3-d views a [B,M,K], b [B,K,N]; out contiguous [B,M,N]. One strided
// batched cuBLAS call.
void gemm_batched(const Tensor& a, const Tensor& b, const Tensor& out);

// ---------------- reductions (warp shuffles; deterministic order) ----------------
void sum_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out);
void max_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out, const Tensor& argmax);
// gx (zeroed, contiguous [outer, n, inner]) at argmax positions := g ([outer, inner]).
void max_backward(const Tensor& g, const Tensor& argmax, int64_t outer, int64_t n, int64_t inner, const Tensor& gx);

// ---------------- softmax family (one warp or block per row, online max/sum) ----------------
void softmax_rows(const Tensor& x, const Tensor& out, bool log);
void softmax_rows_backward(const Tensor& y, const Tensor& g, const Tensor& gx, bool log);
// logits contiguous [N, V], targets contiguous i64/i32 [N]. Writes lse[r] (f64, 0 for ignored rows)
// and loss (0-d, logits' dtype) = mean over real rows of lse - logit[target] (0 when none).
// Returns the number of real rows; reads two integers back, so it blocks the host, and throws
// mrnn::Error naming the row when a target is outside [0, V) and not ignore_index. With mean false
// the loss is the sum over rows instead; row_loss (contiguous f64 [N] on the device), when defined,
// receives the per-row losses (0 for ignored rows).
int64_t cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                              const Tensor& loss, bool mean = true, const Tensor& row_loss = Tensor());
// dlogits = g * inv_count * (softmax - onehot(target)) for real rows, 0 for ignored rows, where
// g is the 0-d upstream gradient on the device (read there: no host synchronization), or a
// contiguous [N] one with one value per row (Reduction::None).
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                            const Tensor& g, double inv_count, const Tensor& dlogits);
// The fused output layer's inner step (kernels/cuda/xent.cu), the CPU function's contract: in
// place over contiguous logits [rows, V] (+ contiguous bias [V] when defined), *loss_sum := sum
// over real rows (target != ignore_index; targets contiguous i64/i32, already in range) of
// logsumexp(z) - z[target] with z = logits + bias, returns the number of real rows. With write_grad
// each real row becomes grad_scale * (softmax(z) - onehot(target)) and each ignored row 0;
// otherwise the rows are left unchanged. The loss is summed on the device in a fixed order and
// read back (16 bytes), so the call blocks the host.
int64_t softmax_xent_rows(const Tensor& logits, const Tensor& bias, const Tensor& targets, int64_t ignore_index,
                          double grad_scale, bool write_grad, double* loss_sum);
// softmax_xent_rows without the read-back: acc (f64 [1] on the device) += the block's loss sum,
// in a fixed order. Nothing blocks the host. Optional, as on the CPU: row_scale (contiguous
// [rows], the logits' dtype) scales row r's gradient; row_loss (contiguous f64 [rows] on the
// device) receives the per-row losses. acc may be undefined when row_loss is given.
void softmax_xent_rows_acc(const Tensor& logits, const Tensor& bias, const Tensor& targets, int64_t ignore_index,
                           double grad_scale, bool write_grad, const Tensor& acc, const Tensor& row_scale = Tensor(),
                           const Tensor& row_loss = Tensor());
// The logits-free loss's chunk step, cpu::xent_chunk_stats' contract (one warp or block per row).
void xent_chunk_stats(const Tensor& z, const Tensor& bias, const Tensor& targets, int64_t ignore_index, int64_t c0,
                      bool first, const Tensor& stats);
// acc (f64 [1] on the device) += sum over real rows of max + log(sum) - z[target], fixed order.
void xent_stats_loss(const Tensor& stats, const Tensor& targets, int64_t ignore_index, const Tensor& acc);

// ---------------- gather (kernels/cuda/gather.cu) ----------------
// The CPU functions' contracts (index contiguous, values in range; at most 8 dims). The backward
// scatter-adds with atomicAdd, so with repeated indices its sums are not bit-reproducible.
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
void gather_backward(const Tensor& g, int64_t dim, const Tensor& index, const Tensor& gx);

// ---------------- embedding, dropout ----------------
// weight contiguous [V, D], indices contiguous i64/i32; throws naming the position when an index is
// outside [0, V) (reads one integer back, so it blocks the host).
void embedding(const Tensor& weight, const Tensor& indices, const Tensor& out);
// gweight (zeroed) += rows of g. deterministic(): stable sort of (index, position) then one
// writer per row summing in position order, bit-identical to the CPU; else atomicAdd.
void embedding_backward(const Tensor& g, const Tensor& indices, const Tensor& gweight);
// mask[i] = uniform_from_word(philox_word(seed, offset + i)) >= p ? 1/(1-p) : 0, as on the CPU.
void dropout_mask(uint64_t seed, uint64_t offset, double p, const Tensor& mask);

// ---------------- convolution and pooling (cuDNN, NCHW, contiguous) ----------------
// out [N,O,OH,OW] = conv(x [N,C,H,W], w [O,C,K,K]) + b (b may be undefined).
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t pad,
                    const Tensor& out);
// Gradients for the defined outputs among gx (x's shape), gw (w's shape), gb ([O]); g contiguous.
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& g, int64_t stride, int64_t pad,
                     const Tensor& gx, const Tensor& gw, const Tensor& gb);
// Max pooling ignores padded positions; average pooling counts them (count_include_pad).
void max_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out);
void avg_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out);
// gx := gradient of the pooling that produced y from x, given g = dL/dy (all contiguous).
void pool2d_backward(bool max, const Tensor& x, const Tensor& y, const Tensor& g, int64_t k, int64_t s, int64_t p,
                     const Tensor& gx);

// ---------------- the fused multimodal layer's epilogues (kernels/cuda/fuse.cu) ----------------
// The CPU functions' contracts (contiguous, rows = B * steps). Forward: one kernel (threads over
// columns, grid-stride over rows).
// Backward: one kernel writing dpre and the per-image sums over time (a fixed tree order per
// (image, 32-column tile) block); the last block of each column tile to finish sums the image
// sums in image order into dbias, so the result is deterministic.
// fuse_* are the general N-input forms (seq_term and, forward, bias may be undefined).
void fuse_forward_epilogue(const Tensor& seq_term, const Tensor& bias, int64_t steps, FuseActivation act,
                           const Tensor& out);
void fuse_backward_epilogue(const Tensor& y, const Tensor& g, int64_t steps, FuseActivation act, const Tensor& dpre,
                            const Tensor& dseq, const Tensor& dbias);

// ---------------- the fused recurrent cells (kernels/cuda/rnn_cells.cu) ----------------
// The CPU functions' contracts (kernels/cpu/cpu_ops.h): one launch each, no host synchronization.
void rnn_cell_forward(bool relu, const Tensor& xp, const Tensor& hp, const Tensor& h);
void rnn_cell_backward(bool relu, const Tensor& h, const Tensor& g, const Tensor& dpre);
void lstm_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& c, const Tensor& act, const Tensor& hc);
void lstm_cell_backward(const Tensor& act, const Tensor& c, const Tensor& hc, const Tensor& ghc, const Tensor& dpre,
                        const Tensor& dc);
void gru_cell_forward(const Tensor& xp, const Tensor& hp, const Tensor& h, const Tensor& act, const Tensor& h_new);
void gru_cell_backward(const Tensor& act, const Tensor& hp, const Tensor& h, const Tensor& g, const Tensor& dxp,
                       const Tensor& dhp, const Tensor& dh);

}  // namespace mrnn::cuda
