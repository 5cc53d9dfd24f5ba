// Decoders over any StepModel (models/engine/step_model.h): greedy, temperature/top-k sampling,
// and batched beam search, where all sequences x beams advance together as one batch of rows per
// step. The beam search is kernels/beam.h's state machine (the one implementation of its rules:
// length penalty, trigram blocking, finished hypotheses, ties), on the model's device: on the CPU
// it is the CPU beam search, on a GPU the CUDA one. docs/decoding.md shows how a model plugs in.
#pragma once
#include <cstdint>
#include <vector>

#include "core/random.h"
#include "data/vocab.h"
#include "models/engine/step_model.h"

namespace mrnn {

struct DecodeOptions {
  int64_t max_length = 20;      // tokens, not counting bos/eos; eos is forced after max_length
  // Token ids (defaults: data/vocab.h). Candidates at each step are the ids in [first_word, V)
  // other than bos; eos must be one of them (first_word <= eos).
  int64_t bos = kBosId;
  int64_t eos = kEosId;
  int64_t first_word = kEosId;  // ids below it (<pad>, <unk>, <bos>) are never emitted
  // Sampling (sample_decode only)
  double temperature = 1.0;
  int64_t top_k = 0;            // 0 = every candidate
  // Beam search (beam_decode only)
  int64_t beam_size = 3;        // >= 1; at most 16 on a GPU
  double length_penalty = 0.0;  // score = logp / (len + 1)^alpha (alpha = length_penalty; 0 = raw logp)
  bool block_trigrams = false;  // forbid repeating any token trigram within a hypothesis
};

// One decoded sequence.
struct Hypothesis {
  std::vector<int64_t> ids;  // tokens only (no bos/eos)
  double log_prob = 0;       // sum of log P over the tokens and eos
  double score = 0;          // the ranking score (length-penalised for beam search)
};
using Caption = Hypothesis;

// Each decodes every sequence the model is bound to (model.initial_state().rows() of them) and
// returns one Hypothesis per sequence, in order. Requires max_length >= 0, bos >= 0,
// 0 <= first_word <= eos, ids below the logits' width V. Run under NoGradGuard (they set it).

// The argmax path (ties: the lowest id). On the CPU a host loop; elsewhere the batched beam search
// with beam 1, no length penalty and no trigram blocking (the same choices, no per-step read-back).
std::vector<Hypothesis> greedy_decode(const StepModel& model, const DecodeOptions& opt);
// Draws each token from softmax(logits / temperature) over the candidates (the top_k best when
// top_k > 0), one gen.uniform() per unfinished sequence and step: deterministic under `gen`.
// Requires temperature > 0. On a GPU each step's logits are copied to the host.
std::vector<Hypothesis> sample_decode(const StepModel& model, const DecodeOptions& opt, Generator& gen);
// Batched beam search on the model's device (kernels/beam.h); returns the best finished
// hypothesis per sequence (or, if none finished, the best live one at max_length).
std::vector<Hypothesis> beam_decode(const StepModel& model, const DecodeOptions& opt);

}  // namespace mrnn
