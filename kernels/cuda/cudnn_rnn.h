// A one-layer ReLU RNN through cuDNN's RNN API: the baseline the fused recurrent cells
// (kernels/fused.h: rnn_cell) are benchmarked against (bench/bench_cuda.cpp, issue 6 kernel 4).
// Why a class: cuDNN's descriptors, weight space and reserve space live across the forward and
// the two backward calls. Plain C++ header; defined only in builds with the CUDA backend.
#pragma once
#include <cstdint>
#include <memory>

namespace mrnn::cuda {

class CudnnReluRnn {
 public:
  // Requires: a valid device, all sizes >= 1. Ensures: f32 input x [batch, steps, input]
  // (batch-major), weights and every buffer cuDNN asks for allocated on `device` from the caching
  // allocator; x, the weights and the output gradient filled with uniform values in [-0.1, 0.1].
  CudnnReluRnn(int device, int64_t batch, int64_t steps, int64_t input, int64_t hidden);
  ~CudnnReluRnn();
  CudnnReluRnn(const CudnnReluRnn&) = delete;
  CudnnReluRnn& operator=(const CudnnReluRnn&) = delete;

  // One training step's RNN work on the current stream: cudnnRNNForward (training mode, zero
  // initial state), cudnnRNNBackwardData_v8 (dx from a fixed dy) and cudnnRNNBackwardWeights_v8
  // (accumulating into the weight gradient). Nothing blocks the host.
  void forward_backward();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mrnn::cuda
