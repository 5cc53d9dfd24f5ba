#include "eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace mrnn::eval {
namespace {

constexpr int kN = 4;
constexpr double kTiny = 1e-15;
constexpr double kSmall = 1e-9;

struct Counts {
  long long test_len = 0;
  long long ref_len = 0;  // effective ('closest') reference length
  std::array<long long, kN> guess{};
  std::array<long long, kN> correct{};
};

// Clipped matches, guesses and lengths of one image. `max_count` is scratch indexed by n-gram
// id, all zero on entry and on exit.
Counts cook_image(const NgramCorpus& c, size_t image, std::vector<uint32_t>& max_count) {
  Counts out;
  const uint32_t hyp = c.hypothesis(image);
  out.test_len = c.sentence_words[hyp];
  long long best_diff = -1;
  for (uint32_t r = c.refs_begin(image); r < c.refs_end(image); ++r) {
    const long long len = c.sentence_words[r];
    const long long diff = std::llabs(len - out.test_len);
    if (best_diff < 0 || diff < best_diff || (diff == best_diff && len < out.ref_len)) {
      best_diff = diff;
      out.ref_len = len;
    }
    for (const NgramCount* g = c.gram_begin(r); g != c.gram_end(r); ++g)
      max_count[g->id] = std::max(max_count[g->id], g->count);
  }
  for (int k = 0; k < kN; ++k) out.guess[k] = std::max<long long>(0, out.test_len - k);
  for (const NgramCount* g = c.gram_begin(hyp); g != c.gram_end(hyp); ++g)
    out.correct[g->order - 1] += std::min(max_count[g->id], g->count);
  for (uint32_t r = c.refs_begin(image); r < c.refs_end(image); ++r)
    for (const NgramCount* g = c.gram_begin(r); g != c.gram_end(r); ++g) max_count[g->id] = 0;
  return out;
}

// The geometric means with brevity penalty, in pycocoevalcap's order of operations.
std::array<double, kN> bleu_from_counts(const Counts& c) {
  std::array<double, kN> out{};
  double product = 1.0;
  for (int k = 0; k < kN; ++k) {
    product *= (static_cast<double>(c.correct[k]) + kTiny) / (static_cast<double>(c.guess[k]) + kSmall);
    out[k] = std::pow(product, 1.0 / (k + 1));
  }
  const double ratio = (static_cast<double>(c.test_len) + kTiny) / (static_cast<double>(c.ref_len) + kSmall);
  if (ratio < 1.0)
    for (int k = 0; k < kN; ++k) out[k] *= std::exp(1.0 - 1.0 / ratio);
  return out;
}

}  // namespace

BleuScore bleu(const NgramCorpus& corpus) {
  BleuScore out;
  out.image_ids = corpus.image_ids;
  out.per_image.resize(corpus.num_images());
  std::vector<uint32_t> max_count(corpus.num_ngrams, 0);
  Counts total;
  for (size_t i = 0; i < corpus.num_images(); ++i) {
    const Counts c = cook_image(corpus, i, max_count);
    out.per_image[i] = bleu_from_counts(c);
    total.test_len += c.test_len;
    total.ref_len += c.ref_len;
    for (int k = 0; k < kN; ++k) {
      total.guess[k] += c.guess[k];
      total.correct[k] += c.correct[k];
    }
  }
  out.corpus = bleu_from_counts(total);
  return out;
}

BleuScore bleu(const CaptionMap& refs, const CaptionMap& results) {
  return bleu(encode_ngrams(refs, results, "BLEU"));
}

}  // namespace mrnn::eval
