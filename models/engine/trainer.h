// The one training loop every Task runs on: the optimizer with parameter groups (per-group lr scale
// and weight decay, frozen groups, frozen rows), the LR schedule with warm-up, global-norm
// clipping, the NaN/Inf policy, validation every N steps with the best checkpoint by any named
// metric, rotating checkpoints (atomic, checksummed), exact resume (bit-identical on the CPU),
// JSON-lines logs and a progress line with rate and ETA.
//
// out_dir after a run: model.safetensors (the best weights by the chosen metric),
// checkpoint.safetensors + checkpoint-<step>.safetensors (the last keep_checkpoints), log.jsonl.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "models/engine/comm.h"
#include "models/engine/task.h"

namespace mrnn {

// Parameters are put in the first group whose prefixes match their dotted name; those no group
// matches form the group "default" (lr_scale 1, the trainer's weight decay).
struct ParamGroupSpec {
  std::string name;
  std::vector<std::string> prefixes;  // a parameter matches when its name starts with one ("" matches all)
  double lr_scale = 1.0;
  double weight_decay = -1;           // < 0: TrainerOptions::weight_decay
  bool frozen = false;                // requires_grad_(false): no gradient, no update, bit-identical
  // Parameter name -> n: rows [0, n) of that parameter never change (e.g. an embedding's old words
  // while new words train). Gradients of those rows are zeroed before clipping.
  std::map<std::string, int64_t> frozen_rows;
};

struct TrainerOptions {
  std::string out_dir;
  int64_t epochs = 10;
  int64_t max_steps = 0;            // stop after this many steps in total (0 = epochs decide)
  std::string optimizer = "adam";   // adam | adamw | sgd
  double lr = 2e-3;
  double weight_decay = 0;
  double clip = 5;                  // global gradient-norm clip (0 = off)
  std::string schedule = "cosine";  // constant | cosine | step
  int64_t warmup = 50;
  int64_t val_every = 0;            // steps between validations (0 = once per epoch)
  bool resume = false;              // continue from the newest usable checkpoint in out_dir
  int64_t keep_checkpoints = 2;     // numbered checkpoints kept (>= 1)
  bool progress = true;             // progress line on stderr
  // stop | skip: a step with a NaN/Inf loss or gradient. stop throws Error naming the step, the
  // loss or the parameters, and the newest checkpoint (the weights are not updated); skip leaves
  // weights and optimizer untouched, logs a "nonfinite" event and counts it.
  std::string nan_policy = "stop";
  int64_t stop_after_steps = 0;     // testing aid: return (as if killed) after this many steps of this run
  std::string best_metric;          // "" = the task's best_by(); else a metric key with best_goal
  Goal best_goal = Goal::Maximize;
  std::vector<ParamGroupSpec> groups;
  // Where the model trains. fit() moves the model there (Module::to) before building the optimizer,
  // whose state and step then live there too (models/engine/optim.h); the task moves each batch to
  // model().device() (Task::batches_follow_model). On a GPU a step reads the device once (the loss
  // and the gradients' sum of squares together, models/engine/step_stats.h). Requires: a device
  // this build and machine have (core/device.h require_device), the CPU for data parallel.
  Device device = Device::cpu();
  // Called after each backward, before frozen rows are zeroed, the finite check and the update,
  // with the step (0-based) and the named parameters (gradients in .grad()). Empty: not called.
  std::function<void(int64_t step, const std::vector<std::pair<std::string, Tensor>>& params)> after_backward;

  // ---- data parallel (docs/distributed.md): N processes under mpirun, each training on its shard
  // (Task::shard) of every global batch, gradients summed across ranks. Rank 0 writes the
  // checkpoints, the best model and the log. ----
  Comm* comm = nullptr;             // nullptr: world_comm() (MPI under mpirun, else one process)
  double comm_timeout_s = 60;       // a rank that does not answer within this fails the job (named)
  int64_t bucket_bytes = 4 << 20;   // gradient buckets summed as one message
  bool overlap = true;              // start a bucket's sum while backward still runs
};

struct FitResult {
  int64_t steps = 0;
  std::string best_metric;
  double best_value = 0;            // meaningful when has_best
  bool has_best = false;
  double last_train_loss = 0;
  std::vector<Metric> last_val;     // the last validation's metrics
  int64_t skipped_steps = 0;        // steps of this run skipped by nan_policy = skip
  // This run's seconds in training steps, and of them the seconds blocked on the other ranks (the
  // per-step exchange of counts and the wait for the gradient sums); 0 for one process.
  double train_s = 0, comm_wait_s = 0;
};

// Trains task.model() in place (it ends holding the last step's weights; the best are in
// out_dir/model.safetensors). Requires: out_dir non-empty, epochs >= 1, keep_checkpoints >= 1,
// known optimizer / schedule / nan_policy, every frozen_rows name an existing parameter. Throws
// Error on bad options, on a resume that cannot continue this run exactly, or (nan_policy stop) on
// a non-finite loss or gradient.
FitResult fit(Task& task, const TrainerOptions& options);

}  // namespace mrnn
