#include "layers/multimodal.h"

#include <cmath>

#include "kernels/fused.h"
#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

MultimodalLayer::MultimodalLayer(int64_t word_dim, int64_t rnn_dim, int64_t image_dim, int64_t out_dim,
                                 Generator& gen) {
  // One fan-in for the three projections: they feed one sum.
  const double bound = 1.0 / std::sqrt(static_cast<double>(word_dim + rnn_dim + image_dim));
  Vw = register_parameter("Vw", init::uniform({out_dim, word_dim}, bound, gen));
  Vr = register_parameter("Vr", init::uniform({out_dim, rnn_dim}, bound, gen));
  Vi = register_parameter("Vi", init::uniform({out_dim, image_dim}, bound, gen));
  bias = register_parameter("bias", Tensor::zeros({out_dim}));
}

Tensor MultimodalLayer::forward(const Tensor& w, const Tensor& r, const Tensor& img) const {
  return multimodal(w, r, img, Vw, Vr, Vi, bias);
}

Tensor MultimodalLayer::image_term(const Tensor& img) const { return linear(img, Vi, bias); }

Tensor MultimodalLayer::step(const Tensor& w, const Tensor& r, const Tensor& image_term) const {
  return scaled_tanh(add(text_term(w, r), image_term));
}

Tensor MultimodalLayer::text_term(const Tensor& w, const Tensor& r) const {
  return add(linear(w, Vw, Tensor()), linear(r, Vr, Tensor()));
}

}  // namespace mrnn
