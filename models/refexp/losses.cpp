#include "models/refexp/losses.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/ops.h"

namespace mrnn {

Tensor ml_loss(const Tensor& log_probs) {
  MRNN_CHECK(log_probs.dim() == 1 && log_probs.size(0) >= 1, "ML loss: log-probs must be [B >= 1], got {}",
             log_probs.desc());
  return neg(mean(log_probs));
}

Tensor mmi_softmax_loss(const Tensor& log_probs, const Tensor& true_index, const Tensor& mask) {
  MRNN_CHECK(log_probs.dim() == 2 && log_probs.size(0) >= 1 && log_probs.size(1) >= 1,
             "MMI-SoftMax loss: log-probs must be [B >= 1, C >= 1], got {}", log_probs.desc());
  const int64_t B = log_probs.size(0), C = log_probs.size(1);
  MRNN_CHECK(true_index.dim() == 1 && true_index.size(0) == B && true_index.dtype() == DType::I64,
             "MMI-SoftMax loss: true_index must be i64 [{}], got {}", B, true_index.desc());
  const auto idx = true_index.to(Device::cpu()).contiguous().to_vector<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    MRNN_CHECK(idx[b] >= 0 && idx[b] < C, "MMI-SoftMax loss: true_index[{}] = {} is outside [0, {})", b, idx[b], C);
  Tensor x = log_probs;
  if (mask.defined()) {
    MRNN_CHECK(mask.shape() == log_probs.shape(), "MMI-SoftMax loss: mask {} must have the log-probs' shape {}",
               mask.desc(), log_probs.desc());
    const auto m = mask.to(Device::cpu()).contiguous().to(DType::F64).to_vector<double>();
    for (int64_t b = 0; b < B; ++b)
      MRNN_CHECK(m[b * C + idx[b]] != 0, "MMI-SoftMax loss: row {}'s true region (column {}) is masked out", b,
                 idx[b]);
    // Padding columns become a very negative log-prob: exp() of it is 0 in the log-sum-exp, and
    // masked_fill passes no gradient to them.
    Tensor pad = add_scalar(neg(mask.to(log_probs.device()).to(log_probs.dtype())), 1.0);
    x = masked_fill(x, pad, -1e30);
  }
  Tensor ls = log_softmax(x, 1);  // log [ p(S|R_c) / sum_c' p(S|R_c') ]
  Tensor picked = gather(ls, 1, unsqueeze(true_index.to(log_probs.device()), 1));  // [B, 1]
  return neg(mean(picked));
}

Tensor mmi_mm_loss(const Tensor& log_p_true, const Tensor& log_p_negative, double margin, double lambda) {
  MRNN_CHECK(log_p_true.dim() == 1 && log_p_true.size(0) >= 1 && log_p_negative.shape() == log_p_true.shape(),
             "MMI-MM loss: log-probs of the true and the negative regions must both be [B >= 1], got {} and {}",
             log_p_true.desc(), log_p_negative.desc());
  MRNN_CHECK(std::isfinite(margin) && margin >= 0, "MMI-MM loss: margin must be finite and >= 0, got {}", margin);
  MRNN_CHECK(std::isfinite(lambda) && lambda >= 0, "MMI-MM loss: lambda must be finite and >= 0, got {}", lambda);
  Tensor hinge = relu(add_scalar(sub(log_p_negative, log_p_true), margin));  // max(0, M - lp + lp')
  return neg(mean(sub(log_p_true, mul_scalar(hinge, lambda))));
}

}  // namespace mrnn
