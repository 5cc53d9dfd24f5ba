// Multimodal word-embedding training (models/embed/embed_model.h) as a Task on the engine: the
// variant's loss on shuffled caption batches of a Karpathy-format split (images or precomputed
// features, the captioner's data path), validated by perplexity and the auxiliary loss on the val
// split, best by perplexity. Why the captioner's batches: the same deterministic epoch plans,
// distinct-image batching and exact resume, with nothing copied.
#pragma once
#include <string>

#include "models/embed/embed_model.h"
#include "models/engine/task.h"
#include "models/mrnn/caption_batches.h"
#include "models/mrnn/caption_data.h"

namespace mrnn {

struct EmbedTaskOptions {
  int64_t batch_size = 64;
  uint64_t seed = 1;   // the epoch plans' shuffle seed
  int64_t bucket = 0;  // length-bucketing window in batches (0 = off)
};

// Validation of a split without gradients: perplexity of the language model, the mean auxiliary
// loss per sentence (0 for A) and the mean total loss per batch row.
struct EmbedSplitScores {
  double perplexity = 0, aux = 0;
};
EmbedSplitScores score_split(const EmbedModel& model, const CaptionSplit& split, int64_t batch_size = 128);

class EmbedTask : public Task {
 public:
  // Requires: model, train and val outlive the task; train has at least one caption; batch_size
  // >= 1; the splits' images in memory. Throws Error naming the bad option otherwise.
  EmbedTask(EmbedModel& model, const CaptionSplit& train, const CaptionSplit& val, const EmbedTaskOptions& options);

  Module& model() override { return model_; }
  int64_t epoch_size() const override;
  int64_t batches_per_epoch() const override;
  std::unique_ptr<Batch> next_batch(int64_t epoch, int64_t pos) override;
  Tensor loss(Batch& batch) override;
  // perplexity and aux (val split; aux is 0 for A).
  std::vector<Metric> validate() override;
  BestBy best_by() const override { return {"perplexity", Goal::Minimize}; }
  std::string rate_unit() const override { return "words"; }
  bool batches_follow_model() const override { return true; }  // host tokens, images copied once

  std::string state_json() const override;  // {"dropout_seed", "dropout_offset"}
  void load_state_json(const std::string& text, const std::string& what) override;
  std::string order_json() const override;  // {"batch", "seed", "bucket"}
  // Data parallel: the rank's contiguous part of the batch; the dropout stream mixed with the rank.
  // The loss is weighted by its LM targets; for B and C the shard also records the whole batch's
  // captions, and loss() rescales the auxiliary term (a mean over captions) to match, so N ranks
  // give one process's gradient for A, B and C.
  void shard(Batch& batch, int rank, int size) override;
  void derive_rank_streams(int rank) override;

 private:
  EmbedModel& model_;
  const CaptionSplit& train_;
  const CaptionSplit& val_;
  EmbedTaskOptions opt_;
  CaptionBatches batches_;
};

}  // namespace mrnn
