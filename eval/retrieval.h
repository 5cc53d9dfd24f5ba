// Bidirectional retrieval metrics from an image x sentence score matrix: R@1/5/10, median and
// mean rank, for text->image (image retrieval) and image->text (sentence retrieval).
// Why: the m-RNN retrieval tables (Flickr8K/30K, COCO) report exactly these numbers.
//
// Conventions: ranks are 1-based; the rank of a target is 1 + the number of candidates with a
// strictly higher score (ties are resolved in the query's favour, so a constant score matrix
// gives rank 1). text->image: for sentence s, the rank of its own image among all images.
// image->text: for image i, the best (smallest) rank among its own sentences. R@K = 100 * share
// of queries with rank <= K (percent, as in the papers); median rank = floor(np.median(ranks))
// (the Karpathy / VSE evaluation code's floor(median of 0-based ranks) + 1); mean rank = the
// mean of the ranks.
#pragma once
#include <cstddef>
#include <vector>

namespace mrnn::eval {

struct RankMetrics {
  double r1 = 0, r5 = 0, r10 = 0;  // percent
  double median_rank = 0;
  double mean_rank = 0;
  std::vector<size_t> ranks;  // per query (sentence or image), 1-based
};

struct RetrievalMetrics {
  RankMetrics text_to_image;  // one query per sentence
  RankMetrics image_to_text;  // one query per image
};

// scores: row-major num_images x num_sentences, scores[i * num_sentences + s] = how well
// sentence s matches image i (higher is better). sentence_image[s] = index of s's own image.
// Requires: scores.size() == num_images * num_sentences, no NaN, sentence_image.size() ==
// num_sentences, every entry < num_images, and every image owns at least one sentence (any
// number, not only 5). Ensures: metrics as described above; else throws mrnn::Error.
RetrievalMetrics retrieval_metrics(const std::vector<double>& scores, size_t num_images,
                                   size_t num_sentences, const std::vector<size_t>& sentence_image);
RetrievalMetrics retrieval_metrics(const std::vector<float>& scores, size_t num_images,
                                   size_t num_sentences, const std::vector<size_t>& sentence_image);

// R@K, median and mean rank of 1-based ranks. Requires !ranks.empty() and every rank >= 1.
RankMetrics rank_metrics(std::vector<size_t> ranks);

}  // namespace mrnn::eval
