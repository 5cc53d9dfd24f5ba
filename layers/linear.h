// Linear: y = x W^T + b with W [out, in] (PyTorch layout and names "weight", "bias").
#pragma once
#include "layers/module.h"

namespace mrnn {

class Linear : public Module {
 public:
  // Weights and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
  Linear(int64_t in, int64_t out, Generator& gen, bool bias = true);
  Tensor forward(const Tensor& x) const override;  // x [..., in] -> [..., out]
  Tensor weight, bias;                    // bias undefined when bias == false
};

}  // namespace mrnn
