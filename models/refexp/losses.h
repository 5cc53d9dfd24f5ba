// The training objectives of the referring-expression speaker (Mao et al., "Generation and
// Comprehension of Unambiguous Object Descriptions", section 3), over per-sequence log-probabilities
// log p(S | R, I) as Speaker::sequence_log_probs gives them:
//   ML           -mean_b log p(S_b | R_b, I_b)
//   MMI-SoftMax  -mean_b log [ p(S_b | R_b, I_b) / sum_{R' in C(I_b)} p(S_b | R', I_b) ]
//                (a log-sum-exp over the candidate regions of the same image, the true one included)
//   MMI-MM       -mean_b { log p(S_b | R_b, I_b) - lambda max(0, M - log p(S_b | R_b, I_b) + log p(S_b | R'_b, I_b)) }
//                with one negative region R'_b per expression.
// Why here and as compositions of existing ops: autograd differentiates them through the speaker
// without new kernels (tests/refexp/test_losses.cpp checks them by hand and by finite differences).
#pragma once
#include "core/tensor.h"

namespace mrnn {

// Requires: log_probs floating [B], B >= 1. Ensures: the scalar -mean(log_probs).
Tensor ml_loss(const Tensor& log_probs);

// log_probs floating [B, C]: row b holds log p(S_b | R', I_b) for the C candidate regions R' of
// S_b's image; true_index i64 [B] the column of the true region; mask (optional) [B, C] of the same
// dtype, 1 on real candidates and 0 on padding (images with fewer than C candidates).
// Requires: C >= 1, true_index in [0, C), the true column unmasked. Throws Error naming the row
// otherwise. Ensures: the scalar MMI-SoftMax loss (padding columns take no part, and get zero gradient).
Tensor mmi_softmax_loss(const Tensor& log_probs, const Tensor& true_index, const Tensor& mask = Tensor());

// log_p_true, log_p_negative floating [B]: log p(S_b | R_b, I_b) and log p(S_b | R'_b, I_b).
// Requires: same shape, margin >= 0, lambda >= 0, both finite. Ensures: the scalar MMI-MM loss.
Tensor mmi_mm_loss(const Tensor& log_p_true, const Tensor& log_p_negative, double margin, double lambda);

}  // namespace mrnn
