// In-place gradient accumulation, the one arithmetic op autograd's engine needs. Why here and not
// in kernels: core sits below kernels; on the CPU it is core's own loop, on other devices the
// backend's entry (core/device_backend.h).
#pragma once
#include "core/tensor.h"

namespace mrnn {

// dst += src elementwise, in place. Requires: same shape, dtype (f32/f64) and device; dst a
// non-overlapping layout (any strides), src any layout. Each element is one IEEE addition
// dst + src, so the result equals add(dst, src) bit for bit. Not differentiable (grad mode off).
void accumulate_into(const Tensor& dst, const Tensor& src);

// A fresh contiguous tensor a + b (same requirements; the same one addition per element). One
// pass on the CPU; elsewhere a copy of a, then accumulate_into.
Tensor sum_of(const Tensor& a, const Tensor& b);

}  // namespace mrnn
