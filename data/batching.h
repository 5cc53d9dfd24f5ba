// Epoch plans (which captions form each mini-batch, seeded, optionally bucketed by length) and the
// padded token matrix + mask of one batch. Why: a plan that is a pure function of (lengths, seed,
// epoch, options) makes shuffling reproducible and lets training resume at any batch boundary.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

struct BatchPlanOptions {
  int64_t batch_size = 64;
  uint64_t seed = 1;
  // 0: no bucketing. K > 0: after shuffling, sort captions by length inside each window of
  // K * batch_size consecutive captions, cut the windows into batches, then shuffle the batch
  // order, so batches hold captions of similar length (little padding) yet come in random order.
  int64_t bucket_batches = 0;
  bool drop_last = false;  // drop a final batch smaller than batch_size
  // Empty: captions are shuffled one by one. Else group_of[i] is the image of caption i, and the
  // epoch's order is the images in shuffled order, each with all its captions together (in
  // shuffled order), cut into batches. Why: a batch then holds every caption of about
  // batch_size / captions-per-image images, so one CNN pass serves them all and the image's
  // gradient sums what all its captions say (NeuralTalk2's seq_per_img). Not with bucketing.
  std::vector<int64_t> group_of;
};

// One epoch's batches, each a list of caption indices, in training order.
using BatchPlan = std::vector<std::vector<int64_t>>;

// Requires: n >= 0.
// Ensures: a permutation of 0..n-1 that depends only on (n, seed, epoch): Fisher-Yates (from the
// last element down) drawing Generator(seed * 1000003 + epoch).randint(i + 1) for position i.
std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch);

// Requires: options.batch_size >= 1, options.bucket_batches >= 0, epoch >= 0, every length >= 0.
// Ensures: every caption index 0..lengths.size()-1 appears exactly once over all batches (except
// the dropped tail when drop_last), every batch has batch_size captions except possibly one (the
// last one without bucketing; anywhere in the order with bucketing). Without bucketing the plan is
// shuffled_order(...) cut into consecutive batches; with group_of, that order stably sorted by
// the position where each caption's group first appears in it. Same arguments -> same plan.
// Throws Error naming the bad option otherwise (group_of of another size, or with bucketing).
BatchPlan plan_epoch(const std::vector<int64_t>& lengths, int64_t epoch, const BatchPlanOptions& options);

// Requires: 0 <= captions_done <= total captions of plan.
// Ensures: the index b such that batches 0..b-1 of plan hold exactly captions_done captions
// (plan.size() when the epoch is complete). Throws Error when captions_done is not such a batch
// boundary (e.g. a checkpoint written with another batch size or bucketing).
int64_t batch_at(const BatchPlan& plan, int64_t captions_done);

// Ensures: the fraction of the token slots of the plan's padded batches that are padding:
// sum over batches of (B * max length - sum of lengths) / sum over batches of (B * max length);
// 0 for an empty plan.
double padding_fraction(const BatchPlan& plan, const std::vector<int64_t>& lengths);

struct TokenBatch {
  Tensor tokens;  // i64 [B, L]: <bos> words <eos> then <pad>; L = longest selected sequence + 2
  Tensor mask;    // f32 [B, L]: 1 on <bos>, words and <eos>, 0 on padding
};

// Requires: every index in [0, sequences.size()); !indices.empty().
// Ensures: row b frames sequences[indices[b]] with Vocab::kBos / kEos and pads with Vocab::kPad.
// Throws Error naming the bad index otherwise.
TokenBatch pad_token_batch(const std::vector<std::vector<int32_t>>& sequences,
                           const std::vector<int64_t>& indices);

}  // namespace mrnn
