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
  // After the shared table grew (Embedding::grow): appends bias entries for the new rows, each
  // set to new_bias, so that bias and table agree again. Old entries keep their bits.
  void grow(double new_bias);
  // The intermediate activation f(m U_I^T) [..., De] whose product with the table gives the logits.
  Tensor hidden(const Tensor& m) const;
  Tensor U_I, bias;

 private:
  Tensor table_;
  TwsActivation f_;
};

// The untied output: logits = m U_M^T + b with U_M [V, M] (names "weight", "bias").
class PlainSoftmax : public Module {
 public:
  PlainSoftmax(int64_t in_dim, int64_t vocab, Generator& gen);
  Tensor logits(const Tensor& m) const;
  Tensor loss(const Tensor& m, const Tensor& targets, int64_t ignore_index) const;  // as TiedSoftmax::loss
  // Appends n output rows ~ U(-1/sqrt(in), 1/sqrt(in)) from gen with bias new_bias (new words).
  void grow(int64_t n, double new_bias, Generator& gen);
  Tensor weight, bias;
};

}  // namespace mrnn
