// Output layers of the m-RNN. TiedSoftmax is transposed weight sharing (TWS): the output
// matrix U_M is factored as U_D^T U_I with U_D the (shared) word-embedding table, so
// logits = f(m U_I^T) U_D^T + b — about half the parameters of a full [V, M] output for large V.
#pragma once
#include "layers/module.h"

namespace mrnn {

enum class TwsActivation { Identity, ScaledTanh, ReLU };

class TiedSoftmax : public Module {
 public:
  // `embedding` is the [V, De] word table owned by the embedding layer (not registered here).
  TiedSoftmax(int64_t in_dim, const Tensor& embedding, Generator& gen, TwsActivation f = TwsActivation::ScaledTanh);
  Tensor logits(const Tensor& m) const;  // [..., M] -> [..., V]
  // Mean cross entropy of m [N, M] against targets [N] (ignore_index rows skipped) through the
  // fused output op (kernels/fused.h): the [N, V] logits are never held whole.
  Tensor loss(const Tensor& m, const Tensor& targets, int64_t ignore_index) const;
  Tensor U_I, bias;

 private:
  Tensor hidden(const Tensor& m) const;  // f(m U_I^T)
  Tensor table_;
  TwsActivation f_;
};

// The untied output: logits = m U_M^T + b with U_M [V, M] (names "weight", "bias").
class PlainSoftmax : public Module {
 public:
  PlainSoftmax(int64_t in_dim, int64_t vocab, Generator& gen);
  Tensor logits(const Tensor& m) const;
  Tensor loss(const Tensor& m, const Tensor& targets, int64_t ignore_index) const;  // as TiedSoftmax::loss
  Tensor weight, bias;
};

}  // namespace mrnn
