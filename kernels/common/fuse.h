// Per-element math of the fused N-input layer (kernels/fused.h: fuse), shared by the CPU epilogues
// (kernels/cpu/fuse.cpp) and the CUDA ones (kernels/cuda/fuse.cu), so the CPU tests
// check the formulas the GPU runs. Each activation is a functor with f(pre) and dy(y, g), the
// gradient with respect to the pre-activation from the saved output y (no pre-activation kept).
#pragma once
#include "kernels/common/elementwise.h"
#include "kernels/common/host_device.h"

namespace mrnn {

// g of the fusing layer: m-RNN's 1.7159 tanh(2x/3), tanh, relu, or none.
enum class FuseActivation { ScaledTanh, Tanh, Relu, Identity };

struct FuseScaledTanh {
  template <typename T> MRNN_HD static T f(T x) { return ScaledTanhF::f(x); }
  template <typename T> MRNN_HD static T dy(T y, T g) { return ScaledTanhF::df(T(0), y, g); }
};
struct FuseTanh {
  template <typename T> MRNN_HD static T f(T x) { return TanhF::f(x); }
  template <typename T> MRNN_HD static T dy(T y, T g) { return TanhF::df(T(0), y, g); }
};
struct FuseRelu {  // y > 0 exactly where pre > 0
  template <typename T> MRNN_HD static T f(T x) { return ReluF::f(x); }
  template <typename T> MRNN_HD static T dy(T y, T g) { return y > T(0) ? g : T(0); }
};
struct FuseIdentity {
  template <typename T> MRNN_HD static T f(T x) { return x; }
  template <typename T> MRNN_HD static T dy(T, T g) { return g; }
};

// One element of the forward epilogue: g((step + seq) + bias), the additions in this order on
// both backends; a null seq or bias term is left out (the caller passes has_* flags).
template <typename A, typename T>
MRNN_HD T fuse_element(T step, const T* seq, const T* bias, long j) {
  T pre = step;
  if (seq) pre = pre + seq[j];
  if (bias) pre = pre + bias[j];
  return A::f(pre);
}

// Calls fn(functor) for the activation g (host code: one dispatch per launch / loop).
template <typename Fn>
void with_fuse_activation(FuseActivation g, Fn&& fn) {
  switch (g) {
    case FuseActivation::ScaledTanh: fn(FuseScaledTanh{}); break;
    case FuseActivation::Tanh: fn(FuseTanh{}); break;
    case FuseActivation::Relu: fn(FuseRelu{}); break;
    case FuseActivation::Identity: fn(FuseIdentity{}); break;
  }
}

}  // namespace mrnn
