// GRU, batch-first, one layer, PyTorch gate order (r, z, n) and names (weight_ih_l0, ...):
// r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n), h' = (1 - z) ⊙ n + z ⊙ h.
#pragma once
#include "layers/module.h"

namespace mrnn {

class GRU : public Module {
 public:
  GRU(int64_t input, int64_t hidden, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& h0 = Tensor()) const;  // [B, T, In] -> [B, T, H]
  Tensor step(const Tensor& x, const Tensor& h) const;                 // [B, In], [B, H] -> [B, H]
  int64_t hidden_size() const { return hidden_; }
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 private:
  Tensor cell(const Tensor& xproj, const Tensor& h) const;
  int64_t hidden_;
};

}  // namespace mrnn
