// A small VGG-style CNN image encoder trained from scratch: blocks of (conv3x3 + ReLU, maxpool 2),
// a pooling head (CnnPool), then a linear layer to the image feature. Sized for small images
// (ShapesWorld 64x64); users with big pretrained CNNs feed precomputed features instead
// (models/mrnn/mrnn.h).
#pragma once
#include <memory>
#include <string>
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

// How the last block's map [N, C, s, s] becomes the linear layer's input.
//   Flatten: all C*s*s values, the classic VGG head. It keeps where things are, but it must learn
//     each object at each of the s*s positions apart.
//   Max: each channel's maximum over the s*s positions, C values. Position-invariant: a channel that
//     detects "a red circle" answers wherever the circle is. On ShapesWorld it doubled the true
//     object claims of the captions within the same steps (docs/tasks.md); what it gives up is where
//     things are, beyond what a channel's receptive field encodes.
//   Pyramid: Max's C values, then each channel's maximum over each quadrant of the map (a 2x2
//     spatial pyramid, 5*C values; for odd s the quadrants share the middle row and column). It
//     keeps where things are at the coarse level of "top left" while each channel still detects
//     its pattern anywhere inside a quadrant. Requires s >= 2.
//   MaxWhere: Max's C values, then for each channel the mean position of its activations weighted
//     by their softmax over the s*s positions (x then y, in [-1, 1]; 3*C values). It says where
//     each detector fires without learning each position apart (spatial soft-argmax).
enum class CnnPool { Flatten, Max, Pyramid, MaxWhere };
// "flatten", "max", "pyramid", "max-where" -> the value; anything else throws Error naming it. Why: config
// files and program flags spell the pooling one way.
CnnPool parse_cnn_pool(const std::string& name);
const char* cnn_pool_name(CnnPool pool);
// Every name parse_cnn_pool accepts, in enum order. Why: config readers and program flags check
// against the one list.
const std::vector<std::string>& cnn_pool_names();

class CnnEncoder : public Module {
 public:
  // channels: output channels of each block (e.g. {16, 32, 64}); image_size: input H = W.
  CnnEncoder(int64_t image_size, const std::vector<int64_t>& channels, int64_t out_dim, Generator& gen,
             CnnPool pool = CnnPool::Flatten);
  Tensor forward(const Tensor& images) const override;  // [N, 3, S, S] -> [N, out_dim] (ReLU)
  // The same before the final ReLU (the linear layer's output). Why: a model that normalises the
  // feature itself (mQA) must not lose units to a dead ReLU.
  Tensor pre_activation(const Tensor& images) const;
  int64_t out_dim() const { return out_dim_; }
  CnnPool pool() const { return pool_; }

 private:
  std::vector<std::shared_ptr<Conv2d>> convs_;
  std::shared_ptr<Linear> fc_;
  int64_t out_dim_;
  CnnPool pool_;
  int64_t map_size_ = 1;  // s: the last block's output is s x s
};

}  // namespace mrnn
