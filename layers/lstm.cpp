#include "layers/lstm.h"

#include <cmath>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

LSTM::LSTM(int64_t input, int64_t hidden, Generator& gen) : hidden_(hidden) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  weight_ih = register_parameter("weight_ih_l0", init::uniform({4 * hidden, input}, bound, gen));
  weight_hh = register_parameter("weight_hh_l0", init::uniform({4 * hidden, hidden}, bound, gen));
  bias_ih = register_parameter("bias_ih_l0", init::uniform({4 * hidden}, bound, gen));
  bias_hh = register_parameter("bias_hh_l0", init::uniform({4 * hidden}, bound, gen));
}

LSTMState LSTM::zero_state(int64_t batch, DType dtype) const {
  const Device dev = weight_ih.device();
  return {Tensor::zeros({batch, hidden_}, dtype, dev), Tensor::zeros({batch, hidden_}, dtype, dev)};
}

LSTMState LSTM::cell(const Tensor& xproj, const LSTMState& s) const {
  // The gates' elementwise work is one fused op (kernels/fused.h); h and c are views of its
  // [2, B, H] output.
  Tensor hc = lstm_cell(xproj, linear(s.h, weight_hh, bias_hh), s.c);
  return {select(hc, 0, 0), select(hc, 0, 1)};
}

Tensor LSTM::forward(const Tensor& x, LSTMState* state) const {
  MRNN_CHECK(x.dim() == 3, "LSTM: input must be [B, T, In], got {}", x.desc());
  const int64_t B = x.size(0), T = x.size(1);
  Tensor xp = linear(x, weight_ih, bias_ih);  // all steps in one GEMM
  LSTMState s = (state && state->h.defined()) ? *state : zero_state(B, x.dtype());
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < T; ++t) {
    s = cell(select(xp, 1, t), s);
    hs.push_back(s.h);
  }
  if (state) *state = s;
  return stack(hs, 1);
}

LSTMState LSTM::step(const Tensor& x, const LSTMState& s) const { return cell(linear(x, weight_ih, bias_ih), s); }

}  // namespace mrnn
