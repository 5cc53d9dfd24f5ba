#include "models/mqa/mqa.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "data/vocab.h"
#include "kernels/ops.h"
#include "models/engine/json_fields.h"

namespace mrnn {

namespace {
constexpr int64_t kMaxMqaVocab = int64_t{1} << 24, kMaxMqaSize = int64_t{1} << 16;
}

std::string MqaConfig::to_json() const {
  nlohmann::ordered_json j;
  j["model"] = "mqa";
  j["vocab"] = vocab;
  j["embed"] = embed;
  j["lstm"] = lstm;
  j["fusing"] = fusing;
  if (image_input != "cnn") j["image_input"] = image_input;
  j["image_size"] = image_size;
  j["cnn_channels"] = cnn_channels;
  if (cnn_pool != "flatten") j["cnn_pool"] = cnn_pool;
  j["image_dim"] = image_dim;
  j["dropout"] = dropout;
  j["tws"] = tws;
  j["same_lstm"] = same_lstm;
  j["avg_question"] = avg_question;
  j["blind"] = blind;
  j["answers"] = answers;
  return j.dump(2) + "\n";
}

MqaConfig MqaConfig::from_json(const std::string& text, const std::string& what) {
  nlohmann::json j = json_fields::config_object(text, what);
  MRNN_CHECK(j.contains("model") && j["model"].is_string() && j["model"].get<std::string>() == "mqa",
             "{}: field 'model' must be \"mqa\" (is this an mQA model folder?)", what);
  MqaConfig c;
  const json_fields::ConfigFields f(j, what);
  MRNN_CHECK(j.contains("vocab"), "{}: field 'vocab' is missing", what);
  f.get_int("vocab", c.vocab, kEosId + 2, kMaxMqaVocab);
  f.get_int("embed", c.embed, 1, kMaxMqaSize);
  f.get_int("lstm", c.lstm, 1, kMaxMqaSize);
  f.get_int("fusing", c.fusing, 1, kMaxMqaSize);
  f.get_choice("image_input", c.image_input, {"cnn", "features"});
  f.get_int("image_size", c.image_size, 4, 8192);
  f.get_int("image_dim", c.image_dim, 1, kMaxMqaSize);
  f.get_int_list("cnn_channels", c.cnn_channels, 8, 1, kMaxMqaSize);
  f.get_choice("cnn_pool", c.cnn_pool, cnn_pool_names());
  f.get_real("dropout", c.dropout, 0, 1);
  f.get_bool("tws", c.tws);
  f.get_bool("same_lstm", c.same_lstm);
  f.get_bool("avg_question", c.avg_question);
  f.get_bool("blind", c.blind);
  if (j.contains("answers")) {
    MRNN_CHECK(j["answers"].is_string() && (j["answers"] == "word" || j["answers"] == "sentence"),
               "{}: field 'answers' must be \"word\" or \"sentence\"", what);
    c.answers = j["answers"].get<std::string>();
  }
  MRNN_CHECK(!(c.same_lstm && c.avg_question),
             "{}: 'same_lstm' and 'avg_question' are both true, but an averaged question has no LSTM to share", what);
  return c;
}

Mqa::Mqa(const MqaConfig& cfg, Generator& gen) : cfg_(cfg), dropout_gen_(gen.seed() ^ 0x3a0u) {
  MRNN_CHECK(cfg.vocab > kEosId + 1, "mQA: vocabulary of {} tokens is too small", cfg.vocab);
  MRNN_CHECK(!(cfg.same_lstm && cfg.avg_question), "mQA: same_lstm and avg_question exclude each other");
  embed_ = register_module("embed", std::make_shared<Embedding>(cfg.vocab, cfg.embed, gen));
  if (!cfg.avg_question)
    q_lstm_ = register_module("question_lstm", std::make_shared<LSTM>(cfg.embed, cfg.lstm, gen));
  a_lstm_ = cfg.same_lstm ? q_lstm_ : register_module("answer_lstm", std::make_shared<LSTM>(cfg.embed, cfg.lstm, gen));
  std::vector<int64_t> dims = {cfg.embed, cfg.lstm, question_dim()};
  std::vector<bool> per_seq = {false, false, true};
  std::vector<std::string> names = {"V_w", "V_rA", "V_rQ"};
  if (!cfg.blind) {
    dims.push_back(cfg.image_dim);
    per_seq.push_back(true);
    names.push_back("V_I");
  }
  fusing_ = register_module("fusing", std::make_shared<FusingLayer>(dims, per_seq, cfg.fusing,
                                                                    FuseActivation::ScaledTanh, gen, names));
  if (cfg.tws)  // the intermediate layer g(f U_I^T) and the softmax over the embedding table
    tied_ = register_module("output", std::make_shared<TiedSoftmax>(cfg.fusing, embed_->weight, gen));
  else
    plain_ = register_module("output", std::make_shared<PlainSoftmax>(cfg.fusing, cfg.vocab, gen));
  MRNN_CHECK(cfg.image_input == "cnn" || cfg.image_input == "features",
             "mQA: image_input must be cnn or features, got '{}'", cfg.image_input);
  if (!cfg.blind && cfg.image_input == "cnn")
    cnn_ = register_module("cnn", std::make_shared<CnnEncoder>(cfg.image_size, cfg.cnn_channels, cfg.image_dim, gen,
                                                                    parse_cnn_pool(cfg.cnn_pool)));
}

Tensor Mqa::words(const Tensor& ids) const { return scaled_tanh(embed_->forward(ids)); }

Tensor Mqa::image_feature(const Tensor& images) const {
  // I = sqrt(D) c / |c|: the CNN's last linear output c (before its ReLU) L2-normalised (as VQA's
  // "norm I" baseline does) and scaled to unit RMS. Measured on ShapesWorld: with the raw ReLU output
  // Adam grows it within tens of steps until the image term saturates the fusing layer's tanh and
  // the loss stalls; normalised after the ReLU, ~90% of the units die and I hardly depends on the
  // image (colour and shape questions stay at chance). Precomputed features are normalised alike.
  Tensor c = cnn_ ? cnn_->pre_activation(images) : images;
  Tensor norm = sqrt(add_scalar(sum(square(c), {1}, /*keepdim=*/true), 1e-6));
  return mul_scalar(div(c, norm), std::sqrt(static_cast<double>(cfg_.image_dim)));
}

void Mqa::check_image_input(const Tensor& images) const {
  if (cnn_)
    MRNN_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) == cfg_.image_size &&
                   images.size(3) == cfg_.image_size,
               "mQA: expected images [B, 3, {}, {}], got {}", cfg_.image_size, cfg_.image_size, images.desc());
  else
    MRNN_CHECK(images.dim() == 2 && images.size(1) == cfg_.image_dim,
               "mQA: expected image features [B, {}] (a features model), got {}", cfg_.image_dim, images.desc());
}

Tensor Mqa::encode_images(const Tensor& images) const {
  if (cfg_.blind) return Tensor();
  check_image_input(images);
  return dropout(image_feature(images), cfg_.dropout, is_training(), dropout_gen_);
}

Tensor Mqa::encode_images(const Tensor& images, const Tensor& rows) const {
  if (cfg_.blind) return Tensor();
  check_image_input(images);
  return dropout(index_select(image_feature(images), rows), cfg_.dropout, is_training(), dropout_gen_);
}

Tensor Mqa::encode_question(const QuestionBatch& q) const {
  MRNN_CHECK(q.ids.dim() == 2 && q.mask.dim() == 2 && q.ids.size(0) == q.mask.size(0) &&
                 q.ids.size(1) == q.mask.size(1) && q.ids.size(1) >= 1,
             "mQA: question ids and mask must both be [B, T >= 1], got {} and {}", q.ids.desc(), q.mask.desc());
  const int64_t B = q.ids.size(0), T = q.ids.size(1);
  Tensor w = words(q.ids);  // [B, T, E]
  Tensor mask = q.mask.to(w.device());
  if (cfg_.avg_question) {
    Tensor total = sum(mul(w, unsqueeze(mask, 2)), {1});       // [B, E]
    Tensor n = clamp(sum(mask, {1}, /*keepdim=*/true), 1.0, 1e30);  // [B, 1]
    return div(total, n);
  }
  LSTMState s = q_lstm_->zero_state(B);
  for (int64_t t = 0; t < T; ++t) {
    LSTMState next = q_lstm_->step(select(w, 1, t), s);
    Tensor m = narrow(mask, 1, t, 1);  // [B, 1]: 1 while the question lasts, 0 on its padding
    s.h = add(s.h, mul(m, sub(next.h, s.h)));
    s.c = add(s.c, mul(m, sub(next.c, s.c)));
  }
  return s.c;
}

Tensor Mqa::fused(const Tensor& w, const Tensor& r_a, const Tensor& r_q, const Tensor& image) const {
  std::vector<Tensor> xs = {w, r_a, r_q};
  if (!cfg_.blind) {
    MRNN_CHECK(image.defined(), "mQA: the model sees images but none was given");
    xs.push_back(image);
  }
  return fusing_->forward(xs);
}

Tensor Mqa::output_logits(const Tensor& f) const { return tied_ ? tied_->logits(f) : plain_->logits(f); }

Tensor Mqa::answer_features(const Tensor& r_q, const Tensor& image, const Tensor& a_in) const {
  MRNN_CHECK(a_in.dim() == 2 && a_in.size(1) >= 1, "mQA: answer inputs must be [B, T >= 1], got {}", a_in.desc());
  const int64_t B = a_in.size(0), T = a_in.size(1);
  Tensor w = words(a_in);
  LSTMState s = a_lstm_->zero_state(B);
  std::vector<Tensor> cells;  // r_A(t): the answer LSTM's memory cell after each input token
  for (int64_t t = 0; t < T; ++t) {
    s = a_lstm_->step(select(w, 1, t), s);
    cells.push_back(s.c);
  }
  return dropout(fused(w, stack(cells, 1), r_q, image), cfg_.dropout, is_training(), dropout_gen_);
}

Tensor Mqa::logits(const Tensor& r_q, const Tensor& image, const Tensor& a_in) const {
  return output_logits(answer_features(r_q, image, a_in));
}

Tensor Mqa::loss(const Tensor& r_q, const Tensor& image, const Tensor& a_in, const Tensor& targets,
                 int64_t* count) const {
  MRNN_CHECK(targets.dim() == 2 && a_in.dim() == 2 && targets.size(0) == a_in.size(0) &&
                 targets.size(1) == a_in.size(1),
             "mQA: answer inputs {} and targets {} must both be [B, T]", a_in.desc(), targets.desc());
  const int64_t B = a_in.size(0), T = a_in.size(1);
  Tensor f = reshape(answer_features(r_q, image, a_in), {B * T, cfg_.fusing});
  Tensor flat = reshape(targets.contiguous(), {B * T});
  if (count) {
    int64_t n = 0;
    for (int64_t v : flat.to_vector<int64_t>()) n += v != kPadId;
    *count = n;
  }
  return tied_ ? tied_->loss(f, flat, kPadId) : plain_->loss(f, flat, kPadId);
}

LSTMState Mqa::answer_zero_state(int64_t rows) const { return a_lstm_->zero_state(rows); }

Tensor Mqa::step_logits(const Tensor& ids, LSTMState& s, const Tensor& r_q, const Tensor& image) const {
  Tensor w = words(ids);
  s = a_lstm_->step(w, s);
  return output_logits(fused(w, s.c, r_q, image));
}

MqaAnswerer::MqaAnswerer(const Mqa& model, Tensor r_q, Tensor image)
    : model_(model), r_q_(std::move(r_q)), image_(std::move(image)) {
  MRNN_CHECK(r_q_.dim() == 2 && r_q_.size(1) == model.question_dim(), "MqaAnswerer: r_Q must be [N, {}], got {}",
             model.question_dim(), r_q_.desc());
  MRNN_CHECK(model.config().blind || (image_.dim() == 2 && image_.size(0) == r_q_.size(0)),
             "MqaAnswerer: expected image features [{}, D], got {}", r_q_.size(0), image_.desc());
}

DecoderState MqaAnswerer::initial_state() const {
  LSTMState s = model_.answer_zero_state(r_q_.size(0));
  DecoderState d;
  d.tensors = {s.h, s.c, r_q_};
  if (image_.defined()) d.tensors.push_back(image_);
  return d;
}

Tensor MqaAnswerer::step_logits(const Tensor& ids, DecoderState& state) const {
  std::vector<Tensor>& t = state.tensors;
  MRNN_CHECK(t.size() == (image_.defined() ? 4u : 3u), "MqaAnswerer: a state from initial_state() expected");
  LSTMState s{t[0], t[1]};
  Tensor logits = model_.step_logits(ids, s, t[2], image_.defined() ? t[3] : Tensor());
  t[0] = s.h;
  t[1] = s.c;
  return logits;
}

Device MqaAnswerer::device() const { return model_.device(); }

}  // namespace mrnn
