// Caption decoding from a trained m-RNN: greedy, temperature/top-k sampling, and batched beam
// search where all images x beams advance together as one batch of rows per step.
#pragma once
#include <vector>

#include "core/random.h"
#include "models/mrnn.h"

namespace mrnn {

struct DecodeOptions {
  int64_t max_length = 20;      // words, not counting <bos>/<eos>
  // Sampling (used by sample_captions only)
  double temperature = 1.0;
  int64_t top_k = 0;            // 0 = whole vocabulary
  // Beam search
  int64_t beam_size = 3;
  double length_penalty = 0.0;  // score = logp / len^alpha (alpha = length_penalty; 0 = raw logp)
  bool block_trigrams = false;  // forbid repeating any word trigram within a hypothesis
};

struct Caption {
  std::vector<int64_t> ids;  // words only (no <bos>/<eos>)
  double log_prob = 0;       // sum of log P over the words and <eos>
  double score = 0;          // the ranking score (length-penalised for beam search)
};

// image_features [B, image_dim] (already encoded); runs under NoGradGuard; model in eval mode.
std::vector<Caption> greedy_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt);
std::vector<Caption> sample_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt,
                                     Generator& gen);
std::vector<Caption> beam_search_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt);

}  // namespace mrnn
