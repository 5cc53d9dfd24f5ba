#include "layers/tied_softmax.h"

#include <cmath>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "layers/grow.h"
#include "layers/init.h"

namespace mrnn {

TiedSoftmax::TiedSoftmax(int64_t in_dim, const Tensor& embedding, Generator& gen, TwsActivation f)
    : table_(embedding), f_(f) {
  MRNN_CHECK(embedding.dim() == 2, "TiedSoftmax: embedding table must be [V, De], got {}", embedding.desc());
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_dim));
  U_I = register_parameter("U_I", init::uniform({embedding.size(1), in_dim}, bound, gen));
  bias = register_parameter("bias", Tensor::zeros({embedding.size(0)}));
}

Tensor TiedSoftmax::hidden(const Tensor& m) const {
  Tensor h = linear(m, U_I, Tensor());
  if (f_ == TwsActivation::ScaledTanh) h = scaled_tanh(h);
  else if (f_ == TwsActivation::ReLU) h = relu(h);
  return h;
}

Tensor TiedSoftmax::logits(const Tensor& m) const { return linear(hidden(m), table_, bias); }

Tensor TiedSoftmax::loss(const Tensor& m, const Tensor& targets, int64_t ignore_index) const {
  return linear_cross_entropy(hidden(m), table_, bias, targets, ignore_index);
}

void TiedSoftmax::grow(double new_bias) {
  const int64_t n = table_.size(0) - bias.size(0);
  MRNN_CHECK(n >= 0, "TiedSoftmax::grow: the table has {} rows but the bias {} entries", table_.size(0), bias.size(0));
  append_rows(bias, Tensor::full({n}, new_bias, bias.dtype(), bias.device()));
}

void PlainSoftmax::grow(int64_t n, double new_bias, Generator& gen) {
  MRNN_CHECK(n >= 0, "PlainSoftmax::grow: n = {} must be >= 0", n);
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
  append_rows(weight, init::uniform({n, weight.size(1)}, bound, gen).to(weight.device()));
  append_rows(bias, Tensor::full({n}, new_bias, bias.dtype(), bias.device()));
}

PlainSoftmax::PlainSoftmax(int64_t in_dim, int64_t vocab, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_dim));
  weight = register_parameter("weight", init::uniform({vocab, in_dim}, bound, gen));
  bias = register_parameter("bias", Tensor::zeros({vocab}));
}

Tensor PlainSoftmax::logits(const Tensor& m) const { return linear(m, weight, bias); }

Tensor PlainSoftmax::loss(const Tensor& m, const Tensor& targets, int64_t ignore_index) const {
  return linear_cross_entropy(m, weight, bias, targets, ignore_index);
}

}  // namespace mrnn
