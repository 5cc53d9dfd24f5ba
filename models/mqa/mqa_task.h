// mQA as a Task on the engine (models/engine/task.h): mean NLL of the answer tokens (and <eos>)
// given question and image, on shuffled batches of questions; validated by the VQA accuracy of
// greedy answers (eval/vqa_accuracy.h; the picked answer word for a sentence model), best by it.
#pragma once
#include <string>

#include "data/tokenizer.h"
#include "data/vocab.h"
#include "models/engine/task.h"
#include "models/mqa/mqa.h"
#include "models/mqa/mqa_answers.h"
#include "models/mqa/mqa_data.h"

namespace mrnn {

struct MqaTaskOptions {
  int64_t batch_size = 64;
  uint64_t seed = 1;            // the epochs' shuffle seed
  int64_t val_questions = 500;  // validation questions answered for accuracy (0 = all)
};

class MqaTask : public Task {
 public:
  // Requires: everything outlives the task; train and val encoded with vocab, with their images
  // (unless the model is blind); batch_size >= 1. Throws Error naming the bad option otherwise.
  MqaTask(Mqa& model, const Vocab& vocab, TokenizerMode mode, const AnswerWordPicker& picker, const MqaSplit& train,
          const MqaSplit& val, const MqaTaskOptions& options);
  Module& model() override { return model_; }
  int64_t epoch_size() const override { return train_.size(); }
  int64_t batches_per_epoch() const override { return (train_.size() + opt_.batch_size - 1) / opt_.batch_size; }
  std::unique_ptr<Batch> next_batch(int64_t epoch, int64_t pos) override;
  bool batches_follow_model() const override { return true; }  // host batches, copied to the model's device
  Tensor loss(Batch& batch) override;
  // accuracy (VQA, %, of the first val_questions val questions), and the same per answer type
  // ("accuracy_<type>", non-alphanumerics as '_').
  std::vector<Metric> validate() override;
  // The same metrics, bit for bit: the decoding chunks (128 questions, answer_split's) shared out
  // among the ranks (map_chunks), the accuracy computed on every rank from all the answers.
  std::vector<Metric> validate_sharded(Comm& comm, double timeout_s) override;
  BestBy best_by() const override { return {"accuracy", Goal::Maximize}; }
  std::string rate_unit() const override { return "questions"; }
  std::string state_json() const override;
  void load_state_json(const std::string& text, const std::string& what) override;
  std::string order_json() const override;
  // Data parallel: the rank's contiguous part of the batch; the dropout stream mixed with the rank.
  void shard(Batch& batch, int rank, int size) override;
  void derive_rank_streams(int rank) override;

 private:
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  int64_t val_count() const;  // the validation questions scored
  std::vector<Metric> metrics_of(const std::vector<std::string>& answers) const;  // answers of rows 0..n-1
  Mqa& model_;
  const Vocab& vocab_;
  TokenizerMode mode_;
  const AnswerWordPicker& picker_;
  const MqaSplit& train_;
  const MqaSplit& val_;
  MqaTaskOptions opt_;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<int64_t> order_;
};

}  // namespace mrnn
