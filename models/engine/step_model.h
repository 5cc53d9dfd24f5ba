// The interface every model that generates token sequences step by step implements, so that one
// set of decoders (models/engine/step_decoder.h: greedy, sampling, batched beam search) serves
// them all: the m-RNN captioner, a referring-expression speaker, an answer generator.
// Why this small: a decoder needs only "the state before the first token", "logits of the next
// token given this token, updating the state", and "keep/copy these rows of the state".
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

// A decoder state: any number of tensors (layers, h and c, per-sequence context such as an image
// term), each with one row per decoded row in dim 0 (rows = sequences x beams during a beam search).
// The decoders never look inside; they only pass it back to the model and reorder its rows.
struct DecoderState {
  std::vector<Tensor> tensors;
  // The number of rows (dim 0 of the first tensor). Requires at least one tensor.
  int64_t rows() const;
};

class StepModel {
 public:
  virtual ~StepModel() = default;
  // The state before the first step, one row per sequence the model was bound to (e.g. one per
  // image: the per-sequence context is part of the state, so reorder() moves it along).
  // Ensures: at least one tensor, every tensor on device().
  virtual DecoderState initial_state() const = 0;
  // ids i64 [N] on device() (the tokens just emitted, <bos> first) -> next-token logits [N, V]
  // (f32 or f64) on device(); advances `state` (N rows) by one token. Runs under NoGradGuard.
  virtual Tensor step_logits(const Tensor& ids, DecoderState& state) const = 0;
  // The state whose row i is row rows[i] of s (rows i64 [N'] on device(), values in [0, N)).
  // Default: index_select of every tensor on dim 0. Override only if some tensor is not per row.
  virtual DecoderState reorder(const DecoderState& s, const Tensor& rows) const;
  // Where the state, ids and logits live.
  virtual Device device() const = 0;
};

}  // namespace mrnn
