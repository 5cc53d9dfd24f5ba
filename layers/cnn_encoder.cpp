#include "layers/cnn_encoder.h"

#include <cmath>

#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, Generator& gen)
    : stride_(stride), padding_(padding) {
  // He initialisation for ReLU networks.
  const double std = std::sqrt(2.0 / static_cast<double>(in * kernel * kernel));
  weight = register_parameter("weight", init::normal({out, in, kernel, kernel}, std, gen));
  bias = register_parameter("bias", Tensor::zeros({out}));
}

Tensor Conv2d::forward(const Tensor& x) const { return conv2d(x, weight, bias, stride_, padding_); }

CnnPool parse_cnn_pool(const std::string& name) {
  if (name == "flatten") return CnnPool::Flatten;
  if (name == "max") return CnnPool::Max;
  MRNN_FAIL("CNN pooling '{}' is unknown: expected flatten or max", name);
}

const char* cnn_pool_name(CnnPool pool) { return pool == CnnPool::Max ? "max" : "flatten"; }

CnnEncoder::CnnEncoder(int64_t image_size, const std::vector<int64_t>& channels, int64_t out_dim, Generator& gen,
                       CnnPool pool)
    : out_dim_(out_dim), pool_(pool) {
  MRNN_CHECK(!channels.empty(), "CnnEncoder: needs at least one block");
  int64_t in = 3, size = image_size;
  for (size_t i = 0; i < channels.size(); ++i) {
    convs_.push_back(register_module("conv" + std::to_string(i + 1), std::make_shared<Conv2d>(in, channels[i], 3, 1, 1, gen)));
    in = channels[i];
    size /= 2;
    MRNN_CHECK(size >= 1, "CnnEncoder: image size {} is too small for {} pooling blocks", image_size, channels.size());
  }
  map_size_ = size;
  const int64_t features = pool == CnnPool::Max ? in : in * size * size;
  fc_ = register_module("fc", std::make_shared<Linear>(features, out_dim, gen));
}

Tensor CnnEncoder::forward(const Tensor& images) const { return relu(pre_activation(images)); }

Tensor CnnEncoder::pre_activation(const Tensor& images) const {
  Tensor h = images;
  for (const auto& c : convs_) h = max_pool2d(relu(c->forward(h)), 2, 2);
  if (pool_ == CnnPool::Max) h = max_pool2d(h, map_size_, map_size_);  // [N, C, 1, 1]
  return fc_->forward(flatten(h, 1));
}

}  // namespace mrnn
