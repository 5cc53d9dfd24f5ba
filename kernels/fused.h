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
