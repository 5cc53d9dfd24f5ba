// The referring-expression speaker as a Task on the engine (models/engine/task.h), with one of the
// paper's objectives (models/refexp/losses.h) on shuffled batches of (expression, object) pairs:
//   none     ML: -mean log p(S | R, I)
//   softmax  ML + lambda * MMI-SoftMax over all annotated objects of the image (the true one included)
//   margin   MMI-MM: ML - lambda * max(0, M - log p(S | R) + log p(S | R')), one negative R' drawn
//            from the image's other objects by sample_negative(seed, epoch, example)
// Validated by precision@1 with the ground-truth objects as candidates (best by it).
// An image with one object gives MMI nothing to contrast: under softmax/margin its expressions are
// left out of training and counted (skipped_single()).
#pragma once
#include <string>

#include "models/engine/task.h"
#include "models/refexp/refexp_data.h"
#include "models/refexp/speaker.h"

namespace mrnn {

struct RefexpTaskOptions {
  std::string mmi = "none";  // none | softmax | margin
  double margin = 0.1, lambda = 1.0;
  int64_t batch_size = 32;
  uint64_t seed = 1;          // shuffle and negatives
  int64_t val_count = 500;    // validation expressions comprehended (0 = all)
};

class RefexpTask : public Task {
 public:
  // Requires: everything outlives the task; train and val encoded, with pixels. Throws Error naming
  // the bad option, or when no training expression is left (every image has one object under MMI).
  RefexpTask(Speaker& model, const RefexpSplit& train, const RefexpSplit& val, const RefexpTaskOptions& options);
  Module& model() override { return model_; }
  int64_t epoch_size() const override { return static_cast<int64_t>(rows_.size()); }
  int64_t batches_per_epoch() const override { return (epoch_size() + opt_.batch_size - 1) / opt_.batch_size; }
  std::unique_ptr<Batch> next_batch(int64_t epoch, int64_t pos) override;
  bool batches_follow_model() const override { return true; }  // host batches, copied to the model's device
  Tensor loss(Batch& batch) override;
  // precision_gt (P@1, %, GT candidates, the first val_count val expressions).
  std::vector<Metric> validate() override;
  BestBy best_by() const override { return {"precision_gt", Goal::Maximize}; }
  std::string rate_unit() const override { return "expressions"; }
  std::string state_json() const override;
  void load_state_json(const std::string& text, const std::string& what) override;
  std::string order_json() const override;
  // Training expressions left out because their image has a single object (MMI only).
  int64_t skipped_single() const { return skipped_; }

 private:
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  Speaker& model_;
  const RefexpSplit& train_;
  const RefexpSplit& val_;
  RefexpTaskOptions opt_;
  std::vector<int64_t> rows_;  // the training examples used
  int64_t skipped_ = 0;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<int64_t> order_;
};

}  // namespace mrnn
