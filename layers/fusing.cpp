#include "layers/fusing.h"

#include <cmath>
#include <numeric>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

FusingLayer::FusingLayer(std::vector<int64_t> in_dims, std::vector<bool> per_sequence, int64_t out_dim,
                         FuseActivation act, Generator& gen, const std::vector<std::string>& names)
    : per_sequence_(std::move(per_sequence)), act_(act) {
  MRNN_CHECK(!in_dims.empty() && per_sequence_.size() == in_dims.size() &&
                 (names.empty() || names.size() == in_dims.size()) && out_dim >= 1,
             "FusingLayer: needs one per_sequence flag (got {}) and one name (got {}) per input ({} inputs), "
             "out_dim >= 1 (got {})",
             per_sequence_.size(), names.size(), in_dims.size(), out_dim);
  int64_t fan_in = 0;
  for (int64_t d : in_dims) {
    MRNN_CHECK(d >= 1, "FusingLayer: input widths must be >= 1, got {}", d);
    fan_in += d;
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (size_t i = 0; i < in_dims.size(); ++i) {
    const std::string name = names.empty() ? "W" + std::to_string(i) : names[i];
    weights_.push_back(register_parameter(name, init::uniform({out_dim, in_dims[i]}, bound, gen)));
  }
  bias_ = register_parameter("bias", Tensor::zeros({out_dim}));
}

Tensor FusingLayer::forward(const std::vector<Tensor>& xs) const {
  MRNN_CHECK(xs.size() == weights_.size(), "FusingLayer: expected {} inputs, got {}", weights_.size(), xs.size());
  return fuse(xs, weights_, bias_, act_, per_sequence_);
}

Tensor FusingLayer::term(size_t i, const Tensor& x, bool with_bias) const {
  MRNN_CHECK(i < weights_.size(), "FusingLayer: input {} of {}", i, weights_.size());
  return linear(x, weights_[i], with_bias ? bias_ : Tensor());
}

Tensor FusingLayer::activate(const Tensor& pre) const {
  switch (act_) {
    case FuseActivation::ScaledTanh: return scaled_tanh(pre);
    case FuseActivation::Tanh: return tanh(pre);
    case FuseActivation::Relu: return relu(pre);
    case FuseActivation::Identity: break;
  }
  return pre;
}

}  // namespace mrnn
