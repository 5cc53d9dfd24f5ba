// Per-element math of the m-RNN multimodal layer (kernels/fused.h: multimodal), the 3-input
// scaled-tanh instance of the fusing layer's math (kernels/common/fuse.h), spelled out for the
// m-RNN's terms. The epilogues run fuse_element<FuseScaledTanh> / FuseScaledTanh::dy, which are
// these formulas.
#pragma once
#include "kernels/common/fuse.h"
#include "kernels/common/host_device.h"

namespace mrnn {

// The forward epilogue of one element: g(text + image + bias) with g(x) = 1.7159 tanh(2x/3), where
// text = (w Vw^T + r Vr^T)[row, m], image = (img Vi^T)[b, m] for the row's image b, bias = bias[m].
// The additions happen in this order on both backends.
template <typename T>
MRNN_HD T multimodal_act(T text, T image, T bias) {
  return FuseScaledTanh::f((text + image) + bias);
}

// The backward of one element from the saved output y = g(pre) and the upstream gradient g:
// dL/dpre = g * g'(pre), with g'(pre) = 1.7159 (2/3) (1 - (y / 1.7159)^2) (no pre-activation kept).
template <typename T>
MRNN_HD T multimodal_dpre(T y, T g) {
  return FuseScaledTanh::dy(y, g);
}

}  // namespace mrnn
