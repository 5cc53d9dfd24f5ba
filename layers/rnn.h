// Elman RNN with ReLU (the m-RNN recurrent layer) or tanh, batch-first, one layer.
// h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh). Names match torch.nn.RNN
// (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0). With input_projection=false the layer is
// the talk's r(t) = ReLU(U_r r(t-1) + w(t)): x_t enters directly (In == H), no W_ih/b_ih.
#pragma once
#include "layers/module.h"

namespace mrnn {

class RNN : public Module {
 public:
  enum class Activation { ReLU, Tanh };
  RNN(int64_t input, int64_t hidden, Generator& gen, Activation act = Activation::ReLU, bool input_projection = true);
  // x [B, T, In], h0 [B, H] or undefined (zeros) -> all hidden states [B, T, H].
  // The input projections of all steps are one GEMM; only h W_hh^T runs per step.
  Tensor forward(const Tensor& x, const Tensor& h0 = Tensor()) const;
  // One step: x [B, In], h [B, H] -> new h.
  Tensor step(const Tensor& x, const Tensor& h) const;
  int64_t hidden_size() const { return hidden_; }

  Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // weight_ih/bias_ih undefined without input projection

 private:
  Tensor activate(const Tensor& pre) const;
  int64_t hidden_;
  Activation act_;
};

}  // namespace mrnn
