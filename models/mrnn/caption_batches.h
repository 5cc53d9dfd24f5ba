// A caption split's training batches in epoch-plan order (data/batching.h), each with its distinct
// images, sliced from memory or decoded ahead by an ImageLoader when the split is streamed. Why: one
// interface for the trainer whatever the image source, and one CNN pass per distinct image.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "data/batching.h"
#include "data/image_loader.h"
#include "models/mrnn/caption_data.h"

namespace mrnn {

struct CaptionBatchOptions {
  BatchPlanOptions plan;         // batch size, shuffle seed, length bucketing, drop_last
  int loader_threads = 0;        // streamed splits: decoding threads (0 = one per hardware thread)
  int64_t prefetch_batches = 4;  // streamed splits: batches decoded ahead
  bool skip_bad = false;         // streamed splits: drop unreadable images and their captions
};

struct CaptionTrainBatch {
  std::vector<int64_t> captions;  // caption indices to train on (all of the plan's batch unless skip_bad dropped some)
  int64_t planned = 0;            // captions the plan put in this batch: the epoch position advances by this
  Tensor images;                  // the batch's distinct images [U, 3, S, S] (or features [U, D]), first-use order
  Tensor rows;                    // i64 [captions.size()]: the row of `images` for each caption
};

// Lengths the plans bucket by: the number of words of each caption.
std::vector<int64_t> caption_lengths(const CaptionSplit& split);

// Requires: split's images in memory; captions index split.captions.
// Ensures: the batch of those captions with their distinct images (index_select of split.images
// in first-use order) and each caption's row; planned = captions.size().
CaptionTrainBatch in_memory_batch(const CaptionSplit& split, const std::vector<int64_t>& captions);

// Requires: 0 <= lo <= hi <= b.captions.size(). Ensures: b holds only its captions [lo, hi), their
// distinct images in first-use order and each one's row (no images when none is left); planned
// is unchanged (the epoch position still advances by the whole batch). For data-parallel shards.
void keep_captions(CaptionTrainBatch& b, int64_t lo, int64_t hi);

class CaptionBatches {
 public:
  // Requires: split outlives this object and has at least one caption; a streamed split has
  // image_paths and image_size. Throws Error naming the bad option otherwise.
  CaptionBatches(const CaptionSplit& split, const CaptionBatchOptions& options);
  CaptionBatches(const CaptionBatches&) = delete;  // the loader's batch source points at this object
  CaptionBatches& operator=(const CaptionBatches&) = delete;

  // Requires: epoch >= 0 and pos a batch boundary of epoch's plan, before its end.
  // Ensures: the plan's batch of `epoch` that starts after `pos` captions of that epoch. When each
  // call starts where the previous batch ended (moving to the next epoch after the last batch),
  // a streamed split's batches come from the loader's prefetch; any other position restarts the
  // loader there. Throws Error when pos is not a batch boundary (naming it), or naming the image
  // file that cannot be decoded (streamed, without skip_bad).
  CaptionTrainBatch fetch(int64_t epoch, int64_t pos);

  // Distinct images dropped by skip_bad so far (streamed splits).
  int64_t skipped_images() const;
  // Seconds fetch() waited for image decoding (streamed splits): how much loading stalled training.
  double wait_seconds() const;
  // The plan of `epoch` (computed once and kept while it is in use).
  const BatchPlan& plan(int64_t epoch);

 private:
  bool next_for_loader(std::vector<int64_t>& captions);
  void restart_loader(int64_t epoch, int64_t batch);

  const CaptionSplit& split_;
  CaptionBatchOptions opt_;
  std::vector<int64_t> lengths_;
  std::map<int64_t, BatchPlan> plans_;
  int64_t cursor_epoch_ = -1, cursor_pos_ = -1, cursor_batch_ = -1;  // where the next sequential fetch starts

  // Streaming: the loader and the (epoch, batch) of each batch it has been given, oldest first.
  std::unique_ptr<ImageLoader> loader_;
  std::deque<std::pair<int64_t, int64_t>> queued_;
  int64_t source_epoch_ = 0, source_batch_ = 0;
  int64_t skipped_before_ = 0;
  double wait_before_ = 0;
};

}  // namespace mrnn
