// The reference CPU convolution and max pooling, reachable by name: conv2d() and max_pool2d()
// (kernels/ops.h) run these for f64, for f32 in a build without oneDNN, and tests and benches
// compare the oneDNN path (kernels/cpu/dnnl_conv.h) against them.
// conv2d_im2col: per image, im2col into a [C*K*K, OH*OW] column buffer and one OpenBLAS GEMM with
// the [O, C*K*K] weights (forward; backward: the transposed GEMMs and col2im). Images run in
// parallel over OpenMP threads, each with its own column buffer; the weight gradient is summed
// per thread and the partial sums added in thread order, so results depend only on the inputs and
// the thread count (never on timing).
// max_pool2d_loop: a plain loop that records the argmax (first maximum in row-major window order).
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace mrnn {

// Requires (as conv2d): CPU tensors of one float dtype, x [N, C, H, W], w [O, C, K, K],
// b [O] or undefined. Ensures: [N, O, OH, OW] with autograd to x, w and b.
Tensor conv2d_im2col(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride = 1, int64_t padding = 0);
// Requires (as max_pool2d): a CPU float tensor x [N, C, H, W], padding <= kernel / 2.
Tensor max_pool2d_loop(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);

// What conv2d() and max_pool2d() run on the CPU for f32 in this build: "oneDNN" or "im2col+OpenBLAS".
const char* cpu_conv_backend();
// The implementations conv2d() / max_pool2d() run for f32 CPU tensors of this geometry (oneDNN's
// kernel names, or "im2col+OpenBLAS" / "loop"), e.g. for a benchmark's label. Same requirements.
std::string conv2d_cpu_implementation(const Tensor& x, const Tensor& w, bool bias, int64_t stride, int64_t padding);
std::string max_pool2d_cpu_implementation(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);

}  // namespace mrnn
