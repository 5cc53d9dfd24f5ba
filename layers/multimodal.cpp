#include "layers/multimodal.h"

#include "kernels/fused.h"
#include "kernels/ops.h"

namespace mrnn {

MultimodalLayer::MultimodalLayer(int64_t word_dim, int64_t rnn_dim, int64_t image_dim, int64_t out_dim,
                                 Generator& gen)
    : FusingLayer({word_dim, rnn_dim, image_dim}, {false, false, true}, out_dim, FuseActivation::ScaledTanh, gen,
                  {"Vw", "Vr", "Vi"}) {
  Vw = weight(0);
  Vr = weight(1);
  Vi = weight(2);
  bias = FusingLayer::bias();
}

Tensor MultimodalLayer::forward(const Tensor& w, const Tensor& r, const Tensor& img) const {
  return multimodal(w, r, img, Vw, Vr, Vi, bias);
}

Tensor MultimodalLayer::image_term(const Tensor& img) const { return term(2, img, true); }

Tensor MultimodalLayer::step(const Tensor& w, const Tensor& r, const Tensor& image_term) const {
  return from_terms(text_term(w, r), image_term);
}

Tensor MultimodalLayer::text_term(const Tensor& w, const Tensor& r) const {
  return add(term(0, w), term(1, r));
}

Tensor MultimodalLayer::from_terms(const Tensor& text_term, const Tensor& image_term) const {
  return activate(add(text_term, image_term));
}

}  // namespace mrnn
