// What the host must know after a training step's backward pass: the loss and the gradients' sum
// of squares (from which the finite check and the clip factor follow). Why one function: on a GPU
// both come back in a single 16-byte device-to-host copy, the step's only read (docs/cuda.md).
#pragma once
#include "core/tensor.h"

namespace mrnn {

struct StepStats {
  double loss = 0;         // 0 when no loss was given
  double sum_squares = 0;  // grad_sum_squares(params), models/engine/grad_clip.h
};

// Requires: loss undefined or one element (any float dtype); sumsq one f64 element. Ensures: their
// values; when both are on the same GPU, read in one copy (otherwise one read each; on the CPU no
// copy at all).
StepStats read_step_stats(const Tensor& loss, const Tensor& sumsq);

}  // namespace mrnn
