// Referring-expression comprehension with the speaker (Mao et al., section 4): given an image, its
// candidate regions and an expression S, pick argmax_R p(S | R, I). All expressions x all candidate
// regions of one image are scored in one batched call of Speaker::sequence_log_probs (E x R rows),
// not one pair at a time. Why also the differentiable scores: MMI-SoftMax (models/refexp/losses.h)
// trains on exactly this [E, R] table with the true region's column.
#pragma once
#include <cstdint>
#include <vector>

#include "models/refexp/speaker.h"

namespace mrnn {

// The expressions and candidate regions of one image.
// inputs, targets i64 [E, T]: E expressions, teacher-forced as SpeakerBatch says.
// region f32 [R, feature_dim] (Speaker::encode of the crops), image [1, feature_dim] (the image's
// feature, shared by every region), location [R, 5] (location_tensor of the candidate boxes).
struct RegionQuery {
  Tensor inputs, targets;
  Tensor region, image, location;
};

// log p(S_e | R_r, I): [E, R], row-major over (expression, region), differentiable (one call of
// sequence_log_probs on E * R rows). Requires: the shapes above, E, R >= 1; throws Error otherwise.
Tensor region_log_probs(const Speaker& speaker, const RegionQuery& q);

struct Comprehension {
  Tensor scores;              // [E, R] log p(S_e | R_r, I), no gradient
  std::vector<int64_t> best;  // per expression, the region index with the highest score (ties: lowest)
};

// region_log_probs under NoGradGuard, then the argmax per expression.
Comprehension comprehend(const Speaker& speaker, const RegionQuery& q);

}  // namespace mrnn
