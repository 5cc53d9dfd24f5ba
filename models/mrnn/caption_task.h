// Captioning as a Task on the engine (models/engine/task.h): an m-RNN trained by mean NLL on
// shuffled (optionally length-bucketed, optionally streamed) caption batches, validated by
// perplexity and by BLEU-4 / CIDEr-D / ROUGE-L of greedy captions, best by CIDEr-D.
#pragma once
#include <memory>
#include <string>

#include "data/scene_file.h"
#include "data/vocab.h"
#include "models/mrnn/caption_batches.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/caption_trainer.h"
#include "models/engine/task.h"
#include "models/mrnn/mrnn.h"

namespace mrnn {

struct CaptionTaskOptions {
  int64_t batch_size = 64;
  uint64_t seed = 1;              // the epoch plans' shuffle seed
  int64_t bucket = 0;             // length-bucketing window in batches (0 = off)
  bool group_by_image = false;    // batches hold all captions of their images (data/batching.h group_of)
  int64_t val_images = 200;       // images greedy-decoded for validation BLEU/CIDEr (0 = all)
  int loader_threads = 0;         // streamed train split: decoding threads (0 = hardware threads)
  int64_t prefetch_batches = 4;   // streamed train split: batches decoded ahead
  bool skip_bad_images = false;   // streamed train split: drop unreadable images' captions
  // When set (outlives the task): validation also reports scene_correct, the % of the greedy val
  // captions whose every claim holds (data/scene_check.h); scenes_name names it in errors.
  const SceneFile* scenes = nullptr;
  std::string scenes_name;
};

class CaptionTask : public Task {
 public:
  // Requires: model, vocab, train and val outlive the task; train has at least one caption;
  // batch_size >= 1. Throws Error naming the bad option otherwise.
  CaptionTask(Mrnn& model, const Vocab& vocab, const CaptionSplit& train, const CaptionSplit& val,
              const CaptionTaskOptions& options);

  Module& model() override { return model_; }
  int64_t epoch_size() const override;
  int64_t batches_per_epoch() const override;
  std::unique_ptr<Batch> next_batch(int64_t epoch, int64_t pos) override;
  Tensor loss(Batch& batch) override;
  // perplexity (val captions), bleu4, cider_d and rouge_l (greedy captions of val_images images),
  // and scene_correct / scene_object_precision when options.scenes is set.
  std::vector<Metric> validate() override;
  // The same metrics, bit for bit, with the perplexity batches and the decoded image chunks shared
  // out among the ranks (map_chunks) and the scores computed on every rank from all of them.
  std::vector<Metric> validate_sharded(Comm& comm, double timeout_s) override;
  BestBy best_by() const override { return {"cider_d", Goal::Maximize}; }
  std::string rate_unit() const override { return "words"; }
  bool batches_follow_model() const override { return true; }

  // The dropout stream: {"dropout_seed", "dropout_offset"}.
  std::string state_json() const override;
  void load_state_json(const std::string& text, const std::string& what) override;
  // {"batch", "seed", "bucket"}: the options that fix the batch order.
  std::string order_json() const override;
  // Data parallel: the rank's contiguous part of the batch; the dropout stream mixed with the rank.
  void shard(Batch& batch, int rank, int size) override;
  void derive_rank_streams(int rank) override;
  void check_order(const std::string& saved, const std::string& what) const override;

  int64_t skipped_images() const { return batches_.skipped_images(); }
  double loader_wait_seconds() const { return batches_.wait_seconds(); }

 private:
  // validate()'s metrics from the perplexity and the scored greedy captions.
  std::vector<Metric> metrics_of(double perplexity, const CaptionEvalSummary& s) const;

  Mrnn& model_;
  const Vocab& vocab_;
  const CaptionSplit& train_;
  const CaptionSplit& val_;
  CaptionTaskOptions opt_;
  CaptionBatches batches_;
};

}  // namespace mrnn
