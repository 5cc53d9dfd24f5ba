// Task: what a model needs to train on the one Trainer (models/engine/trainer.h), shaped like
// Lightning's training_step / validation_step. A task owns its model and data; the Trainer owns
// everything else (optimizer, schedule, clipping, NaN policy, checkpoints, resume, best-by-metric,
// logs, progress). Why: captioning, NVCS, embeddings, refexp and mQA then share one loop, one
// resume and one log format, and a new model is one Task plus one program (docs/adding-a-model.md).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"
#include "layers/module.h"
#include "models/engine/comm.h"

namespace mrnn {

// One training batch. Tasks derive from it to carry their tensors.
struct Batch {
  virtual ~Batch() = default;
  int64_t consumed = 0;  // examples of the epoch this batch used up: the data cursor advances by this
  bool empty = false;    // nothing to train on (e.g. every image unreadable): no step is taken
  int64_t units = 0;     // what the rate counts (words, questions, ...): set by Task::loss
  // What the loss is a mean over (set by Task::loss; 0 = units). A data-parallel run weights each
  // rank's loss by its norm over the sum of every rank's norm, so that the ranks' gradients add up
  // to the gradient of the global batch's mean (docs/distributed.md).
  int64_t norm = 0;
};

// A named validation result. key is what log.jsonl and best-by-metric use ("cider_d"); label is
// what a person reads ("CIDEr-D").
struct Metric {
  std::string key, label;
  double value = 0;
};

enum class Goal { Maximize, Minimize };
struct BestBy {
  std::string key;  // a Metric key returned by validate()
  Goal goal = Goal::Maximize;
};

class Task {
 public:
  virtual ~Task() = default;

  virtual Module& model() = 0;
  // Examples in one epoch (>= 1). The data cursor is (epoch, pos) with 0 <= pos < epoch_size().
  virtual int64_t epoch_size() const = 0;
  // Training steps in one epoch (>= 1): what epochs are converted to steps with.
  virtual int64_t batches_per_epoch() const = 0;
  // Requires: pos is where the previous batch of this epoch ended (0 for an epoch's first).
  // Ensures: the same batch for the same (epoch, pos), run after run: that is what makes resume
  // exact. consumed >= 1.
  virtual std::unique_ptr<Batch> next_batch(int64_t epoch, int64_t pos) = 0;
  // The scalar training loss of a batch, with its autograd graph; sets batch.units.
  virtual Tensor loss(Batch& batch) = 0;
  // Validation metrics (the model is in eval mode and grad mode is off while this runs).
  virtual std::vector<Metric> validate() = 0;
  // The same metrics computed by all ranks of a data-parallel run together (each a part, e.g. with
  // map_chunks in models/engine/comm.h) and returned on every rank, equal to validate()'s. Called
  // instead of validate() only when comm.size() > 1. Default: validate() on every rank (the same
  // numbers, no time saved).
  virtual std::vector<Metric> validate_sharded(Comm& comm, double timeout_s) { return validate(); }
  // The default "best" criterion (the Trainer's option may name another metric).
  virtual BestBy best_by() const = 0;
  // True when loss() (and validate()) move their inputs to model().device(), so the task trains on
  // any device the Trainer puts the model on (TrainerOptions::device). Default: false (CPU only;
  // the Trainer refuses another device, naming it).
  virtual bool batches_follow_model() const { return false; }
  // What the progress line counts ("words/s").
  virtual std::string rate_unit() const { return "examples"; }

  // ---- state a checkpoint must hold besides the weights, the optimizer and the cursor ----
  // A JSON object (text) of the task's own state, e.g. its random streams.
  virtual std::string state_json() const { return "{}"; }
  // Requires nothing of text (a damaged checkpoint); throws Error naming `what` and the field.
  virtual void load_state_json(const std::string& text, const std::string& what) {}
  // Extra tensors ("task.<name>" in the checkpoint), e.g. running statistics the model lacks.
  virtual std::map<std::string, Tensor> state_tensors() const { return {}; }
  virtual void load_state_tensors(const std::map<std::string, Tensor>& tensors, const std::string& what) {}
  // Options that fix the batch order (batch size, shuffle seed, ...) as a JSON object; a resume
  // with other values would not continue the same run.
  virtual std::string order_json() const { return "{}"; }
  // Requires nothing of saved (a checkpoint's order_json, or "" when it recorded none). Throws Error
  // naming `what` when resuming from it would change the batch order. Default: every key present
  // in both must be equal.
  virtual void check_order(const std::string& saved, const std::string& what) const;

  // ---- data-parallel training (models/engine/comm.h, docs/distributed.md) ----
  // Requires: batch came from next_batch; 0 <= rank < size. Ensures: batch keeps only the examples
  // rank `rank` of `size` trains on, the rank-th of `size` contiguous near-equal parts of the batch
  // (examples [n*rank/size, n*(rank+1)/size) of its n), so that the parts of all ranks are the
  // batch; consumed is unchanged (the data cursor is global); empty is set when the part has no
  // example. Default: throws Error (the task cannot train data-parallel).
  virtual void shard(Batch& batch, int rank, int size);
  // Re-seeds the task's random streams (dropout) from their current state and `rank` (>= 1), so
  // that ranks draw different masks and a repeated run draws the same ones. Rank 0 keeps the
  // single-process streams. Default: nothing (a task without random streams).
  virtual void derive_rank_streams(int rank) {}
};

// Examples [first, second) of n for rank `rank` of `size` (Task::shard's split).
std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size);
// A dropout stream for rank >= 1 derived from g (seed and rank mixed, offset kept): what
// Task::derive_rank_streams implementations use.
Generator rank_stream(const Generator& g, int rank);

}  // namespace mrnn
