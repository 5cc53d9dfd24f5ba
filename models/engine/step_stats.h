// What the host must know after a training step's backward pass: the loss and the gradients' sum
// of squares (from which the finite check and the clip factor follow), and whether an embedding saw
// a bad index. Why one function: on a GPU all of it comes back in a single 40-byte device-to-host
// copy, the step's one read of its own (docs/cuda.md).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

struct StepStats {
  double loss = 0;         // 0 when no loss was given
  double sum_squares = 0;  // grad_sum_squares(params), models/engine/grad_clip.h
  // The step's deferred embedding check (kernels/index_check.h DeferredIndexCheck::record()), for
  // DeferredIndexCheck::finish(values); empty when no record was given.
  std::vector<int64_t> index_record;
};

// Requires: loss undefined or one element (any float dtype); sumsq one f64 element; index_record
// undefined or three i64s. Ensures: their values; what lies on the same GPU as sumsq is read in one
// copy (anything elsewhere is read on its own; on the CPU nothing is copied).
StepStats read_step_stats(const Tensor& loss, const Tensor& sumsq, const Tensor& index_record = Tensor());

}  // namespace mrnn
