#include "layers/embedding.h"

#include "kernels/ops.h"
#include "layers/grow.h"
#include "layers/init.h"

namespace mrnn {

Embedding::Embedding(int64_t vocab, int64_t dim, Generator& gen, double init_range) : init_range_(init_range) {
  weight = register_parameter("weight", init::uniform({vocab, dim}, init_range, gen));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

int64_t Embedding::grow(int64_t n, Generator& gen) {
  MRNN_CHECK(n >= 0, "Embedding::grow: n = {} must be >= 0", n);
  const int64_t first = weight.size(0);
  append_rows(weight, init::uniform({n, weight.size(1)}, init_range_, gen).to(weight.device()));
  return first;
}

}  // namespace mrnn
