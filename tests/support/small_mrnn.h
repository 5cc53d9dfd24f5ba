// A small random m-RNN for the decoding tests (CPU and GPU): image features in, tiny sizes, no
// dropout, and an output bias that makes captions end at various lengths.
#pragma once
#include <string>
#include <vector>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/mrnn/mrnn.h"

namespace mrnn::testing {

// Features input (image_dim 10), embeddings 12/16, RNN 16, multimodal 20, dropout 0.
inline MrnnConfig small_decoding_config(const std::string& rnn, bool tws, int64_t vocab) {
  MrnnConfig c;
  c.vocab = vocab;
  c.embed1 = 12;
  c.embed2 = 16;
  c.rnn = 16;
  c.multimodal = 20;
  c.rnn_type = rnn;
  c.tws = tws;
  c.image_input = "features";
  c.image_dim = 10;
  c.dropout = 0;
  return c;
}

// output.bias := 3 x N(0, 1) (seed 5), so the beams differ, with the <eos> entry set to eos_bias,
// so captions end at various lengths. Works on any device.
inline void shift_eos(Mrnn& model, float eos_bias) {
  NoGradGuard ng;
  for (auto& [name, t] : model.named_parameters())
    if (name == "output.bias") {
      Generator g(5);
      std::vector<float> b = mul_scalar(Tensor::randn({t.size(0)}, g), 3.0).to_vector<float>();
      b[kEosId] = eos_bias;
      t.copy_(Tensor::from_vector(b).to(t.device()));
    }
}

}  // namespace mrnn::testing
