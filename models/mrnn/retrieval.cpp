#include "models/mrnn/retrieval.h"

#include <cmath>
#include <numeric>

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn {

std::vector<double> sentence_log_probs(const Mrnn& model, const Tensor& feats, const Tensor& tokens) {
  NoGradGuard ng;
  const int64_t N = feats.size(0), S = tokens.size(0), T = tokens.size(1) - 1, V = model.config().vocab;
  Tensor in = narrow(tokens, 1, 0, T).contiguous();
  std::vector<int64_t> target = narrow(tokens, 1, 1, T).contiguous().to_vector<int64_t>();
  Tensor w, r;
  model.language(in, &w, &r);
  // The multimodal pre-activation without the image: computed once for all sentences.
  Tensor text = model.text_term(reshape(w, {S * T, w.size(-1)}), reshape(r, {S * T, r.size(-1)}));
  Tensor img = model.image_term(feats);  // [N, M]
  std::vector<double> scores(static_cast<size_t>(N * S), 0.0);
  for (int64_t i = 0; i < N; ++i) {
    Tensor m = model.multimodal_from_terms(text, select(img, 0, i));
    // [S*T, V], read on the host: an explicit copy for a model on a GPU (no copy on the CPU).
    Tensor lp = log_softmax(model.output_logits(m), -1).contiguous().to(Device::cpu());
    const float* p = lp.data<float>();
    for (int64_t s = 0; s < S; ++s) {
      double total = 0;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t y = target[s * T + t];
        if (y == kPadId) break;
        total += p[(s * T + t) * V + y];
      }
      scores[i * S + s] = total;
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
