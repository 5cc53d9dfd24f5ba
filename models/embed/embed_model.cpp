#include "models/embed/embed_model.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "data/vocab.h"
#include "kernels/ops.h"
#include "models/embed/embed_losses.h"
#include "models/engine/json_fields.h"

namespace mrnn {

namespace {
constexpr int64_t kMaxVocabE = int64_t{1} << 24, kMaxSize = int64_t{1} << 16;
}

std::string EmbedConfig::name() const {
  std::string n = variant;
  if (variant == "A" && !visual) n += "-no-visual";
  if (!tws) n += "-untied";
  return n;
}

std::string EmbedConfig::to_json() const {
  nlohmann::ordered_json j;
  j["model"] = "embed";
  j["variant"] = variant;
  j["visual"] = visual;
  j["tws"] = tws;
  j["vocab"] = vocab;
  j["embed"] = embed;
  j["rnn"] = rnn;
  j["multimodal"] = multimodal;
  j["image_input"] = image_input;
  j["image_size"] = image_size;
  j["cnn_channels"] = cnn_channels;
  if (cnn_pool != "flatten") j["cnn_pool"] = cnn_pool;
  j["image_dim"] = image_dim;
  j["dropout"] = dropout;
  j["state_weight"] = state_weight;
  j["emb_weight"] = emb_weight;
  return j.dump(2) + "\n";
}

EmbedConfig EmbedConfig::from_json(const std::string& text, const std::string& what) {
  nlohmann::json j = json_fields::config_object(text, what);
  MRNN_CHECK(j.contains("model") && j["model"] == "embed",
             "{}: field 'model' is {}, expected \"embed\" (a folder written by embed_train)", what,
             j.contains("model") ? j["model"].dump() : std::string("missing"));
  EmbedConfig c;
  auto get_int = [&](const char* k, int64_t& dst, int64_t lo, int64_t hi) {
    if (!j.contains(k)) return;
    const nlohmann::json& v = j[k];
    MRNN_CHECK(v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(hi)) &&
                   v.get<int64_t>() >= lo && v.get<int64_t>() <= hi,
               "{}: field '{}' must be an integer in [{}, {}], got {}", what, k, lo, hi, v.dump());
    dst = v.get<int64_t>();
  };
  auto get_bool = [&](const char* k, bool& dst) {
    if (!j.contains(k)) return;
    MRNN_CHECK(j[k].is_boolean(), "{}: field '{}' must be true or false, got {}", what, k, j[k].dump());
    dst = j[k].get<bool>();
  };
  auto get_real = [&](const char* k, double& dst, double lo, double hi, bool hi_open) {
    if (!j.contains(k)) return;
    const nlohmann::json& v = j[k];
    MRNN_CHECK(v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= lo &&
                   (hi_open ? v.get<double>() < hi : v.get<double>() <= hi),
               "{}: field '{}' must be a number in [{}, {}{}, got {}", what, k, lo, hi, hi_open ? ")" : "]", v.dump());
    dst = v.get<double>();
  };
  auto get_str = [&](const char* k, std::string& dst, const std::vector<std::string>& allowed) {
    if (!j.contains(k)) return;
    MRNN_CHECK(j[k].is_string(), "{}: field '{}' must be a string", what, k);
    dst = j[k].get<std::string>();
    bool ok = false;
    for (const auto& a : allowed) ok |= a == dst;
    MRNN_CHECK(ok, "{}: field '{}' is '{}', expected one of {}", what, k, dst, fmt::join(allowed, ", "));
  };
  MRNN_CHECK(j.contains("vocab"), "{}: field 'vocab' is missing", what);
  get_str("variant", c.variant, {"A", "B", "C"});
  get_bool("visual", c.visual);
  get_bool("tws", c.tws);
  get_int("vocab", c.vocab, kEosId + 2, kMaxVocabE);
  get_int("embed", c.embed, 1, kMaxSize);
  get_int("rnn", c.rnn, 1, kMaxSize);
  get_int("multimodal", c.multimodal, 1, kMaxSize);
  get_str("image_input", c.image_input, {"cnn", "features"});
  get_int("image_size", c.image_size, 4, 8192);
  get_int("image_dim", c.image_dim, 1, kMaxSize);
  if (j.contains("cnn_channels")) {
    const nlohmann::json& ch = j["cnn_channels"];
    MRNN_CHECK(ch.is_array() && !ch.empty() && ch.size() <= 8,
               "{}: field 'cnn_channels' must be an array of 1 to 8 integers", what);
    c.cnn_channels.clear();
    for (const auto& v : ch) {
      MRNN_CHECK(v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= kMaxSize,
                 "{}: field 'cnn_channels' has {}, expected integers in [1, {}]", what, v.dump(), kMaxSize);
      c.cnn_channels.push_back(v.get<int64_t>());
    }
  }
  get_str("cnn_pool", c.cnn_pool, cnn_pool_names());
  get_real("dropout", c.dropout, 0, 1, true);
  get_real("state_weight", c.state_weight, 0, 1e6, false);
  get_real("emb_weight", c.emb_weight, 0, 1e6, false);
  MRNN_CHECK(c.variant == "A" || c.visual, "{}: field 'visual' is false, but only model A has a text-only ablation "
             "(B and C always read images)", what);
  return c;
}

EmbedModel::EmbedModel(const EmbedConfig& cfg, Generator& gen) : cfg_(cfg), dropout_gen_(gen.seed() ^ 0xe3bu) {
  (void)EmbedConfig::from_json(cfg.to_json(), "EmbedModel config");  // the same checks as a loaded file
  embed_ = register_module("embed", std::make_shared<Embedding>(cfg.vocab, cfg.embed, gen));
  gru_ = register_module("rnn", std::make_shared<GRU>(cfg.embed, cfg.rnn, gen));
  const bool image_in_mm = cfg.variant == "A" && cfg.visual;
  if (image_in_mm)
    mm_ = register_module("multimodal", std::make_shared<FusingLayer>(
                                            std::vector<int64_t>{cfg.embed, cfg.rnn, cfg.image_dim},
                                            std::vector<bool>{false, false, true}, cfg.multimodal,
                                            FuseActivation::ScaledTanh, gen, std::vector<std::string>{"Vw", "Vr", "Vi"}));
  else
    mm_ = register_module("multimodal", std::make_shared<FusingLayer>(
                                            std::vector<int64_t>{cfg.embed, cfg.rnn}, std::vector<bool>{false, false},
                                            cfg.multimodal, FuseActivation::ScaledTanh, gen,
                                            std::vector<std::string>{"Vw", "Vr"}));
  if (cfg.tws)
    tied_ = register_module("output", std::make_shared<TiedSoftmax>(cfg.multimodal, embed_->weight, gen));
  else
    plain_ = register_module("output", std::make_shared<PlainSoftmax>(cfg.multimodal, cfg.vocab, gen));
  if (cfg.uses_image() && cfg.image_input == "cnn")
    cnn_ = register_module("cnn", std::make_shared<CnnEncoder>(cfg.image_size, cfg.cnn_channels, cfg.image_dim, gen,
                                                                      parse_cnn_pool(cfg.cnn_pool)));
  if (cfg.variant == "B")
    project_ = register_module("project", std::make_shared<Linear>(cfg.image_dim, cfg.rnn, gen));
  else if (cfg.variant == "C")
    project_ = register_module("project", std::make_shared<Linear>(cfg.image_dim, cfg.embed, gen));
}

Tensor EmbedModel::encode_images(const Tensor& images, const Tensor& rows) const {
  MRNN_CHECK(cfg_.uses_image(), "embedding model {}: encode_images on a model without image input", cfg_.name());
  Tensor f;
  if (cnn_) {
    MRNN_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) == cfg_.image_size &&
                   images.size(3) == cfg_.image_size,
               "embedding model: expected images [U, 3, {}, {}], got {}", cfg_.image_size, cfg_.image_size,
               images.desc());
    f = cnn_->forward(images);
  } else {
    MRNN_CHECK(images.dim() == 2 && images.size(1) == cfg_.image_dim,
               "embedding model: expected image features [U, {}], got {} (does the feature file match the model?)",
               cfg_.image_dim, images.desc());
    f = images;
  }
  return dropout(index_select(f, rows), cfg_.dropout, is_training(), dropout_gen_);
}

EmbedLoss EmbedModel::loss(const Tensor& tokens, const Tensor& image_features) const {
  MRNN_CHECK(tokens.dim() == 2 && tokens.size(1) >= 2 && tokens.size(0) >= 1,
             "embedding model: tokens must be [B >= 1, L >= 2], got {}", tokens.desc());
  const int64_t B = tokens.size(0), T = tokens.size(1) - 1;
  if (cfg_.uses_image())
    MRNN_CHECK(image_features.defined() && image_features.dim() == 2 && image_features.size(0) == B &&
                   image_features.size(1) == cfg_.image_dim,
               "embedding model {}: expected image features [{}, {}], got {}", cfg_.name(), B, cfg_.image_dim,
               image_features.defined() ? image_features.desc() : std::string("none"));
  Tensor in = narrow(tokens, 1, 0, T).contiguous();
  Tensor target = reshape(narrow(tokens, 1, 1, T).contiguous(), {B * T});
  // in and target stay where tokens are (host tokens: read below without a copy back, the targets
  // checked on the host by the output layer); the embedding reads in on the model's device.
  Tensor e = embed_->forward(in.to(device()));  // [B, T, E]
  Tensor h = gru_->forward(e);     // [B, T, R]
  Tensor m = cfg_.variant == "A" && cfg_.visual ? mm_->forward({e, h, image_features}) : mm_->forward({e, h});
  m = reshape(dropout(m, cfg_.dropout, is_training(), dropout_gen_), {B * T, cfg_.multimodal});
  EmbedLoss out;
  out.lm = tied_ ? tied_->loss(m, target, kPadId) : plain_->loss(m, target, kPadId);
  // Per sentence: its number of words n (inputs <bos> w_1 .. w_n), and which inputs are words.
  const std::vector<int64_t> ids = in.to_vector<int64_t>();
  for (int64_t v : target.to_vector<int64_t>()) out.targets += v != kPadId;
  std::vector<int64_t> last(B, 0);
  std::vector<float> word_mask(B * T, 0.f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t v = ids[b * T + t];
      if (v != kPadId && v != kBosId && v != kEosId) {
        word_mask[b * T + t] = 1.f;
        last[b] = t;
      }
    }
  if (cfg_.variant == "A") {
    out.total = out.lm;
    return out;
  }
  Tensor goal = relu(project_->forward(image_features));  // ReLU(W_I f_I)
  if (cfg_.variant == "B") {
    out.aux = state_loss(last_states(h, last), goal);
    out.total = add(out.lm, mul_scalar(out.aux, cfg_.state_weight));
  } else {
    Tensor mask = Tensor::from_vector(word_mask, {B, T}).to(e.dtype()).to(e.device());
    out.aux = embedding_loss(e, mask, goal);
    out.total = add(out.lm, mul_scalar(out.aux, cfg_.emb_weight));
  }
  return out;
}

}  // namespace mrnn
