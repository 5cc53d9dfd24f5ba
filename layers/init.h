// Parameter initialisers (deterministic under a Generator).
#pragma once
#include "core/tensor.h"

namespace mrnn::init {

// U(-bound, bound), PyTorch's default for Linear/RNN weights is bound = 1/sqrt(fan_in).
Tensor uniform(const Shape& shape, double bound, Generator& gen);
// N(0, std).
Tensor normal(const Shape& shape, double std, Generator& gen);

}  // namespace mrnn::init
