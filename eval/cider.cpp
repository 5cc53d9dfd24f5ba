#include "eval/cider.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "eval/pairwise_sum.h"

namespace mrnn::eval {
namespace {

constexpr int kN = NgramCorpus::kMaxOrder;
constexpr double kE = 2.718281828459045;  // numpy's np.e (== M_E)

// Tf-idf weights of every sentence, parallel to corpus.grams, with per-n norms and lengths.
struct Vectors {
  std::vector<double> weight;
  std::vector<std::array<double, kN>> norm;  // per sentence
  std::vector<double> length;                // per sentence: number of bigrams
};

std::vector<uint32_t> document_frequency(const NgramCorpus& c) {
  std::vector<uint32_t> df(c.num_ngrams, 0);
  std::vector<uint32_t> last_image(c.num_ngrams, ~uint32_t{0});
  for (size_t i = 0; i < c.num_images(); ++i)
    for (uint32_t r = c.refs_begin(i); r < c.refs_end(i); ++r)
      for (const NgramCount* g = c.gram_begin(r); g != c.gram_end(r); ++g)
        if (last_image[g->id] != i) {
          last_image[g->id] = static_cast<uint32_t>(i);
          ++df[g->id];
        }
  return df;
}

Vectors tfidf(const NgramCorpus& c) {
  const std::vector<uint32_t> df = document_frequency(c);
  const double ref_len = std::log(static_cast<double>(c.num_images()));
  std::vector<double> idf(c.num_ngrams);
  for (uint32_t id = 0; id < c.num_ngrams; ++id)
    idf[id] = ref_len - std::log(std::max(1.0, static_cast<double>(df[id])));

  Vectors v;
  v.weight.resize(c.grams.size());
  const size_t num_sentences = c.sentence_words.size();
  v.norm.resize(num_sentences);
  v.length.resize(num_sentences);
  for (uint32_t s = 0; s < num_sentences; ++s) {
    std::array<double, kN> sq{};
    long long bigrams = 0;
    for (uint32_t k = c.sentence_begin[s]; k < c.sentence_begin[s + 1]; ++k) {
      const NgramCount& g = c.grams[k];
      const double w = static_cast<double>(g.count) * idf[g.id];
      v.weight[k] = w;
      sq[g.order - 1] += w * w;
      if (g.order == 2) bigrams += g.count;
    }
    for (int n = 0; n < kN; ++n) v.norm[s][n] = std::sqrt(sq[n]);
    v.length[s] = static_cast<double>(bigrams);
  }
  return v;
}

}  // namespace

CiderScore cider_d(const NgramCorpus& c, double sigma) {
  MRNN_CHECK(sigma > 0.0, "CIDEr-D: sigma = {} (expected > 0)", sigma);
  const Vectors v = tfidf(c);
  CiderScore out;
  out.image_ids = c.image_ids;
  out.per_image.resize(c.num_images());
  std::vector<double> ref_weight(c.num_ngrams, 0.0);  // scratch, zero between references

  for (size_t i = 0; i < c.num_images(); ++i) {
    const uint32_t h = c.hypothesis(i);
    const uint32_t h_begin = c.sentence_begin[h], h_end = c.sentence_begin[h + 1];
    std::array<double, kN> score{};
    for (uint32_t r = c.refs_begin(i); r < c.refs_end(i); ++r) {
      const uint32_t r_begin = c.sentence_begin[r], r_end = c.sentence_begin[r + 1];
      for (uint32_t k = r_begin; k < r_end; ++k) ref_weight[c.grams[k].id] = v.weight[k];

      std::array<double, kN> val{};
      for (uint32_t k = h_begin; k < h_end; ++k) {
        const double rw = ref_weight[c.grams[k].id];
        val[c.grams[k].order - 1] += std::min(v.weight[k], rw) * rw;
      }
      const double delta = v.length[h] - v.length[r];
      const double penalty = std::pow(kE, -(delta * delta) / (2.0 * (sigma * sigma)));
      for (int n = 0; n < kN; ++n) {
        if (v.norm[h][n] != 0.0 && v.norm[r][n] != 0.0) val[n] /= (v.norm[h][n] * v.norm[r][n]);
        val[n] *= penalty;
        score[n] += val[n];
      }
      for (uint32_t k = r_begin; k < r_end; ++k) ref_weight[c.grams[k].id] = 0.0;
    }
    double mean = pairwise_sum(score.data(), kN) / kN;
    mean /= static_cast<double>(c.refs_end(i) - c.refs_begin(i));
    mean *= 10.0;
    out.per_image[i] = mean;
  }
  out.corpus = numpy_mean(out.per_image);
  return out;
}

CiderScore cider_d(const CaptionMap& refs, const CaptionMap& results, double sigma) {
  return cider_d(encode_ngrams(refs, results, "CIDEr-D"), sigma);
}

}  // namespace mrnn::eval
