// The m-RNN (Mao et al.): word embeddings -> recurrent layer -> multimodal layer (with the image)
// -> softmax over the vocabulary, optionally with transposed weight sharing (TWS). One trained
// model serves captioning (models/mrnn/decoding.h) and both retrieval directions (models/mrnn/retrieval.h).
// Token ids are data/vocab.h's (kPadId 0, kUnkId 1, kBosId 2, kEosId 3).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/vocab.h"
#include "kernels/packed_linear.h"
#include "layers/cnn_encoder.h"
#include "layers/embedding.h"
#include "layers/gru.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "layers/multimodal.h"
#include "layers/rnn.h"
#include "layers/tied_softmax.h"
#include "models/engine/step_model.h"

namespace mrnn {

// Upper bounds of a configuration (MrnnConfig::from_json): no product of sizes in the model can
// overflow, and a damaged config.json fails naming the field rather than later in an allocation.
constexpr int64_t kMaxVocab = int64_t{1} << 24, kMaxLayerSize = int64_t{1} << 16, kMaxImageSize = 8192,
                  kMaxCnnBlocks = 8;

struct MrnnConfig {
  int64_t vocab = 0;
  int64_t embed1 = 128;       // e1 = E onehot(w)
  int64_t embed2 = 256;       // w = ReLU(W_e2 e1)
  int64_t rnn = 256;          // r
  int64_t multimodal = 512;   // m
  std::string rnn_type = "relu";      // relu | lstm | gru
  bool tws = true;                    // transposed weight sharing
  std::string tws_activation = "scaled_tanh";  // identity | scaled_tanh | relu
  std::string image_input = "cnn";    // cnn (raw images) | features (precomputed vectors)
  int64_t image_size = 64;            // cnn input H = W
  std::vector<int64_t> cnn_channels = {16, 32, 64};
  // A cnn_pool_names() entry (layers/cnn_encoder.h CnnPool). "flatten" here and for a config.json
  // without the field (every folder before it existed); written unless "flatten". caption_train's
  // and mqa_train's default is max.
  std::string cnn_pool = "flatten";
  int64_t image_dim = 256;            // cnn output / feature width
  double dropout = 0.25;
  // NVCS centralization (models/nvcs/): 0 = off (every model before NVCS). Else the id of the first
  // novel word: the logits of words >= centralize_from read the output-layer input centred by the
  // buffer "nvcs_center" (its mean over the base training data); older words' logits are unchanged.
  // Written to config.json only when > 0, so older folders read and write as before.
  int64_t centralize_from = 0;

  std::string to_json() const;
  // Requires nothing (text is untrusted). Ensures, else throws Error naming `what` (e.g. the
  // config.json path) and the field: text is a JSON object with "vocab" in [5, kMaxVocab]; embed1,
  // embed2, rnn, multimodal, image_dim and each cnn_channels entry in [1, kMaxLayerSize];
  // image_size in [4, kMaxImageSize]; 1 to kMaxCnnBlocks cnn_channels; known rnn_type,
  // tws_activation, image_input and cnn_pool; dropout in [0, 1); centralize_from 0 or in (kEosId, vocab).
  // Absent fields keep their defaults.
  static MrnnConfig from_json(const std::string& text, const std::string& what);
};

// The m-RNN's recurrent state for step-by-step decoding is a DecoderState (models/engine/
// step_model.h) with tensors {h} (relu, gru) or {h, c} (lstm), each [N, rnn].

class Mrnn : public Module {
 public:
  Mrnn(const MrnnConfig& cfg, Generator& gen);
  const MrnnConfig& config() const { return cfg_; }

  // images [B, 3, S, S] (cnn) or features [B, D] (features) -> [B, image_dim]. Images must be
  // normalised as in training, (p/255 - 0.5) / 0.25 per channel: preprocess_image
  // (models/mrnn/captioner.h) does it for an image file. A cnn model also takes its CNN's output
  // [B, image_dim] (cnn_features) in place of the images: the CNN is skipped and gets no gradient.
  Tensor encode_images(const Tensor& images) const;
  // Distinct images [U, ...] and rows i64 [B] (values in [0, U)) -> [B, image_dim]: each image goes
  // through the CNN once; dropout then draws per row, so the result equals
  // encode_images(index_select(images, rows)) up to float rounding (exactly when rows = 0..B-1).
  Tensor encode_images(const Tensor& images, const Tensor& rows) const;
  // The CNN's output for images [B, 3, S, S] -> [B, image_dim], without dropout; requires a cnn
  // model. Why: a frozen CNN (NVCS trains only new word rows) need not run at every step: encode
  // the images once and train on these features (encode_images accepts them).
  Tensor cnn_features(const Tensor& images) const;
  // cnn_features of images [N, 3, S, S] (any device) `batch` at a time on the model's device, back
  // on the host as [N, image_dim]; done(n) (optional) after each batch of n. Requires batch >= 1.
  Tensor cnn_features(const Tensor& images, int64_t batch, const std::function<void(int64_t)>& done = {}) const;
  // Word and recurrent activations for token ids [B, T]: w [B, T, E2], r [B, T, R].
  void language(const Tensor& ids, Tensor* w, Tensor* r) const;
  // Next-word logits for every position: [B, T, V].
  Tensor logits(const Tensor& ids, const Tensor& image_features) const;
  // Mean NLL over real tokens of sequences tokens [B, L] framed <bos> ... <eos> <pad>...
  // (inputs tokens[:, :-1], targets tokens[:, 1:]); *count gets the number of real targets.
  // tokens may be on the CPU for a model on a GPU (the inputs are copied there, the targets checked
  // on the host and uploaded once): the way to train on a GPU without a read-back.
  Tensor loss(const Tensor& tokens, const Tensor& image_features, int64_t* count = nullptr) const;

  // ---- step-by-step (decoding, under NoGradGuard; models/mrnn/decoding.h adapts it to StepModel) ----
  // Zeros {h} or {h, c} for `batch` rows on the model's device.
  DecoderState initial_state(int64_t batch) const;
  Tensor image_term(const Tensor& image_features) const;  // [B, M], once per image
  // V_w w + V_r r for language activations from language(): the image-free part of the
  // multimodal pre-activation (retrieval computes it once for all sentences).
  Tensor text_term(const Tensor& w, const Tensor& r) const;
  // The multimodal layer's output g(text_term + image_term) from the two terms, g applied by the
  // layer that owns it (retrieval: one image's [M] term against every sentence's text term).
  Tensor multimodal_from_terms(const Tensor& text_term, const Tensor& image_term) const;
  // ids [N] -> log-probabilities of the next word [N, V]; updates state (as from initial_state).
  Tensor step_log_probs(const Tensor& ids, DecoderState& state, const Tensor& image_term) const;
  // The same step returning the logits [N, V] (decoders that need only a max or a top-k per row
  // skip the full log-softmax: log p = logit - logsumexp(row)).
  Tensor step_logits(const Tensor& ids, DecoderState& state, const Tensor& image_term) const;
  // Reorders the state's rows (beam search): rows index i64 [N'].
  static DecoderState select_rows(const DecoderState& s, const Tensor& rows);

  Tensor output_logits(const Tensor& m) const;
  // The multimodal activations m [B, T, M] for token ids [B, T] (dropout in training mode), as
  // logits() feeds to the output layer. Why: NVCS averages the output layer's input over a corpus.
  Tensor multimodal(const Tensor& ids, const Tensor& image_features) const;
  // The vector the output matrix multiplies: f(U_I m) [..., embed1] with TWS, m itself untied.
  Tensor output_input(const Tensor& m) const;
  int64_t output_input_dim() const { return tied_ ? cfg_.embed1 : cfg_.multimodal; }
  // NVCS centralization: words from `from` on (the novel words) get logit (x - mean) . u_w + b_w
  // instead of x . u_w + b_w (x = output_input). Requires: kEosId < from < vocab, mean
  // [output_input_dim()] f32 on the model's device; no optimizer state yet. Ensures: the buffer
  // "nvcs_center" holds mean (it is saved and loaded with the weights) and config().centralize_from
  // = from; no parameter changes.
  void centralize(const Tensor& mean, int64_t from);
  // The centring buffer [output_input_dim()] (undefined when centralize_from = 0).
  const Tensor& center() const { return center_; }
  // Adds n words (ids V .. V+n-1): new embedding rows (and output rows when untied) from gen, and
  // output biases set to new_bias. Every old parameter keeps its bits; config().vocab grows.
  // Requires: no optimizer state exists yet for the old shapes (make it afterwards).
  void grow_vocab(int64_t n, double new_bias, Generator& gen);
  // The stream dropout draws from (saved in checkpoints so a resumed run continues exactly).
  Generator& dropout_generator() const { return dropout_gen_; }
  // The output layer's matrix [V, output_input_dim()] (the embedding table with TWS) and its bias
  // with centralization folded in: b_w - [w >= centralize_from] mean . u_w. Why public: the fused
  // output op (retrieval) and the packed inference copy read them.
  Tensor output_bias() const;
  const Tensor& output_weight() const;

  // ---- inference precision of the output layer (kernels/packed_linear.h) ----
  // Packs the output matrix and bias once, and output_logits() uses the packed copy whenever the
  // model is in eval mode and grad mode is off; nothing else changes. BF16: packed in bf16 (fp32
  // accumulation). F32: packed in f32 by oneDNN when the build has it and the model is on the CPU
  // (the same products up to float rounding, about 15% faster decoding: docs/performance.md),
  // else no pack. A model on which this was never called has no pack. The pack is a snapshot: set
  // it again after the weights change (training, loading); train mode and grad mode never use it.
  // Returns the precision in effect: F32 when BF16 is unavailable here (no oneDNN, no
  // AVX512_BF16/AMX, or a model not on the CPU), with *notice (optional) set to a one-line reason.
  // Why: the output GEMM is about 93% of a decoding step's FLOPs, and OpenBLAS re-packs the
  // matrix on every call.
  MatmulPrecision set_inference_precision(MatmulPrecision p, std::string* notice = nullptr);
  MatmulPrecision inference_precision() const { return packed_out_ ? packed_out_->precision() : MatmulPrecision::F32; }

 private:
  Tensor recurrent(const Tensor& w) const;
  Tensor image_features(const Tensor& images) const;  // encode_images without dropout
  Tensor center_;
  std::shared_ptr<PackedLinear> packed_out_;  // set_inference_precision
  MrnnConfig cfg_;
  std::shared_ptr<Embedding> embed_;
  std::shared_ptr<Linear> embed2_;
  std::shared_ptr<RNN> rnn_;
  std::shared_ptr<LSTM> lstm_;
  std::shared_ptr<GRU> gru_;
  std::shared_ptr<MultimodalLayer> mm_;
  std::shared_ptr<TiedSoftmax> tied_;
  std::shared_ptr<PlainSoftmax> plain_;
  std::shared_ptr<CnnEncoder> cnn_;
  mutable Generator dropout_gen_;
};

// The targets Mrnn::loss counts in tokens [B, L >= 2]: the ids of columns 1.. that are not kPadId.
// Reads tokens on the host: give it the CPU copy of a batch, so nothing is read back from a GPU.
int64_t count_targets(const Tensor& tokens);

}  // namespace mrnn
