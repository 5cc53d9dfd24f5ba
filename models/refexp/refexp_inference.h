// Running a trained speaker over a refexp split: comprehension (every expression ranks its image's
// candidate regions by log p(S | R, I)) and generation (one expression per referred object, decoded
// greedily or by beam search). Why one place: validation, refexp_comprehend and refexp_generate
// must score and decode exactly alike.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "models/engine/step_decoder.h"
#include "models/refexp/refexp_data.h"
#include "models/refexp/speaker.h"

namespace mrnn {

// The speaker's features of every crop and whole image of the split (Speaker::encode, no gradient,
// in chunks of `chunk` images, each chunk's pixels copied to the speaker's device), kept on the host:
// [N, feature_dim] is small, and each use below copies only the rows it needs to the device.
// Requires: the split has pixels (or precomputed features).
struct SplitFeatures {
  Tensor crops, whole;
};
SplitFeatures encode_split_features(const Speaker& speaker, const RefexpSplit& split, int64_t chunk = 256);

// For each row (an example of the split) its image's candidates (GT boxes, or proposals), best
// first by log p(S | R, I) (ties: the lower index); empty when the image has no such candidate.
// tokens: the expression of each row (size rows.size()); empty: the split's own (split.tokens).
// At most max_pairs (expression, region) pairs are scored in one call. progress (optional) is
// called with (rows done, rows in all) after each call.
using InferenceProgress = std::function<void(int64_t done, int64_t total)>;
std::vector<std::vector<int64_t>> rank_candidates(const Speaker& speaker, const RefexpSplit& split,
                                                  const SplitFeatures& features, const std::vector<int64_t>& rows,
                                                  bool proposals,
                                                  const std::vector<std::vector<int32_t>>& tokens = {},
                                                  int64_t max_pairs = 2048, const InferenceProgress& progress = {});

// The candidate boxes of row's image in that order.
std::vector<Box> ranked_boxes(const RefexpSplit& split, int64_t row, const std::vector<int64_t>& order, bool proposals);

// One expression per row: the referred region of that row (its GT box, its image, its location),
// beam_size 1 = greedy. Token ids without <bos>/<eos>. progress as rank_candidates.
std::vector<std::vector<int64_t>> generate_expressions(const Speaker& speaker, const RefexpSplit& split,
                                                       const SplitFeatures& features, const std::vector<int64_t>& rows,
                                                       const DecodeOptions& options, int64_t chunk = 256,
                                                       const InferenceProgress& progress = {});

// P@1 with the GT candidates of the given rows (IoU >= 0.5 with the referred box, eval/refexp.h).
double gt_precision_at_1(const Speaker& speaker, const RefexpSplit& split, const SplitFeatures& features,
                         const std::vector<int64_t>& rows);

// The first row of each distinct annotation, in split order (generation makes one per object).
std::vector<int64_t> first_row_per_annotation(const RefexpSplit& split);

}  // namespace mrnn
