#include "layers/embedding.h"

#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

Embedding::Embedding(int64_t vocab, int64_t dim, Generator& gen, double init_range) {
  weight = register_parameter("weight", init::uniform({vocab, dim}, init_range, gen));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

}  // namespace mrnn
