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
// The model may live on the CPU or on a GPU (Module::to); features elsewhere are copied to it.
// On a GPU, greedy and beam search run as beam_search_captions_batched (greedy = beam 1, no
// length penalty, no trigram blocking: the same choices) and read the captions back once;
// sampling reads each step's logits back.
std::vector<Caption> greedy_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt);
std::vector<Caption> sample_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt,
                                     Generator& gen);
std::vector<Caption> beam_search_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt);
// The same search (same rules, same captions) kept on the model's device as kernels/beam.h's state:
// no per-step host decisions, one device->host copy of the captions at the end. Requires:
// 1 <= opt.beam_size <= 16. beam_search_captions uses it for a model on a GPU; on the CPU it is the
// reference the tests compare with beam_search_captions.
std::vector<Caption> beam_search_captions_batched(const Mrnn& model, const Tensor& image_features,
                                                  const DecodeOptions& opt);

}  // namespace mrnn
