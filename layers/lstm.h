// LSTM, batch-first, one layer, PyTorch gate order (i, f, g, o) and names (weight_ih_l0, ...).
#pragma once
#include "layers/module.h"

namespace mrnn {

struct LSTMState {
  Tensor h, c;  // [B, H] each
};

class LSTM : public Module {
 public:
  LSTM(int64_t input, int64_t hidden, Generator& gen);
  // x [B, T, In] -> hidden states [B, T, H]; `state` (zeros when undefined) is updated to the last step.
  Tensor forward(const Tensor& x, LSTMState* state = nullptr) const;
  LSTMState step(const Tensor& x, const LSTMState& s) const;  // x [B, In]
  // Zeros on the layer's device (where its weights are).
  LSTMState zero_state(int64_t batch, DType dtype = DType::F32) const;
  int64_t hidden_size() const { return hidden_; }
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 private:
  LSTMState cell(const Tensor& xproj, const LSTMState& s) const;
  int64_t hidden_;
};

}  // namespace mrnn
