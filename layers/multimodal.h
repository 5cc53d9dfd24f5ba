// The m-RNN multimodal layer m = g(V_w w + V_r r + V_I I + b), g(x) = 1.7159 tanh(2x/3): the
// 3-input instance of FusingLayer (w and r per step, the image per sequence), one fused op
// (kernels/fused.h). Parameter names Vw, Vr, Vi, bias (saved models load unchanged).
#pragma once
#include "layers/fusing.h"

namespace mrnn {

class MultimodalLayer : public FusingLayer {
 public:
  MultimodalLayer(int64_t word_dim, int64_t rnn_dim, int64_t image_dim, int64_t out_dim, Generator& gen);
  // w [B, T, Dw] (or [B, Dw]), r likewise, img [B, Di] -> m [B, T, M] (or [B, M]).
  Tensor forward(const Tensor& w, const Tensor& r, const Tensor& img) const;
  // The image term V_I I + b for decoding, computed once per image: [B, M].
  Tensor image_term(const Tensor& img) const;
  // g(V_w w + V_r r + image_term) for one step (no fused node; used under NoGradGuard).
  Tensor step(const Tensor& w, const Tensor& r, const Tensor& image_term) const;
  // V_w w + V_r r without the image or the activation (retrieval computes it once for all sentences).
  Tensor text_term(const Tensor& w, const Tensor& r) const;
  // g(text_term + image_term): the layer's output from its two precomputed terms (broadcasting,
  // e.g. one image's [M] term against [S*T, M] text terms). Retrieval scores every image this way.
  Tensor from_terms(const Tensor& text_term, const Tensor& image_term) const;
  Tensor Vw, Vr, Vi, bias;
};

}  // namespace mrnn
