#include "eval/retrieval.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace mrnn::eval {
namespace {

template <typename T>
RetrievalMetrics compute(const std::vector<T>& scores, size_t num_images, size_t num_sentences,
                         const std::vector<size_t>& sentence_image) {
  MRNN_CHECK(num_images > 0 && num_sentences > 0,
             "retrieval: {} images x {} sentences (expected both > 0)", num_images, num_sentences);
  MRNN_CHECK(scores.size() == num_images * num_sentences,
             "retrieval: scores has {} values (expected num_images * num_sentences = {} x {})",
             scores.size(), num_images, num_sentences);
  MRNN_CHECK(sentence_image.size() == num_sentences,
             "retrieval: sentence_image has {} entries (expected num_sentences = {})",
             sentence_image.size(), num_sentences);
  std::vector<size_t> captions_of(num_images, 0);
  for (size_t s = 0; s < num_sentences; ++s) {
    MRNN_CHECK(sentence_image[s] < num_images,
               "retrieval: sentence_image[{}] = {} (expected an image index < {})", s,
               sentence_image[s], num_images);
    ++captions_of[sentence_image[s]];
  }
  for (size_t i = 0; i < num_images; ++i)
    MRNN_CHECK(captions_of[i] > 0, "retrieval: image {} has no sentence in sentence_image "
               "(expected at least one per image)", i);
  for (size_t k = 0; k < scores.size(); ++k)
    MRNN_CHECK(!std::isnan(scores[k]), "retrieval: scores[{}] (image {}, sentence {}) is NaN",
               k, k / num_sentences, k % num_sentences);

  auto at = [&](size_t i, size_t s) { return scores[i * num_sentences + s]; };
  std::vector<size_t> t2i(num_sentences);
  for (size_t s = 0; s < num_sentences; ++s) {
    const T own = at(sentence_image[s], s);
    size_t better = 0;
    for (size_t i = 0; i < num_images; ++i) better += at(i, s) > own;
    t2i[s] = better + 1;
  }
  std::vector<size_t> i2t(num_images, 0);
  for (size_t i = 0; i < num_images; ++i) {
    // Best own sentence = the highest own score; its rank counts strictly better sentences.
    T best_own = 0;
    bool first = true;
    for (size_t s = 0; s < num_sentences; ++s)
      if (sentence_image[s] == i && (first || at(i, s) > best_own)) {
        best_own = at(i, s);
        first = false;
      }
    size_t better = 0;
    for (size_t s = 0; s < num_sentences; ++s) better += at(i, s) > best_own;
    i2t[i] = better + 1;
  }
  return {rank_metrics(std::move(t2i)), rank_metrics(std::move(i2t))};
}

}  // namespace

RankMetrics rank_metrics(std::vector<size_t> ranks) {
  MRNN_CHECK(!ranks.empty(), "retrieval: no ranks (expected at least one query)");
  RankMetrics m;
  size_t within[3] = {0, 0, 0};
  double sum = 0;
  for (size_t r : ranks) {
    MRNN_CHECK(r >= 1, "retrieval: rank {} (expected 1-based ranks >= 1)", r);
    within[0] += r <= 1;
    within[1] += r <= 5;
    within[2] += r <= 10;
    sum += static_cast<double>(r);
  }
  const double n = static_cast<double>(ranks.size());
  m.r1 = 100.0 * static_cast<double>(within[0]) / n;
  m.r5 = 100.0 * static_cast<double>(within[1]) / n;
  m.r10 = 100.0 * static_cast<double>(within[2]) / n;
  m.mean_rank = sum / n;
  std::vector<size_t> sorted = ranks;
  std::sort(sorted.begin(), sorted.end());
  const size_t mid = sorted.size() / 2;
  const double median = sorted.size() % 2 == 1
                            ? static_cast<double>(sorted[mid])
                            : 0.5 * static_cast<double>(sorted[mid - 1] + sorted[mid]);
  m.median_rank = std::floor(median);
  m.ranks = std::move(ranks);
  return m;
}

RetrievalMetrics retrieval_metrics(const std::vector<double>& scores, size_t num_images,
                                   size_t num_sentences, const std::vector<size_t>& sentence_image) {
  return compute(scores, num_images, num_sentences, sentence_image);
}

RetrievalMetrics retrieval_metrics(const std::vector<float>& scores, size_t num_images,
                                   size_t num_sentences, const std::vector<size_t>& sentence_image) {
  return compute(scores, num_images, num_sentences, sentence_image);
}

}  // namespace mrnn::eval
