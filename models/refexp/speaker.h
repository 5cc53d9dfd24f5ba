// The referring-expression speaker (Mao et al., "Generation and Comprehension of Unambiguous Object
// Descriptions"): an LSTM captioner of one region of an image, conditioned on
//   R    the region's feature: the image cropped to the box and resized, through a CnnEncoder, or a
//        precomputed region feature vector (SpeakerConfig::image_size == 0),
//   I    the whole image's feature (the same encoder, or precomputed),
//   loc  the region's 5-d location [x/W, y/H, (x+w)/W, (y+h)/H, w h / (W H)] (location_features).
// Per step: w(t) = g(E[id]) and the LSTM's hidden state h(t); the fusing layer (layers/fusing.h)
//   f(t) = g(V_w w(t) + V_h h(t) + V_R R + V_I I + V_loc loc + b), g(x) = 1.7159 tanh(2x/3),
// then the softmax tied to the embedding (TWS, layers/tied_softmax.h) or an untied one, as mQA.
// Why one module for both tasks: generation decodes it (SpeakerStepModel), comprehension
// (models/refexp/listener.h) and the MMI losses (models/refexp/losses.h) read its per-sequence
// log p(S | R, I) (sequence_log_probs).
// Token ids are data/vocab.h's: inputs start with <bos>, targets end with <eos>, <pad> after.
#pragma once
#include <array>
#include <memory>
#include <vector>

#include "data/refexp.h"
#include "layers/cnn_encoder.h"
#include "layers/embedding.h"
#include "layers/fusing.h"
#include "layers/lstm.h"
#include "layers/tied_softmax.h"
#include "models/engine/step_model.h"

namespace mrnn {

// The 5-d location of `box` ([x, y, w, h], COCO pixels) in a width x height image:
// [x/W, y/H, (x+w)/W, (y+h)/H, w h / (W H)].
// Requires: W, H > 0 and finite; the box finite with w, h > 0, x, y >= 0, x + w <= W, y + h <= H.
// Ensures: five values in [0, 1]; else throws Error naming the box, the image size and the rule.
std::array<double, 5> location_features(const Box& box, double width, double height);
// One row per box, all in the same image: f32 [N, 5] on the CPU. Requires as location_features.
Tensor location_tensor(const std::vector<Box>& boxes, double width, double height);

struct SpeakerConfig {
  int64_t vocab = 0;
  int64_t embed = 64;       // word embedding width
  int64_t lstm = 128;       // LSTM width
  int64_t fusing = 256;     // fusing layer width
  // > 0: region crops and whole images [N, 3, S, S] go through one CnnEncoder (S = image_size) to
  // features of feature_dim; 0: the caller gives precomputed feature vectors of feature_dim.
  int64_t image_size = 0;
  std::vector<int64_t> cnn_channels = {16, 32, 64};
  std::string cnn_pool = "flatten";  // a cnn_pool_names() entry (layers/cnn_encoder.h); written unless flatten
  int64_t feature_dim = 128;  // the width of R and of I
  double dropout = 0.0;       // on the fusing layer's output (training mode)
  bool tws = true;            // tied softmax (false: untied [V, fusing] output)
};

// A batch of N (expression, region) pairs, row n describing pair n. Teacher forcing:
// inputs i64 [N, T] (<bos> w_1 .. w_n <pad>..), targets i64 [N, T] (w_1 .. w_n <eos> <pad>..).
// region, image f32 [N, feature_dim] (see Speaker::encode), location f32 [N, 5].
struct SpeakerBatch {
  Tensor inputs, targets;
  Tensor region, image, location;
};

class Speaker : public Module {
 public:
  // Requires: vocab > <eos>, every size >= 1, image_size 0 or >= 4. Throws Error otherwise.
  Speaker(const SpeakerConfig& cfg, Generator& gen);
  const SpeakerConfig& config() const { return cfg_; }
  // The dropout stream (training mode), for a task's checkpoint state.
  Generator& dropout_generator() const { return dropout_gen_; }

  // With a CNN (image_size > 0): images [N, 3, S, S] (region crops or whole images) -> features
  // [N, feature_dim], the CNN's pre-ReLU output L2-normalised to norm sqrt(feature_dim) (as mQA).
  // Without: features [N, feature_dim] are returned as they are (checked). Throws Error on shapes.
  Tensor encode(const Tensor& images_or_features) const;

  // Teacher forcing: logits [N, T, V] of the next token at each input position.
  Tensor logits(const SpeakerBatch& b) const;
  // log p(S_n | R_n, I_n) for each row: f32 [N], the sum over the row's real targets (not <pad>) of
  // log softmax, differentiable. The output layer and the per-token losses are one fused op
  // (linear_cross_entropy, Reduction::None): the [N*T, V] logits are never held whole.
  // Requires: shapes as SpeakerBatch says; every row has at least one real target.
  Tensor sequence_log_probs(const SpeakerBatch& b) const;

  // ---- one step (decoding; SpeakerStepModel binds it to the StepModel interface) ----
  // The LSTM's zero state {h, c} for `rows` rows, in the model's device and data type.
  LSTMState zero_state(int64_t rows) const { return lstm_->zero_state(rows, lstm_->weight_ih.dtype()); }
  // ids i64 [N] -> next-token logits [N, V]; advances s. region/image [N, feature_dim], location [N, 5].
  Tensor step_logits(const Tensor& ids, LSTMState& s, const Tensor& region, const Tensor& image,
                     const Tensor& location) const;

 private:
  void check(const SpeakerBatch& b) const;
  Tensor words(const Tensor& ids) const;  // g(E[ids])
  Tensor features(const SpeakerBatch& b) const;  // f(t) [N, T, fusing], dropout in training mode
  Tensor output_logits(const Tensor& f) const;
  SpeakerConfig cfg_;
  std::shared_ptr<Embedding> embed_;
  std::shared_ptr<LSTM> lstm_;
  std::shared_ptr<FusingLayer> fusing_;
  std::shared_ptr<TiedSoftmax> tied_;
  std::shared_ptr<PlainSoftmax> plain_;
  std::shared_ptr<CnnEncoder> cnn_;
  mutable Generator dropout_gen_;
};

// The speaker as a StepModel over N regions: the generic decoders (models/engine/step_decoder.h:
// greedy, sampling, beam) generate an expression per region from <bos> to <eos>.
// State tensors: {h, c, R, I, loc}, all per row, so the default reorder moves them along a beam.
class SpeakerStepModel : public StepModel {
 public:
  // Requires: model outlives this; region, image [N, feature_dim] and location [N, 5] on the
  // model's device.
  SpeakerStepModel(const Speaker& model, Tensor region, Tensor image, Tensor location);
  DecoderState initial_state() const override;
  Tensor step_logits(const Tensor& ids, DecoderState& state) const override;
  Device device() const override;

 private:
  const Speaker& model_;
  Tensor region_, image_, location_;
};

}  // namespace mrnn
