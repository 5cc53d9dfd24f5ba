// f32 convolution and max pooling on the CPU through oneDNN (libdnnl), for NCHW tensors in and out.
// Only in builds with MRNN_WITH_DNNL; kernels/ops_nn.cpp calls these behind conv2d() and
// max_pool2d() and records the autograd nodes.
// Why: the reference path (kernels/conv_reference.h) runs one small GEMM per image; oneDNN's
// direct convolution kernels run the whole batch at once (docs/performance.md has the numbers).
// How: the primitives of each geometry are made once and cached (as PackedLinear caches per row
// count). The convolutions ask oneDNN for its preferred (blocked) layouts and reorder the NCHW
// tensors in and out: with the reorders counted, that measured faster than oneDNN's plain-layout
// (GEMM) kernels for each encoder layer's forward + backward, except backward-data into fewer than
// 16 input channels, which stays in NCHW. Pooling runs in NCHW.
// Determinism: oneDNN's CPU kernels split the work by the thread count only, so the same inputs
// give bit-identical results run to run at a fixed OMP_NUM_THREADS (tests/core/test_conv_dnnl.cpp).
// Thread safety: any number of calls at once (the cache is locked; scratch memory is per call).
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace mrnn::cpu {

struct DnnlConv2d {  // x [N, C, H, W], w [O, C, K, K], b [O] when bias, y [N, O, OH, OW]
  int64_t N, C, H, W, O, K, OH, OW, stride, pad;
  bool bias;
};
struct DnnlPool2d {  // x [N, C, H, W] -> y [N, C, OH, OW], window K, symmetric padding
  int64_t N, C, H, W, OH, OW, K, stride, pad;
};

// All tensors f32, contiguous, allocated by the caller. out := conv(x, w) + b (b undefined: none).
void dnnl_conv2d_forward(const DnnlConv2d& s, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out);
// From g, the gradient of the output: gx (when defined) := the gradient wrt x (backward-data);
// gw (when defined) := the weight gradient and, with s.bias, gb (when defined) := the bias
// gradient (backward-weights). g is reordered once when both passes want the same layout.
void dnnl_conv2d_backward(const DnnlConv2d& s, const Tensor& x, const Tensor& g, const Tensor& w, const Tensor& gx,
                          const Tensor& gw, const Tensor& gb);
// out := max over each window (padding never wins). With train, returns the workspace (oneDNN's
// argmax record, opaque bytes in an f32 tensor) that the backward needs; else an undefined tensor.
Tensor dnnl_max_pool2d_forward(const DnnlPool2d& s, const Tensor& x, const Tensor& out, bool train);
// gx := g routed to each window's maximum (gx is overwritten, not accumulated).
void dnnl_max_pool2d_backward(const DnnlPool2d& s, const Tensor& g, const Tensor& workspace, const Tensor& gx);

// oneDNN's implementation names for this geometry ("fwd jit:avx512_core, bwd-data ..., bwd-weights ...").
std::string dnnl_conv2d_implementation(const DnnlConv2d& s);
std::string dnnl_max_pool2d_implementation(const DnnlPool2d& s);

}  // namespace mrnn::cpu
