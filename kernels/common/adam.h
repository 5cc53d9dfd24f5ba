// The per-element Adam / AdamW update on f32 weights, shared by models/engine/optim.cpp's CPU loop and
// the CUDA training benchmark's kernel (bench/bench_train_adam.cu). Why: one formula, so the
// benchmark times the update the library's Adam makes rather than a second version of it.
#pragma once
#include <cmath>

#include "kernels/common/host_device.h"

namespace mrnn {

// The constants of one Adam step, computed once per step on the host (t = step count, from 1):
struct AdamStep {
  float b1, b2, eps;   // betas and epsilon, as given to the optimizer
  float step_size;     // lr / (1 - b1^t)
  float inv_sqrt_bc2;  // 1 / sqrt(1 - b2^t)
  float wd;            // weight decay added to the gradient (Adam, decoupled = false)
  float decay;         // 1 - lr * weight_decay, applied to the weight first (AdamW, decoupled = true)
  bool decoupled;
};

// One weight w with its moments m, v and gradient g.
// Requires: s as above (it is taken by value, so the update cannot alias it).
// Ensures: AdamW first scales w by s.decay, Adam adds s.wd * w to g; then
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  w -= step_size m / (sqrt(v) inv_sqrt_bc2 + eps),
// in f32, in exactly this order (so CPU results do not change with where the formula lives).
// Branch-free (selects, one unconditional store per array), so CPU loops over it vectorize.
MRNN_HD void adam_update(float& w, float& m, float& v, float g, AdamStep s) {
  const float w0 = s.decoupled ? w * s.decay : w;
  const float gi = s.decoupled ? g : g + s.wd * w;
  m = s.b1 * m + (1 - s.b1) * gi;
  v = s.b2 * v + (1 - s.b2) * gi * gi;
  w = w0 - s.step_size * m / (std::sqrt(v) * s.inv_sqrt_bc2 + s.eps);
}

}  // namespace mrnn
