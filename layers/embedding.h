// Embedding: a [V, D] table looked up by token id ("weight", as in PyTorch).
#pragma once
#include "layers/module.h"

namespace mrnn {

class Embedding : public Module {
 public:
  // Entries ~ U(-init_range, init_range).
  Embedding(int64_t vocab, int64_t dim, Generator& gen, double init_range = 0.1);
  Tensor forward(const Tensor& ids) const;  // ids i64 [...] -> [..., D]
  Tensor weight;
};

}  // namespace mrnn
