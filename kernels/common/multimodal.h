// Per-element math of the fused multimodal layer (kernels/fused.h: multimodal), shared by the CPU
// loops (kernels/cpu/multimodal.cpp) and the CUDA epilogue kernels (kernels/cuda/multimodal.cu).
// Why one place: the CPU tests then check the very formulas the GPU runs.
#pragma once
#include "kernels/common/elementwise.h"
#include "kernels/common/host_device.h"

namespace mrnn {

// The forward epilogue of one element: g(text + image + bias) with g(x) = 1.7159 tanh(2x/3), where
// text = (w Vw^T + r Vr^T)[row, m], image = (img Vi^T)[b, m] for the row's image b, bias = bias[m].
// The additions happen in this order on both backends.
template <typename T>
MRNN_HD T multimodal_act(T text, T image, T bias) {
  return ScaledTanhF::f((text + image) + bias);
}

// The backward of one element from the saved output y = g(pre) and the upstream gradient g:
// dL/dpre = g * g'(pre), with g'(pre) = 1.7159 (2/3) (1 - (y / 1.7159)^2) (no pre-activation kept).
template <typename T>
MRNN_HD T multimodal_dpre(T y, T g) {
  return ScaledTanhF::df(T(0), y, g);
}

}  // namespace mrnn
