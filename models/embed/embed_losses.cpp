#include "models/embed/embed_losses.h"

#include "kernels/ops.h"

namespace mrnn {

namespace {
// L2 norm over the last dim: [..., D] -> [...].
Tensor row_norm(const Tensor& d) { return sqrt(add_scalar(sum(square(d), {d.dim() - 1}), kNormEps)); }
}  // namespace

Tensor state_loss(const Tensor& h_last, const Tensor& target) {
  MRNN_CHECK(h_last.dim() == 2 && target.dim() == 2 && h_last.size(0) == target.size(0) &&
                 h_last.size(1) == target.size(1) && h_last.size(0) >= 1,
             "state_loss: expected final states and targets [B >= 1, D] of one shape, got {} and {}", h_last.desc(),
             target.desc());
  return mean(row_norm(sub(h_last, target)));
}

Tensor embedding_loss(const Tensor& e, const Tensor& mask, const Tensor& target) {
  MRNN_CHECK(e.dim() == 3 && mask.dim() == 2 && target.dim() == 2 && e.size(0) >= 1 && mask.size(0) == e.size(0) &&
                 mask.size(1) == e.size(1) && target.size(0) == e.size(0) && target.size(1) == e.size(2),
             "embedding_loss: expected embeddings [B >= 1, T, D], mask [B, T] and targets [B, D], got {}, {} and {}",
             e.desc(), mask.desc(), target.desc());
  const int64_t B = e.size(0), T = e.size(1);
  std::vector<double> m = mask.to(DType::F64).contiguous().to_vector<double>();
  std::vector<double> inv(B);
  for (int64_t b = 0; b < B; ++b) {
    double n = 0;
    for (int64_t t = 0; t < T; ++t) {
      const double v = m[b * T + t];
      MRNN_CHECK(v == 0 || v == 1, "embedding_loss: mask[{}, {}] is {}, expected 0 or 1", b, t, v);
      n += v;
    }
    MRNN_CHECK(n >= 1, "embedding_loss: sentence {} of the batch has no word (its mask row is all 0)", b);
    inv[b] = 1.0 / n;
  }
  Tensor dist = row_norm(sub(e, unsqueeze(target, 1)));           // [B, T]
  Tensor per = sum(mul(dist, mask.detach()), {1});                 // [B]
  Tensor w = Tensor::from_vector(inv).to(e.dtype()).to(e.device());  // 1 / L_b
  return mean(mul(per, w));
}

Tensor last_states(const Tensor& h, const std::vector<int64_t>& positions) {
  MRNN_CHECK(h.dim() == 3 && static_cast<int64_t>(positions.size()) == h.size(0),
             "last_states: expected states [B, T, D] and B positions, got {} and {} positions", h.desc(),
             positions.size());
  const int64_t B = h.size(0), T = h.size(1);
  std::vector<int64_t> rows(B);
  for (int64_t b = 0; b < B; ++b) {
    MRNN_CHECK(positions[b] >= 0 && positions[b] < T, "last_states: position {} of sequence {} is outside [0, {})",
               positions[b], b, T);
    rows[b] = b * T + positions[b];
  }
  Tensor idx = Tensor::from_vector(rows).to(h.device());
  return index_select(reshape(h, {B * T, h.size(2)}), idx);
}

}  // namespace mrnn
