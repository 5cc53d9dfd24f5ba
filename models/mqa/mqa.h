// The mQA model (Gao et al., "Are You Talking to a Machine?"): four components.
//   question LSTM:  the question's words -> its final memory cell r_Q
//   image:          the CNN encoder captioning uses -> I
//   answer LSTM:    <boa> and the answer words so far -> its memory cell r_A(t) at each step
//   fusing layer:   f(t) = g(V_rQ r_Q + V_I I + V_rA r_A(t) + V_w w(t)), g(x) = 1.7159 tanh(2x/3),
//                   one fused op (layers/fusing.h), then the intermediate layer and the softmax
//                   tied to the word embedding (TWS, layers/tied_softmax.h).
// Both LSTMs read the same embedding table (one tensor, "embed.weight"); their weights are their own.
// Word vectors are w = g(E[id]). Ablations (MqaConfig): one LSTM for question and answer, the
// question as the mean of its word vectors, an untied softmax, and a blind model (no image: the
// fusing layer has no V_I and there is no CNN, which is V_I I with I = 0).
// Token ids are data/vocab.h's; <bos> is the begin-of-answer token and <eos> the end-of-answer token.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layers/cnn_encoder.h"
#include "layers/embedding.h"
#include "layers/fusing.h"
#include "layers/lstm.h"
#include "layers/tied_softmax.h"
#include "models/engine/step_model.h"

namespace mrnn {

struct MqaConfig {
  int64_t vocab = 0;
  int64_t embed = 64;      // word embedding width (the TWS table [vocab, embed])
  int64_t lstm = 128;      // both LSTMs' width
  int64_t fusing = 256;    // fusing layer width
  // cnn: images through the CNN encoder | features: precomputed vectors [image_dim] (no CNN; written
  // only when features)
  std::string image_input = "cnn";
  int64_t image_size = 64;
  std::vector<int64_t> cnn_channels = {16, 32, 64};
  std::string cnn_pool = "flatten";  // a cnn_pool_names() entry (layers/cnn_encoder.h); written unless flatten
  int64_t image_dim = 128;
  double dropout = 0.1;    // on I and on the fusing layer's output
  bool tws = true;
  bool same_lstm = false;     // the answer LSTM is the question LSTM
  bool avg_question = false;  // r_Q = mean of the question's word vectors (no question LSTM)
  bool blind = false;         // no image
  std::string answers = "word";  // word (multiple_choice_answer) | sentence (answer_sentence)

  std::string to_json() const;
  // Requires nothing (text is untrusted). Ensures, else throws Error naming `what` and the field:
  // an object with "model": "mqa", "vocab" in [5, 2^24], sizes in [1, 2^16], image_size in
  // [4, 8192], 1..8 cnn_channels, dropout in [0, 1), answers word|sentence, not both same_lstm and
  // avg_question.
  static MqaConfig from_json(const std::string& text, const std::string& what);
};

// A batch of questions: ids [B, Tq] (word ids, <pad> after the end) and mask f32 [B, Tq] (1 on real
// words). Every question has at least one word.
struct QuestionBatch {
  Tensor ids, mask;
};

class Mqa : public Module {
 public:
  // Requires: cfg valid (as from_json ensures). Throws Error otherwise.
  Mqa(const MqaConfig& cfg, Generator& gen);
  const MqaConfig& config() const { return cfg_; }

  // images [B, 3, S, S] (features [B, image_dim] with image_input features) -> I [B, image_dim]: the
  // CNN's output before its final ReLU (or the feature) L2-normalised to norm sqrt(image_dim)
  // (dropout in training mode). Blind: undefined. Throws Error on another shape.
  Tensor encode_images(const Tensor& images) const;
  // Distinct images [U, 3, S, S] (or features [U, D]) and rows i64 [B] -> I [B, image_dim] (each
  // image through the CNN once).
  Tensor encode_images(const Tensor& images, const Tensor& rows) const;
  // r_Q [B, question_dim()]: the question LSTM's memory cell after each question's last word (the
  // padding after it does not change it), or the mean word vector with avg_question.
  Tensor encode_question(const QuestionBatch& q) const;
  int64_t question_dim() const { return cfg_.avg_question ? cfg_.embed : cfg_.lstm; }
  // Teacher forcing: answer inputs a_in [B, Ta] (<bos> a_1 .. a_n <pad>..) -> logits [B, Ta, V] of
  // the next answer token at each position.
  Tensor logits(const Tensor& r_q, const Tensor& image, const Tensor& a_in) const;
  // Mean NLL of targets [B, Ta] (a_1 .. a_n <eos> <pad>..; <pad> ignored); *count = real targets.
  Tensor loss(const Tensor& r_q, const Tensor& image, const Tensor& a_in, const Tensor& targets,
              int64_t* count = nullptr) const;

  // ---- one answer step (decoding; models/mqa/mqa_decode.h binds it to the StepModel interface) ----
  // The answer LSTM's zero state {h, c} for `rows` rows, on the model's device.
  LSTMState answer_zero_state(int64_t rows) const;
  // ids i64 [N] -> next-token logits [N, V]; advances s. r_q [N, question_dim()], image [N, image_dim]
  // (undefined when blind).
  Tensor step_logits(const Tensor& ids, LSTMState& s, const Tensor& r_q, const Tensor& image) const;

  const Tensor& embedding_table() const { return embed_->weight; }
  Generator& dropout_generator() const { return dropout_gen_; }

 private:
  Tensor words(const Tensor& ids) const;  // w = g(E[ids])
  Tensor image_feature(const Tensor& images) const;
  void check_image_input(const Tensor& images) const;  // [B, 3, S, S] for the CNN, [B, image_dim] for features  // sqrt(D) c / |c| of the CNN's pre-ReLU output c, no dropout
  Tensor fused(const Tensor& w, const Tensor& r_a, const Tensor& r_q, const Tensor& image) const;
  Tensor output_logits(const Tensor& f) const;
  // The fusing layer's output f(t) [B, Ta, fusing] for teacher-forced answer inputs (with dropout).
  Tensor answer_features(const Tensor& r_q, const Tensor& image, const Tensor& a_in) const;
  MqaConfig cfg_;
  std::shared_ptr<Embedding> embed_;
  std::shared_ptr<LSTM> q_lstm_, a_lstm_;  // a_lstm_ == q_lstm_ with same_lstm; q_lstm_ null with avg_question
  std::shared_ptr<FusingLayer> fusing_;
  std::shared_ptr<TiedSoftmax> tied_;
  std::shared_ptr<PlainSoftmax> plain_;
  std::shared_ptr<CnnEncoder> cnn_;
  mutable Generator dropout_gen_;
};

// The answer generator as a StepModel over a batch of (question, image) pairs: the generic decoders
// (models/engine/step_decoder.h: greedy, sampling, beam) generate from <bos> to <eos>.
// State tensors: {h, c, r_Q[, I]}, all per row, so the default reorder moves them along a beam.
class MqaAnswerer : public StepModel {
 public:
  // Requires: model outlives this; r_q [N, question_dim()], image [N, image_dim] or undefined (blind).
  MqaAnswerer(const Mqa& model, Tensor r_q, Tensor image);
  DecoderState initial_state() const override;
  Tensor step_logits(const Tensor& ids, DecoderState& state) const override;
  Device device() const override;

 private:
  const Mqa& model_;
  Tensor r_q_, image_;
};

}  // namespace mrnn
