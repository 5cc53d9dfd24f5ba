// LayerNorm over the last dim, PyTorch's nn.LayerNorm(D): parameters "weight" (ones) and "bias"
// (zeros) unless affine is off; the op is kernels/ops.h layer_norm (one fused node).
#pragma once
#include "layers/module.h"

namespace mrnn {

class LayerNorm : public Module {
 public:
  // Requires dim >= 1, eps >= 0.
  explicit LayerNorm(int64_t dim, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) const override;  // x [..., dim] -> same shape

 private:
  Tensor weight_, bias_;
  double eps_;
};

}  // namespace mrnn
