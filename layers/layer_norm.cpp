#include "layers/layer_norm.h"

#include "kernels/ops.h"

namespace mrnn {

LayerNorm::LayerNorm(int64_t dim, double eps, bool affine) : eps_(eps) {
  MRNN_CHECK(dim >= 1, "LayerNorm: dim must be >= 1, got {}", dim);
  MRNN_CHECK(eps >= 0, "LayerNorm: eps must be >= 0, got {}", eps);
  if (affine) {
    weight_ = register_parameter("weight", Tensor::ones({dim}));
    bias_ = register_parameter("bias", Tensor::zeros({dim}));
  }
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight_, bias_, eps_); }

}  // namespace mrnn
