// Retrieval with a trained m-RNN (no extra model): log P(sentence | image) for every pair.
// Image retrieval ranks images by it; sentence retrieval ranks sentences by
// P(S | I_Q) / P(S) with P(S) = mean over a sample of images I' of P(S | I').
// Why it is fast: the language half (w, r and V_w w + V_r r) does not depend on the image, so it
// is computed once for all sentences; each image then costs one activation + output layer pass.
#pragma once
#include <vector>

#include "models/mrnn/mrnn.h"

namespace mrnn {

// Token rows (sentences x time steps) scored at once when block_rows = 0: about 8k rows.
inline constexpr int64_t kRetrievalBlockRows = 8192;

// scores[i * S + s] = log P(tokens[s] | image i); tokens i64 [S, L] framed <bos> ... <eos> <pad>
// (models/mrnn/captioner.h score_sentences builds them from text).
// image_features [N, image_dim] (encoded). Runs under NoGradGuard.
// Memory is bounded whatever S and N are: sentences go in blocks of about block_rows token rows
// (0 = kRetrievalBlockRows), and each (block, image) pair goes through the fused output op, which
// never holds a block's [rows, V] logits whole. Why: 5,000 sentences x 16 steps x a 10k
// vocabulary would be 3.2 GB of log-probabilities per image. The result does not depend on
// block_rows beyond float rounding. Device: the model's; image_features and tokens may be on any
// device (they are copied there). Nothing reads device memory on the host except one explicit copy
// of each (block, image) pair's n*T per-token losses.
std::vector<double> sentence_log_probs(const Mrnn& model, const Tensor& image_features, const Tensor& tokens,
                                       int64_t block_rows = 0);

// log P(S) for each sentence: log of the mean of P(S | I') over the images in `sample_rows`
// (rows of the score matrix above).
std::vector<double> sentence_log_prior(const std::vector<double>& scores, int64_t num_sentences,
                                       const std::vector<int64_t>& sample_rows);

// log P(S) for each sentence of tokens [S, L], estimated over every image of `prior_features`
// ([N, image_dim], encoded; a sample of training images): sentence_log_probs over them, then
// sentence_log_prior over all N rows.
std::vector<double> sentence_log_prior_over(const Mrnn& model, const Tensor& prior_features, const Tensor& tokens);

// scores[i, s] - log_prior[s]: the normalised score for sentence retrieval.
std::vector<double> normalised_scores(const std::vector<double>& scores, const std::vector<double>& log_prior);

}  // namespace mrnn
