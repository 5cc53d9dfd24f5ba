// Caption decoding from a trained m-RNN: the m-RNN as a StepModel (models/engine/step_model.h) and
// the caption functions the programs use, thin wrappers of the generic decoders of
// models/engine/step_decoder.h (greedy, temperature/top-k sampling, batched beam search).
#pragma once
#include <vector>

#include "core/random.h"
#include "models/engine/step_decoder.h"
#include "models/mrnn/mrnn.h"

namespace mrnn {

// The m-RNN bound to a batch of images: its decoder state is {h, [c,] image term}, each with one
// row per image (beam search repeats and reorders the rows, the image term with them).
// Requires: image_features [B, image_dim] (already encoded; copied to the model's device if they
// live elsewhere); the model outlives this object. Use under NoGradGuard, model in eval mode.
class MrnnStepModel final : public StepModel {
 public:
  MrnnStepModel(const Mrnn& model, const Tensor& image_features);
  DecoderState initial_state() const override;
  Tensor step_logits(const Tensor& ids, DecoderState& state) const override;
  Device device() const override { return model_.device(); }

 private:
  const Mrnn& model_;
  Tensor image_term_;  // [B, multimodal]
};

// image_features [B, image_dim] (already encoded); run under NoGradGuard; model in eval mode.
// The model may live on the CPU or on a GPU (Module::to); features elsewhere are copied to it.
// On a GPU, greedy and beam search run on the device (greedy = beam 1, no length penalty, no
// trigram blocking: the same choices) and read the captions back once; sampling reads each step's
// logits back. Ids are opt.bos/eos/first_word (data/vocab.h's by default).
std::vector<Caption> greedy_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt);
std::vector<Caption> sample_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt,
                                     Generator& gen);
std::vector<Caption> beam_search_captions(const Mrnn& model, const Tensor& image_features, const DecodeOptions& opt);
// The same search as beam_search_captions (there is one: kernels/beam.h's state on the model's
// device; no per-step host decisions on a GPU, one device->host copy of the captions at the end).
// Kept for the programs and tests that name it. Requires 1 <= opt.beam_size (<= 16 on a GPU).
std::vector<Caption> beam_search_captions_batched(const Mrnn& model, const Tensor& image_features,
                                                  const DecodeOptions& opt);

}  // namespace mrnn
