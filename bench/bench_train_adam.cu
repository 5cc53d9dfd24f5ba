// bench_train's device Adam step (see bench/bench_train_adam.h): one grid-stride kernel around
// kernels/common/adam.h's adam_update, the function models/engine/optim.cpp's loop runs.
#include "bench/bench_train_adam.h"
#include "kernels/cuda/common.cuh"

namespace mrnn::bench {

namespace {

__global__ void adam_kernel(float* w, float* m, float* v, const float* g, int64_t n, float grad_scale, AdamStep s) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    adam_update(w[i], m[i], v[i], grad_scale * g[i], s);
}

}  // namespace

void adam_update_cuda(const Tensor& w, const Tensor& m, const Tensor& v, const Tensor& g, float grad_scale,
                      const AdamStep& s) {
  cuda::common_device("adam_update_cuda", {&w, &m, &v, &g});
  for (const Tensor* t : {&w, &m, &v, &g})
    MRNN_CHECK(t->is_contiguous() && t->dtype() == DType::F32 && t->numel() == w.numel(),
               "adam_update_cuda: expected contiguous f32 tensors of {} elements, got {}", w.numel(), t->desc());
  const int64_t n = w.numel();
  if (n == 0) return;
  cuda::Launch l(w);
  adam_kernel<<<cuda::grid_for(n, l.device), cuda::kThreads, 0, l.stream>>>(
      cuda::ptr<float>(w), cuda::ptr<float>(m), cuda::ptr<float>(v), cuda::ptr<float>(g), n, grad_scale, s);
  MRNN_CUDA_CHECK_LAUNCH("adam_update_cuda", l.stream);
}

}  // namespace mrnn::bench
