// The optimizer step of bench_train's CUDA training benchmark: the library's per-element Adam
// update (kernels/common/adam.h) as a kernel over a CUDA parameter. Why here and not in the
// library: models/engine/optim.cpp's optimizers work on host memory, and the benchmark needs an update on
// the device that is the same formula, not a second version of it. Plain C++ header (no CUDA
// types); the kernel is bench/bench_train_adam.cu, built only with the CUDA backend.
#pragma once
#include "core/tensor.h"
#include "kernels/common/adam.h"

namespace mrnn::bench {

// Requires: w, m, v and g contiguous f32 tensors with the same number of elements, on one CUDA
// device; throws mrnn::Error naming the tensors otherwise.
// Ensures: adam_update(w[i], m[i], v[i], grad_scale * g[i], s) for every i, queued on the device's
// current stream (nothing is read back).
void adam_update_cuda(const Tensor& w, const Tensor& m, const Tensor& v, const Tensor& g, float grad_scale,
                      const AdamStep& s);

}  // namespace mrnn::bench
