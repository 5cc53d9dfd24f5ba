#include "layers/init.h"

namespace mrnn::init {

Tensor uniform(const Shape& shape, double bound, Generator& gen) {
  return Tensor::rand(shape, gen, DType::F32, -bound, bound);
}

Tensor normal(const Shape& shape, double std, Generator& gen) { return Tensor::randn(shape, gen, DType::F32, 0, std); }

}  // namespace mrnn::init
