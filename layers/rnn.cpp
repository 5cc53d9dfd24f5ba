#include "layers/rnn.h"

#include <cmath>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

RNN::RNN(int64_t input, int64_t hidden, Generator& gen, Activation act, bool input_projection)
    : hidden_(hidden), act_(act) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  if (input_projection) {
    weight_ih = register_parameter("weight_ih_l0", init::uniform({hidden, input}, bound, gen));
  } else {
    MRNN_CHECK(input == hidden, "RNN: without an input projection the input size ({}) must equal hidden ({})", input,
               hidden);
  }
  weight_hh = register_parameter("weight_hh_l0", init::uniform({hidden, hidden}, bound, gen));
  if (input_projection) bias_ih = register_parameter("bias_ih_l0", init::uniform({hidden}, bound, gen));
  bias_hh = register_parameter("bias_hh_l0", init::uniform({hidden}, bound, gen));
}

// The unfused activation; the steps below run it inside the fused rnn_cell (kernels/fused.h).
Tensor RNN::activate(const Tensor& pre) const { return act_ == Activation::ReLU ? relu(pre) : tanh(pre); }

Tensor RNN::forward(const Tensor& x, const Tensor& h0) const {
  MRNN_CHECK(x.dim() == 3, "RNN: input must be [B, T, In], got {}", x.desc());
  const int64_t B = x.size(0), T = x.size(1);
  Tensor xp = weight_ih.defined() ? linear(x, weight_ih, bias_ih) : x;
  Tensor h = h0.defined() ? h0 : Tensor::zeros({B, hidden_}, x.dtype(), x.device());
  std::vector<Tensor> hs;
  hs.reserve(T);
  for (int64_t t = 0; t < T; ++t) {
    h = rnn_cell(select(xp, 1, t), linear(h, weight_hh, bias_hh), act_ == Activation::ReLU);
    hs.push_back(h);
  }
  return stack(hs, 1);
}

Tensor RNN::step(const Tensor& x, const Tensor& h) const {
  Tensor xp = weight_ih.defined() ? linear(x, weight_ih, bias_ih) : x;
  return rnn_cell(xp, linear(h, weight_hh, bias_hh), act_ == Activation::ReLU);
}

}  // namespace mrnn
