// The fused optimizer step and gradient clipping on a GPU: multi-tensor kernels, each one launch
// over every parameter of a model (models/engine/optim.cpp and grad_clip.cpp call them when the
// parameters live on a GPU; their CPU loops are the reference).
//
// Why multi-tensor and not one flat buffer (llm.c): in this library the parameters are owned by the
// modules (Module::to and the checkpoint loaders rebind them) and each step's gradients are
// allocated by the autograd engine (a leaf adopts its first gradient's buffer). Making them views of
// one flat buffer would change the ownership of both. A launch with a table of (pointers, sizes,
// per-parameter constants) passed as a kernel argument gives the same property — one kernel per
// step, no per-tensor launches, no host-device table copy to order — without that change. The
// table holds up to kSlotsPerLaunch parameters (the 4 KB kernel-argument limit); a model with more
// gets ceil(count / kSlotsPerLaunch) launches. Work is split into chunks of kChunk elements that
// never cross a parameter, so each block finds its parameter once (binary search over the table).
//
// Plain C++ header; defined only in builds with the CUDA backend. Every tensor: contiguous f32 on
// one GPU, shapes agreeing within a slot; otherwise mrnn::Error naming the function and the tensor.
// Nothing here reads device memory back to the host.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/common/adam.h"

namespace mrnn::cuda {

// Parameters one launch of the step kernels takes (the rest go to further launches).
constexpr int kSlotsPerLaunch = 40;

// One parameter of an Adam/AdamW step: weight w, gradient g, moments m and v; elements
// [begin, numel) are updated (those before are frozen rows: not read, not written); s as for
// kernels/common/adam.h's adam_update, computed on the host exactly as the CPU loop computes it.
struct AdamSlot {
  Tensor w, g, m, v;
  int64_t begin = 0;
  AdamStep s{};
};

// One parameter of an SGD step: weight w, gradient g, velocity v, [begin, numel) updated, with
// kernels/common/sgd.h's sgd_update(lr, wd, momentum).
struct SgdSlot {
  Tensor w, g, v;
  int64_t begin = 0;
  float lr = 0, wd = 0;
};

// guard (both steps): undefined, or a one-element f64 tensor on the same GPU holding a sum of
// squares of the gradients (grad_sum_squares below); when that value is not finite the kernels
// write nothing, so a step with a NaN/Inf gradient can be skipped without the host reading it.
void adam_step(const std::vector<AdamSlot>& slots, const Tensor& guard);
void sgd_step(const std::vector<SgdSlot>& slots, float momentum, const Tensor& guard);

// out (a one-element f64 tensor on the GPU) := the sum over every element of every tensor in xs of
// x^2, accumulated in f64 (NaN and Inf propagate). Deterministic: per-chunk partial sums, then one
// block adds them in a fixed order, so the result is the same run to run (it differs from the
// CPU's sum, which groups differently, in the last bits).
void grad_sum_squares(const std::vector<Tensor>& xs, const Tensor& out);

// Clipping by a global norm known only on the device: with norm = sqrt(*sumsq), when max_norm > 0
// and norm > max_norm every element of every tensor in xs is multiplied by
// float(max_norm / (norm + 1e-6)) — the CPU's clip_grad_norm factor, computed the same way in f64
// — else nothing changes. A non-finite sumsq changes nothing either (the step is skipped anyway).
void clip_by_sum_squares(const std::vector<Tensor>& xs, const Tensor& sumsq, double max_norm);

}  // namespace mrnn::cuda
