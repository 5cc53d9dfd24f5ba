// The m-RNN multimodal layer m = g(V_w w + V_r r + V_I I), one fused op (kernels/fused.h).
#pragma once
#include "layers/module.h"

namespace mrnn {

class MultimodalLayer : public Module {
 public:
  MultimodalLayer(int64_t word_dim, int64_t rnn_dim, int64_t image_dim, int64_t out_dim, Generator& gen);
  // w [B, T, Dw] (or [B, Dw]), r likewise, img [B, Di] -> m [B, T, M] (or [B, M]).
  Tensor forward(const Tensor& w, const Tensor& r, const Tensor& img) const;
  // The image term V_I I + b for decoding, computed once per image: [B, M].
  Tensor image_term(const Tensor& img) const;
  // g(V_w w + V_r r + image_term) for one step (no fused node; used under NoGradGuard).
  Tensor step(const Tensor& w, const Tensor& r, const Tensor& image_term) const;
  // V_w w + V_r r without the image or the activation (retrieval adds each image's term to it).
  Tensor text_term(const Tensor& w, const Tensor& r) const;
  Tensor Vw, Vr, Vi, bias;
};

}  // namespace mrnn
