// Fused ops with hand-written backward: one autograd node each instead of a chain of small ones.
// Why: the m-RNN multimodal layer runs on every word of every caption; fusing its three
// projections, the broadcast image term and the activation saves the intermediate tensors and
// half the memory traffic, and its backward reuses the saved output instead of the pre-activation.
#pragma once
#include <vector>

#include "core/tensor.h"
#include "kernels/common/fuse.h"
#include "kernels/reduction.h"

namespace mrnn {

// The fused N-input fusing layer: m = g(sum_i x_i W_i^T + bias), one autograd node.
// Requires: n >= 1 inputs xs and weights ws (W_i [M, D_i]), bias [M] or undefined, one device and
// float dtype. Input i is per step (x_i [B, T, D_i], or [B, D_i] when every per-step input is, one
// step) or per sequence (x_i [B, D_i], broadcast over T, its projection computed once per
// sequence: the m-RNN image, mQA's question state). per_sequence has one flag per input, or is
// empty: then the [B, D] inputs are per sequence when some input is [B, T, D], else all are steps.
// Ensures: m [B, T, M] when the per-step inputs have time, else [B, M]. All per-step projections go
// into one accumulator and g runs in one epilogue pass that also adds the per-sequence term and
// the bias ((step + seq) + bias, then g); backward works from the saved output, its bias and
// per-sequence gradients summed in a fixed order (deterministic on both devices).
// g: FuseActivation (kernels/common/fuse.h): ScaledTanh 1.7159 tanh(2x/3), Tanh, Relu, Identity.
Tensor fuse(const std::vector<Tensor>& xs, const std::vector<Tensor>& ws, const Tensor& bias, FuseActivation g,
            std::vector<bool> per_sequence = {});

// The m-RNN multimodal layer, fuse's 3-input instance (w, r per step, img per sequence, scaled tanh):
// m[b, t] = g(w[b, t] Vw^T + r[b, t] Vr^T + img[b] Vi^T + bias), g(x) = 1.7159 tanh(2x/3).
// Requires: w [B, T, Dw], r [B, T, Dr], img [B, Di] (T may be absent: w [B, Dw], r [B, Dr]),
// Vw [M, Dw], Vr [M, Dr], Vi [M, Di], bias [M]. Ensures: m [B, T, M] (or [B, M]).
// The image term is computed once per image and broadcast over time.
Tensor multimodal(const Tensor& w, const Tensor& r, const Tensor& img, const Tensor& Vw, const Tensor& Vr,
                  const Tensor& Vi, const Tensor& bias);

}  // namespace mrnn

namespace mrnn {

// The output layer and its loss in one op: the row losses logsumexp(z[n]) - z[n, targets[n]],
// where z = x weight^T + bias, reduced by `reduction` (kernels/reduction.h): Mean (the default)
// over rows with targets[n] != ignore_index, Sum, or None (the [N] row losses, 0 for ignored rows).
// Mean and Sum work as described below. None never holds [N, V] values either: its forward keeps
// only the row losses, and backward (whose upstream gradient is an [N] vector) recomputes each row
// block's logits and softmax (one more GEMM per block) and scales each row by its upstream
// gradient before the three gradient GEMMs; memory stays O(block). A sentence's -log p(S) for
// B sequences of T tokens (targets padded with ignore_index) is then, differentiably,
//   sum(reshape(linear_cross_entropy(x, w, b, targets, pad, 0, Reduction::None), {B, T}), {1})  // [B]
// (padding rows contribute 0; tests/core/test_loss_reductions.cpp).
// Requires x [N, H], weight [V, H] (any strides, e.g. a tied embedding table), bias [V] or
// undefined, targets i64/i32 [N] with values in [0, V) or ignore_index; same device and dtype,
// except that targets may be on the CPU for inputs on a GPU (then they are checked on the host and
// uploaded once: nothing is read back; device targets are copied to the host for the check).
// Ensures: a scalar loss; the [N, V] logits exist one block of `chunk_rows` rows at a time
// (0 = automatic, about 8 MB of logits). When a gradient is needed the op computes dx, dW and db
// during the forward pass (the loss ends the graph, so the gradient is known up to the upstream
// scalar) — three GEMMs, no stored probabilities — and backward only scales them. CUDA inputs
// run the same row blocks with cuBLAS GEMMs and kernels/cuda/xent.cu (not yet run on a GPU); their
// block losses add up on the device, so the forward reads nothing back but device targets, and
// backward scales by the upstream gradient on the device (no read either).
Tensor linear_cross_entropy(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& targets,
                            int64_t ignore_index, int64_t chunk_rows = 0, Reduction reduction = Reduction::Mean);

// The same loss without a gradient and without ever holding a row's full logits: the vocabulary
// is walked in chunks of `vocab_chunk` columns (0 = automatic, 2048), each chunk's logits [rows,
// chunk] go through one GEMM into a reused scratch block and an online log-sum-exp (running max
// and sum of e^(z - max) per row, in the data type: f32 for f32) that also picks up the target's
// logit; memory is O(rows x chunk). For evaluation / perplexity. Requires: as
// linear_cross_entropy, vocab_chunk >= 0. Ensures: a scalar loss on x's device with no autograd
// history (no gradient flows back). On CUDA the row losses add up on the device and the result is
// not read back (the only host sync is the target check's copy of the N targets).
Tensor linear_cross_entropy_loss(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& targets,
                                 int64_t ignore_index, int64_t vocab_chunk = 0);

}  // namespace mrnn

namespace mrnn {

// ---- fused recurrent cells (issue 6, kernel 4): all elementwise work of one step as one op ----
// xproj is the input projection x W_ih^T + b_ih of the step (e.g. select(xp, 1, t) of the [B, T, G]
// projection of all steps), hproj the recurrent one h W_hh^T + b_hh; both [B, G], same device and
// dtype as the state. Each op is one autograd node with a hand-written backward from saved
// gates (kernels/ops_rnn_cells.cpp; per-element math in kernels/common/rnn_cells.h).

// h' = relu(xproj + hproj) (relu) or tanh(xproj + hproj). Requires xproj, hproj [B, H].
Tensor rnn_cell(const Tensor& xproj, const Tensor& hproj, bool relu);

// LSTM step with gates (i, f, g, o) = (s, s, tanh, s)(xproj + hproj), c' = f c + i g,
// h' = o tanh(c'). Requires xproj, hproj [B, 4H], c [B, H]. Ensures: [2, B, H] with h' at index 0
// and c' at index 1 (select(out, 0, k) are contiguous views).
Tensor lstm_cell(const Tensor& xproj, const Tensor& hproj, const Tensor& c);

// GRU step (PyTorch's form): r = s(x_r + h_r), z = s(x_z + h_z), n = tanh(x_n + r h_n),
// h' = (1 - z) n + z h, where x_*, h_* are the gate blocks of xproj and hproj.
// Requires xproj, hproj [B, 3H], h [B, H]. Ensures: h' [B, H].
Tensor gru_cell(const Tensor& xproj, const Tensor& hproj, const Tensor& h);

}  // namespace mrnn
