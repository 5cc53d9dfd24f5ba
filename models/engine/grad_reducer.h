// Sums the trainable parameters' gradients over the ranks of a data-parallel run, in buckets, the
// way PyTorch DDP does: the parameters are cut into buckets of about bucket_bytes in reverse model
// order (backward produces the last layers' gradients first), and a bucket's sum is started as soon
// as each of its gradients is final (core/autograd.h LeafGradHook) and every earlier bucket has
// been started, so the reduction overlaps the rest of the backward pass. Buckets start in one fixed
// order on every rank: collectives must be issued in the same order everywhere.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"
#include "models/engine/comm.h"

namespace mrnn {

class GradReducer {
 public:
  // Requires: params are f32 CPU tensors, the same ones in the same order on every rank;
  // bucket_bytes >= 4; comm outlives the reducer. overlap = false: every bucket starts after
  // backward (for measuring what the overlap hides).
  GradReducer(Comm& comm, std::vector<Tensor> params, int64_t bucket_bytes, bool overlap, double timeout_s);

  // Install for the duration of one backward pass (nullptr unless overlapping): it starts the
  // buckets whose gradients are final.
  std::unique_ptr<LeafGradHook> hook();
  // Before backward: no bucket started.
  void begin_step();
  // After backward: starts the buckets not yet started (in order), waits for every sum (throws
  // Error naming `what` after the timeout) and sets each parameter's .grad to sum * scale.
  // A parameter whose gradient is undefined on every rank (any_defined[i] false) is left
  // without one, as one process would leave it. Requires: begin_step() was called this step.
  void finish(float scale, const std::vector<bool>& any_defined, const std::string& what);

  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }
  // Seconds finish() spent blocked waiting for sums, and buckets started before finish(), since
  // construction.
  double wait_seconds() const { return wait_s_; }
  int64_t started_early() const { return started_early_; }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    std::vector<float> buffer;
    int64_t pending = 0;         // gradients not yet final this step
    int64_t request = -1;        // -1: not started this step
  };
  void on_ready(const Tensor& leaf);
  void start(Bucket& b);
  void start_ready_in_order();

  Comm& comm_;
  std::vector<Tensor> params_;
  std::vector<size_t> bucket_of_;
  std::unordered_map<const TensorImpl*, size_t> index_;
  std::vector<Bucket> buckets_;
  size_t next_to_start_ = 0;
  bool overlap_;
  double timeout_s_;
  double wait_s_ = 0;
  int64_t started_early_ = 0;
};

}  // namespace mrnn
