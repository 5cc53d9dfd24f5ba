#include "models/mrnn/retrieval.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/autograd.h"
#include "kernels/fused.h"
#include "kernels/ops.h"

namespace mrnn {

std::vector<double> sentence_log_probs(const Mrnn& model, const Tensor& feats, const Tensor& tokens,
                                      int64_t block_rows) {
  NoGradGuard ng;
  MRNN_CHECK(tokens.dim() == 2 && tokens.size(1) >= 2 && tokens.dtype() == DType::I64,
             "sentence_log_probs: tokens must be i64 [S, L >= 2], got {}", tokens.desc());
  MRNN_CHECK(feats.dim() == 2, "sentence_log_probs: image features must be [N, D], got {}", feats.desc());
  MRNN_CHECK(block_rows >= 0, "sentence_log_probs: block_rows must be >= 0, got {}", block_rows);
  const int64_t N = feats.size(0), S = tokens.size(0), T = tokens.size(1) - 1;
  const int64_t rows = block_rows > 0 ? block_rows : kRetrievalBlockRows;
  const int64_t per_block = std::max<int64_t>(1, rows / T);  // sentences per block
  // Everything runs where the model is; what comes back to the host is one block of per-token
  // losses at a time (n*T floats), so host memory stays bounded at any number of sentences.
  const Device dev = model.device();
  const Tensor img = model.image_term(feats.to(dev));        // [N, M]
  const Tensor& weight = model.output_weight();
  const Tensor bias = model.output_bias();  // with NVCS centralization folded in: computed once
  std::vector<double> scores(static_cast<size_t>(N * S), 0.0);
  for (int64_t s0 = 0; s0 < S; s0 += per_block) {
    const int64_t n = std::min(per_block, S - s0);
    const Tensor block = narrow(tokens, 0, s0, n);
    const Tensor in = narrow(block, 1, 0, T).contiguous().to(dev);
    const Tensor target = reshape(narrow(block, 1, 1, T).contiguous(), {n * T}).to(dev);
    Tensor w, r;
    model.language(in, &w, &r);
    // The multimodal pre-activation without the image: once per block, shared by every image.
    const Tensor text = model.text_term(reshape(w, {n * T, w.size(-1)}), reshape(r, {n * T, r.size(-1)}));
    for (int64_t i = 0; i < N; ++i) {
      const Tensor m = model.multimodal_from_terms(text, select(img, 0, i));
      // -log p of each target token ([n*T], 0 at padding): the fused output op holds one row
      // block of logits at a time, never [n*T, V]. Read back: n*T floats.
      const Tensor nll = linear_cross_entropy(model.output_input(m), weight, bias, target, kPadId, 0, Reduction::None)
                             .contiguous()
                             .to(Device::cpu());  // an explicit host copy of this block
      const float* p = nll.data<float>("sentence_log_probs");
      for (int64_t k = 0; k < n; ++k) {
        double total = 0;
        for (int64_t t = 0; t < T; ++t) total -= p[k * T + t];
        scores[i * S + s0 + k] = total;
      }
    }
  }
  return scores;
}

std::vector<double> sentence_log_prior(const std::vector<double>& scores, int64_t S,
                                       const std::vector<int64_t>& rows) {
  MRNN_CHECK(!rows.empty(), "sentence_log_prior: the image sample is empty");
  std::vector<double> prior(S);
  for (int64_t s = 0; s < S; ++s) {
    double mx = -INFINITY;
    for (int64_t i : rows) mx = std::max(mx, scores[i * S + s]);
    double acc = 0;
    for (int64_t i : rows) acc += std::exp(scores[i * S + s] - mx);
    prior[s] = mx + std::log(acc / static_cast<double>(rows.size()));
  }
  return prior;
}

std::vector<double> sentence_log_prior_over(const Mrnn& model, const Tensor& prior_features, const Tensor& tokens) {
  const std::vector<double> scores = sentence_log_probs(model, prior_features, tokens);
  std::vector<int64_t> rows(static_cast<size_t>(prior_features.size(0)));
  std::iota(rows.begin(), rows.end(), 0);
  return sentence_log_prior(scores, tokens.size(0), rows);
}

std::vector<double> normalised_scores(const std::vector<double>& scores, const std::vector<double>& prior) {
  std::vector<double> out(scores.size());
  const size_t S = prior.size();
  for (size_t k = 0; k < scores.size(); ++k) out[k] = scores[k] - prior[k % S];
  return out;
}

}  // namespace mrnn
