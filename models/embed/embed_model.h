// Multimodal word embeddings (Mao et al., NIPS 2016): three ways to make a word table learn from
// images, one Module for all of them. Why one class: the five variants the paper compares differ
// in one switch each, and sharing the rest makes the comparison fair.
//   A: GRU language model; the next-word softmax shares the word table transposed (TWS),
//      y = softmax(U_D^T f(U_I m) + b), with m = g(V_w e + V_r h + V_I I) the multimodal layer
//      (the m-RNN's) fed the image. Ablations: visual = false (m = g(V_w e + V_r h)), tws = false
//      (an untied [V, M] output).
//   B: the text-only language model of A plus state_weight * mean_s ||h_L - ReLU(W_I f_I)||.
//   C: the text-only language model of A plus emb_weight * mean_s (1/L) sum_t ||e_t - ReLU(W_I f_I)||.
// f_I is the CNN encoding of the image (trained from scratch, as the captioner's) or a
// precomputed feature vector. Token ids are data/vocab.h's.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layers/cnn_encoder.h"
#include "layers/embedding.h"
#include "layers/fusing.h"
#include "layers/gru.h"
#include "layers/linear.h"
#include "layers/tied_softmax.h"

namespace mrnn {

struct EmbedConfig {
  std::string variant = "A";   // A | B | C
  bool visual = true;          // A only: the image enters the multimodal layer
  bool tws = true;             // transposed weight sharing (untied output when false)
  int64_t vocab = 0;
  int64_t embed = 128;         // word-embedding size (the exported table's width)
  int64_t rnn = 256;           // GRU state size
  int64_t multimodal = 256;    // multimodal layer size
  std::string image_input = "cnn";  // cnn (raw images) | features (precomputed vectors)
  int64_t image_size = 64;
  std::vector<int64_t> cnn_channels = {16, 32, 64};
  std::string cnn_pool = "flatten";  // a cnn_pool_names() entry (layers/cnn_encoder.h); written unless flatten
  int64_t image_dim = 256;     // CNN output / feature width
  double dropout = 0.25;       // on the image features and the multimodal layer
  double state_weight = 1.0;   // B: weight of L_state
  double emb_weight = 1.0;     // C: weight of L_emb

  // True when the model reads images: A with visual, B and C.
  bool uses_image() const { return variant != "A" || visual; }
  // "A", "A-no-visual", "A-untied", "A-no-visual-untied", "B", "C" (B/C with "-untied" when untied).
  std::string name() const;
  std::string to_json() const;
  // Requires nothing (text is untrusted). Ensures, else throws Error naming `what` and the field:
  // an object with "model": "embed", a known variant, vocab in [5, 2^24], sizes in [1, 2^16],
  // image_size in [4, 8192], 1..8 cnn_channels, a cnn_pool_names() cnn_pool, dropout in [0, 1), weights >= 0 and finite.
  static EmbedConfig from_json(const std::string& text, const std::string& what);
};

struct EmbedLoss {
  Tensor total;         // lm + weight * aux (0-d, with its graph)
  Tensor lm;            // mean next-word NLL per predicted token (<eos> included)
  Tensor aux;           // L_state (B), L_emb (C); undefined for A
  int64_t targets = 0;  // predicted tokens (the rate's unit)
};

class EmbedModel : public Module {
 public:
  // Requires: cfg as from_json accepts (checked again here). Weights drawn from gen.
  EmbedModel(const EmbedConfig& cfg, Generator& gen);
  const EmbedConfig& config() const { return cfg_; }

  // Distinct images [U, 3, S, S] (or features [U, D]) and rows i64 [B] -> f_I [B, image_dim],
  // dropout in training mode. Requires config().uses_image().
  Tensor encode_images(const Tensor& images, const Tensor& rows) const;
  // tokens [B, L >= 2] framed <bos> words <eos> <pad>... (data/batching.h); image_features [B,
  // image_dim] from encode_images when the model uses images (else ignored, may be undefined).
  // Every sentence needs at least one word for C. Ensures: the loss parts of the variant.
  EmbedLoss loss(const Tensor& tokens, const Tensor& image_features) const;

  // The word table U_D [V, embed] (the exported embeddings).
  const Tensor& table() const { return embed_->weight; }
  // The stream dropout draws from (saved in checkpoints so a resumed run continues exactly).
  Generator& dropout_generator() const { return dropout_gen_; }

 private:
  EmbedConfig cfg_;
  std::shared_ptr<Embedding> embed_;
  std::shared_ptr<GRU> gru_;
  std::shared_ptr<FusingLayer> mm_;
  std::shared_ptr<TiedSoftmax> tied_;
  std::shared_ptr<PlainSoftmax> plain_;
  std::shared_ptr<CnnEncoder> cnn_;
  std::shared_ptr<Linear> project_;  // W_I of B and C
  mutable Generator dropout_gen_;
};

}  // namespace mrnn
