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
  if (name == "pyramid") return CnnPool::Pyramid;
  if (name == "max-where") return CnnPool::MaxWhere;
  MRNN_FAIL("CNN pooling '{}' is unknown: expected flatten, max, pyramid or max-where", name);
}

const char* cnn_pool_name(CnnPool pool) {
  switch (pool) {
    case CnnPool::Max: return "max";
    case CnnPool::Pyramid: return "pyramid";
    case CnnPool::MaxWhere: return "max-where";
    case CnnPool::Flatten: break;
  }
  return "flatten";
}

const std::vector<std::string>& cnn_pool_names() {
  static const std::vector<std::string> names = {"flatten", "max", "pyramid", "max-where"};
  return names;
}

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
  MRNN_CHECK(pool != CnnPool::Pyramid || size >= 2,
             "CnnEncoder: the pyramid head needs a last map of at least 2x2; image size {} gives {}x{}", image_size,
             size, size);
  const int64_t features = pool == CnnPool::Max        ? in
                           : pool == CnnPool::Pyramid  ? 5 * in
                           : pool == CnnPool::MaxWhere ? 3 * in
                                                       : in * size * size;
  fc_ = register_module("fc", std::make_shared<Linear>(features, out_dim, gen));
}

Tensor CnnEncoder::forward(const Tensor& images) const { return relu(pre_activation(images)); }

Tensor CnnEncoder::pre_activation(const Tensor& images) const {
  Tensor h = images;
  for (const auto& c : convs_) h = max_pool2d(relu(c->forward(h)), 2, 2);
  if (pool_ == CnnPool::Max) h = max_pool2d(h, map_size_, map_size_);  // [N, C, 1, 1]
  if (pool_ == CnnPool::Pyramid) {
    // Quadrant windows of ceil(s/2) at stride s - ceil(s/2): a 2x2 output for every s >= 2.
    const int64_t k = (map_size_ + 1) / 2;
    const Tensor whole = flatten(max_pool2d(h, map_size_, map_size_), 1);  // [N, C]
    const Tensor quads = flatten(max_pool2d(h, k, map_size_ - k), 1);      // [N, C*4], channel-major
    return fc_->forward(concat({whole, quads}, 1));
  }
  if (pool_ == CnnPool::MaxWhere) {
    const int64_t n = h.size(0), c = h.size(1), s = map_size_;
    std::vector<double> grid(static_cast<size_t>(s * s * 2));  // [s*s, 2]: x, y of each position
    for (int64_t i = 0; i < s; ++i)
      for (int64_t j = 0; j < s; ++j) {
        grid[static_cast<size_t>((i * s + j) * 2)] = s > 1 ? -1.0 + 2.0 * j / (s - 1) : 0.0;
        grid[static_cast<size_t>((i * s + j) * 2 + 1)] = s > 1 ? -1.0 + 2.0 * i / (s - 1) : 0.0;
      }
    const Tensor g = Tensor::from_vector(grid, {s * s, 2}).to(h.dtype()).to(h.device());
    const Tensor weights = softmax(reshape(h, {n * c, s * s}), 1);
    const Tensor where = reshape(matmul(weights, g), {n, 2 * c});  // per channel x, y
    return fc_->forward(concat({flatten(max_pool2d(h, s, s), 1), where}, 1));
  }
  return fc_->forward(flatten(h, 1));
}

}  // namespace mrnn
