// Global-norm gradient clipping and the NaN/Inf check, on whichever device the parameters live.
// On the CPU these are the reference loops; on a GPU they run as multi-tensor kernels
// (kernels/cuda/optim_step.h) and the two-step form (grad_sum_squares, then clip_grads) reads
// nothing back to the host, so a training step can learn its loss and finite flag in one small read
// (models/engine/trainer.cpp) — or none, with the optimizers' guard (Optimizer::step).
#pragma once
#include <cstddef>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

// Requires: every parameter's gradient (those defined) on one device; on a GPU contiguous f32.
// Ensures: a one-element f64 tensor on that device (the CPU when no gradient is defined) holding the
// sum over every gradient element of g^2, accumulated in f64 (NaN/Inf propagate, and finite f32
// values never overflow it, so the sum is finite exactly when every gradient is). On the CPU the sum
// is clip_grad_norm's, bit for bit (fixed 16384-element blocks added in order, parameters in order).
Tensor grad_sum_squares(const std::vector<Tensor>& params);

// Requires: sumsq from grad_sum_squares(params) (same device). Ensures: when sumsq is finite,
// max_norm > 0 and norm = sqrt(sumsq) > max_norm, every gradient is multiplied by
// float(max_norm / (norm + 1e-6)); otherwise nothing changes. On the CPU this is clip_grad_norm's
// scaling bit for bit; on a GPU the factor is computed on the device (no host read).
void clip_grads(const std::vector<Tensor>& params, const Tensor& sumsq, double max_norm);

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before
// (a GPU: one read of the norm).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);
// True if every gradient is finite; otherwise `bad` gets the index of the first bad parameter
// (a GPU: one read per parameter; for error paths).
bool grads_finite(const std::vector<Tensor>& params, size_t* bad = nullptr);

}  // namespace mrnn
