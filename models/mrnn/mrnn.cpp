#include "models/mrnn/mrnn.h"

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "kernels/fused.h"
#include "kernels/gemm_backend.h"
#include "kernels/ops.h"
#include "models/engine/json_fields.h"

namespace mrnn {

std::string MrnnConfig::to_json() const {
  nlohmann::ordered_json j;
  j["model"] = "m-rnn";
  j["vocab"] = vocab;
  j["embed1"] = embed1;
  j["embed2"] = embed2;
  j["rnn"] = rnn;
  j["multimodal"] = multimodal;
  j["rnn_type"] = rnn_type;
  j["tws"] = tws;
  j["tws_activation"] = tws_activation;
  j["image_input"] = image_input;
  j["image_size"] = image_size;
  j["cnn_channels"] = cnn_channels;
  if (cnn_pool != "flatten") j["cnn_pool"] = cnn_pool;
  j["image_dim"] = image_dim;
  j["dropout"] = dropout;
  if (centralize_from > 0) j["centralize_from"] = centralize_from;
  return j.dump(2) + "\n";
}

MrnnConfig MrnnConfig::from_json(const std::string& text, const std::string& what) {
  nlohmann::json j = json_fields::config_object(text, what);
  MrnnConfig c;
  // An integer in [lo, hi]; values above hi name the bound (no size product of the model can
  // overflow, and a damaged file fails here rather than in an allocation).
  auto int_in = [&](const nlohmann::json& v, const char* k, int64_t lo, int64_t hi) {
    MRNN_CHECK(v.is_number_integer(), "{}: field '{}' must be an integer >= {}", what, k, lo);
    if (v.is_number_unsigned())  // compared unsigned: 2^64 - 1 must not wrap to -1
      MRNN_CHECK(v.get<uint64_t>() <= static_cast<uint64_t>(hi), "{}: field '{}' is {}, at most {} is supported", what,
                 k, v.get<uint64_t>(), hi);
    MRNN_CHECK(v.get<int64_t>() >= lo, "{}: field '{}' must be an integer >= {}", what, k, lo);
    return v.get<int64_t>();
  };
  auto get_int = [&](const char* k, int64_t& dst, int64_t lo, int64_t hi) {
    if (j.contains(k)) dst = int_in(j[k], k, lo, hi);
  };
  const json_fields::ConfigFields f(j, what);
  MRNN_CHECK(j.contains("vocab"), "{}: field 'vocab' is missing", what);
  get_int("vocab", c.vocab, 5, kMaxVocab);
  get_int("embed1", c.embed1, 1, kMaxLayerSize);
  get_int("embed2", c.embed2, 1, kMaxLayerSize);
  get_int("rnn", c.rnn, 1, kMaxLayerSize);
  get_int("multimodal", c.multimodal, 1, kMaxLayerSize);
  f.get_choice("rnn_type", c.rnn_type, {"relu", "lstm", "gru"});
  if (j.contains("tws")) {
    MRNN_CHECK(j["tws"].is_boolean(), "{}: field 'tws' must be true or false", what);
    c.tws = j["tws"].get<bool>();
  }
  f.get_choice("tws_activation", c.tws_activation, {"identity", "scaled_tanh", "relu"});
  f.get_choice("image_input", c.image_input, {"cnn", "features"});
  f.get_choice("cnn_pool", c.cnn_pool, cnn_pool_names());
  get_int("image_size", c.image_size, 4, kMaxImageSize);
  get_int("image_dim", c.image_dim, 1, kMaxLayerSize);
  if (j.contains("cnn_channels")) {
    const nlohmann::json& ch = j["cnn_channels"];
    MRNN_CHECK(ch.is_array() && !ch.empty(), "{}: field 'cnn_channels' must be a non-empty array of integers", what);
    MRNN_CHECK(static_cast<int64_t>(ch.size()) <= kMaxCnnBlocks,
               "{}: field 'cnn_channels' has {} entries, at most {} are supported", what, ch.size(), kMaxCnnBlocks);
    c.cnn_channels.clear();
    for (auto& v : ch) c.cnn_channels.push_back(int_in(v, "cnn_channels", 1, kMaxLayerSize));
  }
  if (j.contains("dropout")) {
    MRNN_CHECK(j["dropout"].is_number() && j["dropout"].get<double>() >= 0 && j["dropout"].get<double>() < 1,
               "{}: field 'dropout' must be a number in [0, 1)", what);
    c.dropout = j["dropout"].get<double>();
  }
  if (j.contains("centralize_from")) {
    c.centralize_from = int_in(j["centralize_from"], "centralize_from", 0, kMaxVocab);
    MRNN_CHECK(c.centralize_from == 0 || (c.centralize_from > kEosId && c.centralize_from < c.vocab),
               "{}: field 'centralize_from' is {}, expected 0 (off) or a word id in ({}, vocab = {})", what,
               c.centralize_from, kEosId, c.vocab);
  }
  return c;
}

Mrnn::Mrnn(const MrnnConfig& cfg, Generator& gen) : cfg_(cfg), dropout_gen_(gen.seed() ^ 0xd50u) {
  MRNN_CHECK(cfg.vocab > kEosId, "Mrnn: vocabulary of {} words is too small", cfg.vocab);
  embed_ = register_module("embed", std::make_shared<Embedding>(cfg.vocab, cfg.embed1, gen));
  embed2_ = register_module("embed2", std::make_shared<Linear>(cfg.embed1, cfg.embed2, gen));
  if (cfg.rnn_type == "relu")
    rnn_ = register_module("rnn", std::make_shared<RNN>(cfg.embed2, cfg.rnn, gen, RNN::Activation::ReLU,
                                                        /*input_projection=*/cfg.embed2 != cfg.rnn));
  else if (cfg.rnn_type == "lstm")
    lstm_ = register_module("rnn", std::make_shared<LSTM>(cfg.embed2, cfg.rnn, gen));
  else if (cfg.rnn_type == "gru")
    gru_ = register_module("rnn", std::make_shared<GRU>(cfg.embed2, cfg.rnn, gen));
  else
    MRNN_FAIL("Mrnn: unknown rnn_type '{}' (relu, lstm or gru)", cfg.rnn_type);
  mm_ = register_module("multimodal",
                        std::make_shared<MultimodalLayer>(cfg.embed2, cfg.rnn, cfg.image_dim, cfg.multimodal, gen));
  if (cfg.tws) {
    TwsActivation f = cfg.tws_activation == "identity" ? TwsActivation::Identity
                      : cfg.tws_activation == "relu"   ? TwsActivation::ReLU
                                                       : TwsActivation::ScaledTanh;
    tied_ = register_module("output", std::make_shared<TiedSoftmax>(cfg.multimodal, embed_->weight, gen, f));
  } else {
    plain_ = register_module("output", std::make_shared<PlainSoftmax>(cfg.multimodal, cfg.vocab, gen));
  }
  if (cfg.image_input == "cnn")
    cnn_ = register_module("cnn", std::make_shared<CnnEncoder>(cfg.image_size, cfg.cnn_channels, cfg.image_dim, gen,
                                                                    parse_cnn_pool(cfg.cnn_pool)));
  if (cfg.centralize_from > 0) {
    MRNN_CHECK(cfg.centralize_from > kEosId && cfg.centralize_from < cfg.vocab,
               "Mrnn: centralize_from = {} is not a word id in ({}, {})", cfg.centralize_from, kEosId, cfg.vocab);
    center_ = register_buffer("nvcs_center", Tensor::zeros({output_input_dim()}));
  }
}

void Mrnn::centralize(const Tensor& mean, int64_t from) {
  MRNN_CHECK(from > kEosId && from < cfg_.vocab, "centralize: first novel word {} is not a word id in ({}, {})", from,
             kEosId, cfg_.vocab);
  MRNN_CHECK(mean.dim() == 1 && mean.size(0) == output_input_dim() && mean.dtype() == DType::F32,
             "centralize: expected an f32 mean [{}], got {}", output_input_dim(), mean.desc());
  NoGradGuard ng;
  if (!center_.defined()) center_ = register_buffer("nvcs_center", Tensor::zeros({output_input_dim()}, DType::F32, device()));
  center_.copy_(mean.to(center_.device()));
  cfg_.centralize_from = from;
}

const Tensor& Mrnn::output_weight() const { return tied_ ? embed_->weight : plain_->weight; }

Tensor Mrnn::output_input(const Tensor& m) const { return tied_ ? tied_->hidden(m) : m; }

Tensor Mrnn::output_bias() const {
  const Tensor& b = tied_ ? tied_->bias : plain_->bias;
  if (!center_.defined()) return b;
  const int64_t from = cfg_.centralize_from, n = b.size(0) - from, d = center_.size(0);
  // (x - mean) . u_w + b_w = x . u_w + (b_w - mean . u_w): the old words' entries subtract an exact 0.
  Tensor shift = reshape(linear(reshape(center_, {1, d}), narrow(output_weight(), 0, from, n), Tensor()), {n});
  return b - concat({Tensor::zeros({from}, b.dtype(), b.device()), shift}, 0);
}

Tensor Mrnn::multimodal(const Tensor& ids, const Tensor& image_features) const {
  Tensor w, r;
  language(ids, &w, &r);
  return dropout(mm_->forward(w, r, image_features), cfg_.dropout, is_training(), dropout_gen_);
}

Tensor Mrnn::encode_images(const Tensor& images) const {
  return dropout(image_features(images), cfg_.dropout, is_training(), dropout_gen_);
}

Tensor Mrnn::encode_images(const Tensor& images, const Tensor& rows) const {
  return dropout(index_select(image_features(images), rows), cfg_.dropout, is_training(), dropout_gen_);
}

Tensor Mrnn::cnn_features(const Tensor& images) const {
  MRNN_CHECK(cnn_ != nullptr, "m-RNN: cnn_features needs a model with a CNN (image_input cnn), this one reads features");
  MRNN_CHECK(images.dim() == 4, "m-RNN: cnn_features expects images [B, 3, {}, {}], got {}", cfg_.image_size,
             cfg_.image_size, images.desc());
  return image_features(images);
}

Tensor Mrnn::cnn_features(const Tensor& images, int64_t batch, const std::function<void(int64_t)>& done) const {
  MRNN_CHECK(batch >= 1, "cnn_features: batch must be >= 1, got {}", batch);
  NoGradGuard ng;
  std::vector<Tensor> parts;
  const int64_t n = images.size(0);
  for (int64_t at = 0; at < n; at += batch) {
    const int64_t k = std::min(batch, n - at);
    parts.push_back(cnn_features(narrow(images, 0, at, k).to(device())).to(Device::cpu()));
    if (done) done(k);
  }
  return parts.empty() ? Tensor::zeros({0, cfg_.image_dim}) : concat(parts, 0).contiguous();
}

Tensor Mrnn::image_features(const Tensor& images) const {
  Tensor f;
  if (cnn_ && images.dim() == 2) {  // the CNN's output, computed once (cnn_features)
    MRNN_CHECK(images.size(1) == cfg_.image_dim,
               "m-RNN: expected images [B, 3, {}, {}] or this CNN's features [B, {}], got {}", cfg_.image_size,
               cfg_.image_size, cfg_.image_dim, images.desc());
    f = images;
  } else if (cnn_) {
    MRNN_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) == cfg_.image_size &&
                   images.size(3) == cfg_.image_size,
               "m-RNN: expected images [B, 3, {}, {}], got {}", cfg_.image_size, cfg_.image_size, images.desc());
    f = cnn_->forward(images);
  } else {
    MRNN_CHECK(images.dim() == 2 && images.size(1) == cfg_.image_dim,
               "m-RNN: expected image features [B, {}], got {} (does the feature file match the model?)",
               cfg_.image_dim, images.desc());
    f = images;
  }
  return f;
}

Tensor Mrnn::recurrent(const Tensor& w) const {
  if (rnn_) return rnn_->forward(w);
  if (lstm_) return lstm_->forward(w);
  return gru_->forward(w);
}

void Mrnn::language(const Tensor& ids, Tensor* w, Tensor* r) const {
  *w = relu(embed2_->forward(embed_->forward(ids)));
  *r = recurrent(*w);
}

void Mrnn::grow_vocab(int64_t n, double new_bias, Generator& gen) {
  MRNN_CHECK(n >= 0 && cfg_.vocab + n <= kMaxVocab, "grow_vocab: {} + {} words is outside [5, {}]", cfg_.vocab, n,
             kMaxVocab);
  embed_->grow(n, gen);
  if (tied_) tied_->grow(new_bias);
  else plain_->grow(n, new_bias, gen);
  cfg_.vocab += n;
}

MatmulPrecision Mrnn::set_inference_precision(MatmulPrecision p, std::string* notice) {
  packed_out_.reset();
  if (p == MatmulPrecision::F32) {
    // Packing pays only where oneDNN keeps the packed layout; the OpenBLAS fallback would copy.
    if (device().is_cpu() && sgemm_onednn_available()) {
      NoGradGuard ng;
      packed_out_ = std::make_shared<PackedLinear>(output_weight(), output_bias(), p);
    }
    return p;
  }
  std::string why;
  if (!device().is_cpu()) why = "the model is on " + device().str() + ", and bf16 packing is CPU-only";
  else packed_linear_supported(p, &why);
  if (!why.empty()) {
    if (notice) *notice = std::string(matmul_precision_name(p)) + " unavailable, decoding in fp32: " + why;
    return MatmulPrecision::F32;
  }
  NoGradGuard ng;
  packed_out_ = std::make_shared<PackedLinear>(output_weight(), output_bias(), p);
  return p;
}

Tensor Mrnn::output_logits(const Tensor& m) const {
  if (packed_out_ && !is_training() && !grad_enabled()) {
    Tensor x = output_input(m);
    Shape out_shape = x.shape();
    out_shape.back() = packed_out_->out_features();
    return reshape((*packed_out_)(reshape(x, {x.numel() / x.size(-1), x.size(-1)})), out_shape);
  }
  if (center_.defined()) return linear(output_input(m), output_weight(), output_bias());
  return tied_ ? tied_->logits(m) : plain_->logits(m);
}

Tensor Mrnn::logits(const Tensor& ids, const Tensor& image_features) const {
  Tensor w, r;
  language(ids, &w, &r);
  Tensor m = mm_->forward(w, r, image_features);
  m = dropout(m, cfg_.dropout, is_training(), dropout_gen_);
  return output_logits(m);
}

Tensor Mrnn::loss(const Tensor& tokens, const Tensor& image_features, int64_t* count) const {
  MRNN_CHECK(tokens.dim() == 2 && tokens.size(1) >= 2, "m-RNN: tokens must be [B, L >= 2], got {}", tokens.desc());
  const int64_t B = tokens.size(0), T = tokens.size(1) - 1;
  // The inputs go to the model's device; the targets stay where tokens are: host tokens give the
  // output layer host targets, checked there and uploaded once (kernels/fused.h), so a step on a
  // GPU reads nothing back for them.
  Tensor in = narrow(tokens, 1, 0, T).contiguous().to(device()),
         target = reshape(narrow(tokens, 1, 1, T).contiguous(), {B * T});
  Tensor w, r;
  language(in, &w, &r);
  Tensor m = mm_->forward(w, r, image_features);
  m = reshape(dropout(m, cfg_.dropout, is_training(), dropout_gen_), {B * T, cfg_.multimodal});
  if (count) *count = count_targets(tokens);
  if (center_.defined()) return linear_cross_entropy(output_input(m), output_weight(), output_bias(), target, kPadId);
  return tied_ ? tied_->loss(m, target, kPadId) : plain_->loss(m, target, kPadId);
}

DecoderState Mrnn::initial_state(int64_t batch) const {
  DecoderState s;
  s.tensors.push_back(Tensor::zeros({batch, cfg_.rnn}, DType::F32, device()));  // h, on the model's device
  if (lstm_) s.tensors.push_back(Tensor::zeros({batch, cfg_.rnn}, DType::F32, device()));  // c
  return s;
}

Tensor Mrnn::image_term(const Tensor& image_features) const { return mm_->image_term(image_features); }

Tensor Mrnn::text_term(const Tensor& w, const Tensor& r) const { return mm_->text_term(w, r); }

Tensor Mrnn::multimodal_from_terms(const Tensor& text_term, const Tensor& image_term) const {
  return mm_->from_terms(text_term, image_term);
}

Tensor Mrnn::step_log_probs(const Tensor& ids, DecoderState& state, const Tensor& image_term) const {
  return log_softmax(step_logits(ids, state, image_term), -1);
}

Tensor Mrnn::step_logits(const Tensor& ids, DecoderState& state, const Tensor& image_term) const {
  std::vector<Tensor>& st = state.tensors;
  MRNN_CHECK(st.size() == (lstm_ ? 2u : 1u) && st[0].defined() && (!lstm_ || st[1].defined()),
             "m-RNN step: expected a state of {} tensors from initial_state ({}), got {}", lstm_ ? 2 : 1,
             lstm_ ? "h, c" : "h", st.size());
  Tensor w = relu(embed2_->forward(embed_->forward(ids)));
  if (rnn_) {
    st[0] = rnn_->step(w, st[0]);
  } else if (lstm_) {
    LSTMState s = lstm_->step(w, {st[0], st[1]});
    st[0] = s.h;
    st[1] = s.c;
  } else {
    st[0] = gru_->step(w, st[0]);
  }
  Tensor m = mm_->step(w, st[0], image_term);
  return output_logits(m);
}

DecoderState Mrnn::select_rows(const DecoderState& s, const Tensor& rows) {
  DecoderState r;
  for (const Tensor& t : s.tensors) r.tensors.push_back(t.defined() ? index_select(t, rows) : t);
  return r;
}

int64_t count_targets(const Tensor& tokens) {
  MRNN_CHECK(tokens.dim() == 2 && tokens.size(1) >= 2, "m-RNN: tokens must be [B, L >= 2], got {}", tokens.desc());
  int64_t n = 0;
  for (int64_t v : narrow(tokens, 1, 1, tokens.size(1) - 1).to_vector<int64_t>()) n += v != kPadId;
  return n;
}

}  // namespace mrnn
