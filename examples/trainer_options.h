// Trainer flags shared by the programs. The data-parallel flags every trainer on the engine takes (caption_train, embed_train,
// mqa_train, nvcs_train; docs/distributed.md): run any of them as `mpirun -np N <program> ...` with
// the same flags. --batch stays the global batch; each rank trains on its part of every batch.
#pragma once
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>

#include "examples/cli_checks.h"
#include "models/engine/comm.h"

namespace mrnn::cli {

struct DistributedFlags {
  double comm_timeout_s = 60;
  double bucket_mb = 4;
  bool no_overlap = false;
};

inline void add_distributed_options(CLI::App& app, DistributedFlags& d) {
  app.add_option("--comm-timeout", d.comm_timeout_s,
                 "under mpirun: seconds a rank waits for the others before failing the whole job, naming the rank "
                 "that died or hangs")
      ->check(positive_real)->capture_default_str();
  app.add_option("--bucket-mb", d.bucket_mb, "under mpirun: gradients are summed across ranks in buckets of this many "
                 "MB")->check(positive_real)->capture_default_str();
  app.add_flag("--no-overlap", d.no_overlap, "under mpirun: sum the gradients after the backward pass instead of "
               "overlapping the sums with it (to measure what the overlap hides)");
}

// The optimizer and schedule flags that caption_train, embed_train and mqa_train share: the same
// names, help texts and checks in all three (defaults: the values already in `t`, a TrainerOptions or
// a TrainOptions). nvcs_train trains only new rows with Adam and has its own --lr text.
template <typename Options>
void add_optimizer_options(CLI::App& app, Options& t) {
  app.add_option("--optimizer", t.optimizer, "adam | adamw | sgd")->check(CLI::IsMember({"adam", "adamw", "sgd"}))
      ->capture_default_str();
  app.add_option("--lr", t.lr, "peak learning rate")->check(positive_real)->capture_default_str();
  app.add_option("--weight-decay", t.weight_decay, "weight decay")->check(nonnegative_real)->capture_default_str();
  app.add_option("--clip", t.clip, "global gradient-norm clip (0 = off)")->check(nonnegative_real)
      ->capture_default_str();
  app.add_option("--schedule", t.schedule, "constant | cosine | step")
      ->check(CLI::IsMember({"constant", "cosine", "step"}))->capture_default_str();
  app.add_option("--warmup", t.warmup, "linear warm-up steps")->check(nonnegative_int)->capture_default_str();
}

// The validation, checkpoint and NaN flags that mqa_train and refexp_train share (the same texts;
// caption_train and embed_train word theirs differently and keep their own).
template <typename Options>
void add_checkpoint_options(CLI::App& app, Options& t) {
  app.add_option("--val-every", t.val_every, "steps between validations (0 = each epoch)")->check(nonnegative_int)
      ->capture_default_str();
  app.add_flag("--resume", t.resume, "continue exactly from the newest usable checkpoint in OUT");
  app.add_option("--keep-checkpoints", t.keep_checkpoints, "numbered checkpoints kept")->check(positive_int)
      ->capture_default_str();
  app.add_option("--nan-policy", t.nan_policy, "a non-finite loss or gradient: stop | skip")
      ->check(CLI::IsMember({"stop", "skip"}))->capture_default_str();
  app.add_option("--stop-after", t.stop_after_steps, "testing aid: exit after N steps of this run")
      ->check(nonnegative_int)->capture_default_str();
}

// Copies the flags into a TrainerOptions or TrainOptions (comm_timeout_s, bucket_bytes, overlap).
template <typename Options>
void apply_distributed(const DistributedFlags& d, Options& t) {
  t.comm_timeout_s = d.comm_timeout_s;
  t.bucket_bytes = std::max<int64_t>(4, static_cast<int64_t>(d.bucket_mb * (1 << 20)));
  t.overlap = !d.no_overlap;
}

// True on the process that writes a run's files: rank 0 under mpirun, the only one otherwise.
inline bool lead_rank() { return world_comm().rank() == 0; }

}  // namespace mrnn::cli
