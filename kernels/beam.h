// Batched beam search as a state on one device plus a "beam step" over all images x beams (issue
// 6, kernel 3): per row log-softmax + the best 2K words (stage 1), then per image the best 2K over
// its K rows and the bookkeeping of finished hypotheses (stage 2), back-pointers kept on the
// device, and one device->host copy of the captions at the end. Why a step function: the model's
// next-word logits come from ordinary ops between steps, and the same state and rules run on the
// CPU (kernels/cpu/beam_step.cpp: the one CPU beam search, which the generic decoder of
// models/engine/step_decoder.h runs, and the reference of the CUDA one) and on CUDA
// (kernels/cuda/beam_search.cu). The rules (kernels/common/beam.h): candidates are the ids in
// [first_word, V) other than bos, only eos at the last step, score = log p / (words + 1)^alpha
// (alpha = length_penalty), optional trigram blocking. The ids are the caller's (beam::Tokens).
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/beam.h"

namespace mrnn {

// All tensors live on one device; R = images * beam rows, row b*K + k is beam k of image b.
struct BeamSearch {
  int64_t images = 0, beam = 0, keep = 0, max_length = 0;
  double length_penalty = 0;
  bool block_trigrams = false;
  beam::Tokens tokens{};  // bos, eos, first_word
  Tensor logp;      // f64 [R]: log-probability of each live hypothesis, -inf for a dead row
  Tensor ids;       // i64 [R]: the word each row feeds the model next (tokens.bos at first)
  Tensor rows;      // i64 [R]: after a step, the row each new row continues (for the model state)
  Tensor new_logp, new_ids;        // f64 / i64 [R]: a step's result before it is committed
  Tensor hist_word, hist_parent;   // i64 [max_length + 1, R]: word and parent row per level
  Tensor cand_score, cand_word;    // f64 / i64 [R, keep]: stage 1's sorted candidates per row
  Tensor cand_n;                   // i64 [R]
  Tensor img_f;     // f64 [B, 2]: best finished score (penalised), its log-probability
  Tensor img_i;     // i64 [B, 4]: finished count, best's word count, best's source row, done
  Tensor ctl;       // i64 [3]: committed steps, stopped (a step left nothing live), any live
};

// Requires: images >= 1, beam >= 1 (on a GPU also beam <= 16 = beam::kMaxBeam, the kernels'
// per-thread lists; on the CPU at most 2^20), max_length >= 0, finite length_penalty,
// 0 <= first_word <= eos, bos >= 0, eos != bos, a CPU device or a CUDA device of this build. Ensures: every
// image starts with one live beam (row b*K) holding tokens.bos and log-probability 0.
BeamSearch beam_search_init(int64_t images, int64_t beam, int64_t max_length, double length_penalty,
                            bool block_trigrams, const beam::Tokens& tokens, Device device);

// Step t (0 <= t <= max_length, called in order) given the next-word logits [R, V] (f32 or f64,
// on the state's device, V > max(bos, eos)) of every row: updates the state in place. At
// t == max_length only eos is offered. Once a step leaves no live hypothesis the search is
// stopped and later steps change nothing (an early exit without reading anything back). No host
// sync.
void beam_search_step(BeamSearch& s, const Tensor& logits, int64_t t);

// Whether the search has stopped (nothing live is left). Reads one value of the state: free on
// the CPU, a device->host copy (and sync) on a GPU, so device decoders just run every step.
bool beam_search_stopped(const BeamSearch& s);

// The best caption per image as f64 [B, 3 + max_length] on the state's device: word count n,
// log-probability, score, then the n word ids (the rest 0). An image without any hypothesis gives
// n = 0 and zeros (an empty hypothesis).
Tensor beam_search_result(const BeamSearch& s);

namespace cpu {
// The backends' parts of beam_search_step / beam_search_result (no checks; see above).
void beam_rows(const BeamSearch& s, const Tensor& logits, int64_t t);  // stage 1
void beam_images(const BeamSearch& s, int64_t t);                      // stage 2 + bookkeeping
void beam_commit(const BeamSearch& s, int64_t t);
void beam_result(const BeamSearch& s, const Tensor& out);
}  // namespace cpu

#ifdef MRNN_WITH_CUDA
namespace cuda {
// stage 1: one block per row; stage 2: one thread per image; nothing blocks the host.
void beam_rows(const BeamSearch& s, const Tensor& logits, int64_t t);
void beam_images(const BeamSearch& s, int64_t t);
void beam_commit(const BeamSearch& s, int64_t t);
void beam_result(const BeamSearch& s, const Tensor& out);
}  // namespace cuda
#endif

}  // namespace mrnn
