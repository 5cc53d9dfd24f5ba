#include "layers/gru.h"

#include <cmath>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

GRU::GRU(int64_t input, int64_t hidden, Generator& gen) : hidden_(hidden) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  weight_ih = register_parameter("weight_ih_l0", init::uniform({3 * hidden, input}, bound, gen));
  weight_hh = register_parameter("weight_hh_l0", init::uniform({3 * hidden, hidden}, bound, gen));
  bias_ih = register_parameter("bias_ih_l0", init::uniform({3 * hidden}, bound, gen));
  bias_hh = register_parameter("bias_hh_l0", init::uniform({3 * hidden}, bound, gen));
}

Tensor GRU::cell(const Tensor& xproj, const Tensor& h) const {
  // r, z, n and (1 - z) n + z h in one fused op (kernels/fused.h)
  return gru_cell(xproj, linear(h, weight_hh, bias_hh), h);
}

Tensor GRU::forward(const Tensor& x, const Tensor& h0) const {
  MRNN_CHECK(x.dim() == 3, "GRU: input must be [B, T, In], got {}", x.desc());
  const int64_t B = x.size(0), T = x.size(1);
  Tensor xp = linear(x, weight_ih, bias_ih);
  Tensor h = h0.defined() ? h0 : Tensor::zeros({B, hidden_}, x.dtype(), x.device());
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < T; ++t) {
    h = cell(select(xp, 1, t), h);
    hs.push_back(h);
  }
  return stack(hs, 1);
}

Tensor GRU::step(const Tensor& x, const Tensor& h) const { return cell(linear(x, weight_ih, bias_ih), h); }

}  // namespace mrnn
