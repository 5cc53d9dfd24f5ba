// The training checkpoints of a model directory: checkpoint-<step>.safetensors for the last K saves
// plus checkpoint.safetensors (the newest). Why: a checkpoint that is truncated or bit-flipped on
// disk (detected by its checksum) must cost a few steps of training, not the whole run.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/module.h"
#include "models/engine/optim.h"

namespace mrnn {

// What a training checkpoint records besides the tensors (metadata "mrnn_train_state", JSON).
struct TrainState {
  int64_t step = 0;               // optimizer steps done
  int64_t epoch = 0;              // current epoch (0-based)
  int64_t pos = 0;                // examples of this epoch already consumed
  bool has_best = false;          // a validation has run and set the best value
  std::string best_metric;        // the metric key "best" follows (e.g. "cider_d")
  double best_value = 0;
  std::string task = "{}";        // the task's own state (Task::state_json), a JSON object
  std::string options;            // the task's batch-order options (Task::order_json); "" = none recorded
  // Data parallel: the task state of ranks 1..N-1 of the run that wrote it (rank 0's is `task`),
  // JSON objects; empty for one process. world_size = 1 + rank_tasks.size().
  std::vector<std::string> rank_tasks;
};
// {"step", "epoch", "pos", "best": {"metric", "value"} (when has_best), "task": {...}, "options": {...},
// "world_size" and "rank_tasks": [{...}, ...] (data parallel only)}.
std::string train_state_json(const TrainState& s);
// Requires nothing (text is untrusted). Ensures, else throws Error naming `what` and the field:
// text is a JSON object whose step/epoch/pos are integers >= 0, "best" (optional) an object with a
// string "metric" and a number "value", "task" and "options" (optional) objects. "rank_tasks"
// (optional) an array of objects. Checkpoints
// written before the engine existed ("best_cider" and the task's fields at the top level) read as
// best = {"cider_d", best_cider} (none when it is -1) and task = the other top-level fields.
TrainState parse_train_state(const std::string& text, const std::string& what);

// Restores a checkpoint's contents (already verified by load_tensors): tensors named "model.X"
// into model (strict load_state_dict), "optim.X" into opt, "task.X" (as X) into task_tensors when
// it is given, and returns metadata["mrnn_train_state"].
// Requires nothing of the contents. Ensures, else throws Error naming `what` (the file) and the
// problem: only tensors with those prefixes ("task." only with task_tensors), all f32 except
// "optim.step" (one i64 >= 0), each fitting the model and optimizer. (On an error the model may
// hold part of the new weights.)
TrainState restore_training_checkpoint(const std::map<std::string, Tensor>& tensors,
                                       const std::map<std::string, std::string>& metadata, Module& model,
                                       Optimizer& opt, const std::string& what,
                                       std::map<std::string, Tensor>* task_tensors = nullptr);

// dir/checkpoint-<step>.safetensors.
std::string numbered_checkpoint_path(const std::string& dir, int64_t step);

// Requires: dir exists, step >= 0, keep >= 1.
// Ensures: dir/checkpoint-<step>.safetensors holds tensors + metadata (save_tensors: atomic, with a
// checksum); dir/checkpoint.safetensors is the same file (a hard link, or a second copy where the
// file system has none); of the numbered checkpoints only the `keep` newest remain, and none with a
// step above `step` (left by an abandoned timeline). Throws Error naming the file on I/O failure.
void save_training_checkpoint(const std::string& dir, int64_t step, const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata, int64_t keep);

// Called with a checkpoint's path and its verified tensors and metadata; throws if they cannot be used.
using RestoreCheckpoint = std::function<void(const std::string& path, const std::map<std::string, Tensor>& tensors,
                                             const std::map<std::string, std::string>& metadata)>;

// Tries dir's checkpoints newest first (numbered ones by step; checkpoint.safetensors second when it
// is a separate file rather than a hard link): each must load, carry the "mrnn_checksum"
// metadata, match its checksum and pass `restore`.
// Ensures: returns the path of the first that passes; every newer one that failed is renamed to
// <name>.corrupt (kept for inspection, never tried again) and described in *warnings (file, reason,
// where it went, which checkpoint is used instead). Throws Error naming dir when there is no
// checkpoint, or listing every checkpoint with its reason when none passes (nothing is renamed then).
std::string resume_newest_checkpoint(const std::string& dir, const RestoreCheckpoint& restore,
                                     std::vector<std::string>* warnings);

// For a run that starts over in dir: removes checkpoint.safetensors and every
// checkpoint-<step>.safetensors, so that a later resume cannot pick up the previous run's state.
void remove_training_checkpoints(const std::string& dir);

// Removes the temporary files that a killed writer leaves behind (<name>.tmp-<pid>-<n> next to
// checkpoint*.safetensors and model.safetensors). Returns how many were removed.
int remove_checkpoint_temporaries(const std::string& dir);

}  // namespace mrnn
