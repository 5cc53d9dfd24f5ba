// The per-element SGD-with-momentum update on f32 weights, shared by models/engine/optim.cpp's CPU
// loop and the fused CUDA step (kernels/cuda/optim_step.cu). Why: one formula, so the device step
// is checked against the CPU reference rather than against a second copy of it.
#pragma once
#include "kernels/common/host_device.h"

namespace mrnn {

// One weight w with its velocity v and gradient g; lr is the group's learning rate for this step,
// wd its weight decay (L2, added to the gradient), mu the momentum.
// Ensures: g' = g + wd w;  v = mu v + g';  w -= lr v, in f32, in exactly this order (the order the
// CPU loop had before the formula moved here, so CPU results are unchanged).
MRNN_HD void sgd_update(float& w, float& v, float g, float lr, float wd, float mu) {
  const float gi = g + wd * w;
  v = mu * v + gi;
  w -= lr * v;
}

}  // namespace mrnn
