// A small VGG-style CNN image encoder trained from scratch: blocks of (conv3x3 + ReLU, maxpool 2)
// then a linear layer to the image feature. Sized for small images (ShapesWorld 64x64); users
// with big pretrained CNNs feed precomputed features instead (models/mrnn/mrnn.h).
#pragma once
#include <memory>
#include <vector>

#include "layers/linear.h"
#include "layers/module.h"

namespace mrnn {

class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, Generator& gen);
  Tensor forward(const Tensor& x) const override;  // [N, C, H, W]
  Tensor weight, bias;

 private:
  int64_t stride_, padding_;
};

class CnnEncoder : public Module {
 public:
  // channels: output channels of each block (e.g. {16, 32, 64}); image_size: input H = W.
  CnnEncoder(int64_t image_size, const std::vector<int64_t>& channels, int64_t out_dim, Generator& gen);
  Tensor forward(const Tensor& images) const override;  // [N, 3, S, S] -> [N, out_dim] (ReLU)
  // The same before the final ReLU (the linear layer's output). Why: a model that normalises the
  // feature itself (mQA) must not lose units to a dead ReLU.
  Tensor pre_activation(const Tensor& images) const;
  int64_t out_dim() const { return out_dim_; }

 private:
  std::vector<std::shared_ptr<Conv2d>> convs_;
  std::shared_ptr<Linear> fc_;
  int64_t out_dim_;
};

}  // namespace mrnn
