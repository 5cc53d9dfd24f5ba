// The image-supervision losses of the multimodal word-embedding Models B and C (Mao et al., NIPS
// 2016, "Training and evaluating multimodal word embeddings with large-scale web annotated
// images"), as plain compositions of differentiable ops, so autograd and the op table's gradient
// checks already cover them. Norms are L2 (not squared): sqrt(sum of squares + kNormEps).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

// Added under the square root so the gradient of the norm stays finite at a zero difference.
constexpr double kNormEps = 1e-8;

// Model B: mean over the B sentences of ||h_b - t_b||. Requires: h_last and target [B, D] of one
// dtype, B >= 1 (else Error naming the shapes). Ensures: a 0-d tensor with its graph.
Tensor state_loss(const Tensor& h_last, const Tensor& target);

// Model C: mean over sentences b of (1/L_b) * sum_t mask[b,t] * ||e[b,t] - t_b||, L_b = sum_t
// mask[b,t]. Requires: e [B, T, D], mask [B, T] of e's dtype holding 0 or 1 with every row
// summing to >= 1, target [B, D] (else Error naming what is wrong). Ensures: a 0-d tensor with its
// graph; the mask carries no gradient.
Tensor embedding_loss(const Tensor& e, const Tensor& mask, const Tensor& target);

// The state after each sequence's last position: h [B, T, D], positions[b] in [0, T) -> [B, D]
// (rows h[b, positions[b]]). Why: Model B pulls the state after the last word, and batches are padded.
Tensor last_states(const Tensor& h, const std::vector<int64_t>& positions);

}  // namespace mrnn
