// Embedding: a [V, D] table looked up by token id ("weight", as in PyTorch).
#pragma once
#include "layers/module.h"

namespace mrnn {

class Embedding : public Module {
 public:
  // Entries ~ U(-init_range, init_range).
  Embedding(int64_t vocab, int64_t dim, Generator& gen, double init_range = 0.1);
  Tensor forward(const Tensor& ids) const override;  // ids i64 [...] -> [..., D]
  // Appends n rows ~ U(-init_range, init_range) from gen (new words); rows [0, V) keep their bits.
  // Returns the first new row's id. See layers/grow.h (optimizer state must be made afterwards).
  int64_t grow(int64_t n, Generator& gen);
  Tensor weight;

 private:
  double init_range_;
};

}  // namespace mrnn
