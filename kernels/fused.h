// Fused ops with hand-written backward: one autograd node each instead of a chain of small ones.
// Why: the m-RNN multimodal layer runs on every word of every caption; fusing its three
// projections, the broadcast image term and the activation saves the intermediate tensors and
// half the memory traffic, and its backward reuses the saved output instead of the pre-activation.
#pragma once
#include "core/tensor.h"

namespace mrnn {

// m[b, t] = g(w[b, t] Vw^T + r[b, t] Vr^T + img[b] Vi^T + bias), g(x) = 1.7159 tanh(2x/3).
// Requires: w [B, T, Dw], r [B, T, Dr], img [B, Di] (T may be absent: w [B, Dw], r [B, Dr]),
// Vw [M, Dw], Vr [M, Dr], Vi [M, Di], bias [M]. Ensures: m [B, T, M] (or [B, M]).
// The image term is computed once per image and broadcast over time.
Tensor multimodal(const Tensor& w, const Tensor& r, const Tensor& img, const Tensor& Vw, const Tensor& Vr,
                  const Tensor& Vi, const Tensor& bias);

}  // namespace mrnn

namespace mrnn {

// The output layer and its loss in one op: mean over rows with targets[n] != ignore_index of
// logsumexp(z[n]) - z[n, targets[n]], where z = x weight^T + bias.
// Requires x [N, H], weight [V, H] (any strides, e.g. a tied embedding table), bias [V] or
// undefined, targets i64/i32 [N] with values in [0, V) or ignore_index; same device and dtype.
// Ensures: a scalar loss; the [N, V] logits exist one block of `chunk_rows` rows at a time
// (0 = automatic, about 32 MB of logits). When a gradient is needed the op computes dx, dW and db
// during the forward pass (the loss ends the graph, so the gradient is known up to the upstream
// scalar) — three GEMMs, no stored probabilities — and backward only scales them. CUDA inputs
// run the same row blocks with cuBLAS GEMMs and kernels/cuda/xent.cu (not yet run on a GPU).
Tensor linear_cross_entropy(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& targets,
                            int64_t ignore_index, int64_t chunk_rows = 0);

}  // namespace mrnn
