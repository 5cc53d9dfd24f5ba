#include "models/refexp/speaker.h"

#include <cmath>

#include "core/autograd.h"
#include "data/vocab.h"
#include "kernels/fused.h"
#include "kernels/ops.h"

namespace mrnn {

std::array<double, 5> location_features(const Box& box, double W, double H) {
  const double x = box[0], y = box[1], w = box[2], h = box[3];
  MRNN_CHECK(std::isfinite(W) && std::isfinite(H) && W > 0 && H > 0,
             "location features: the image size must be positive, got width {} and height {}", W, H);
  MRNN_CHECK(std::isfinite(x) && std::isfinite(y) && std::isfinite(w) && std::isfinite(h),
             "location features: box [{}, {}, {}, {}] has a non-finite value", x, y, w, h);
  MRNN_CHECK(w > 0 && h > 0, "location features: box [{}, {}, {}, {}] must have positive width and height", x, y,
             w, h);
  MRNN_CHECK(x >= 0 && y >= 0 && x + w <= W && y + h <= H,
             "location features: box [{}, {}, {}, {}] must lie inside the {} x {} image (x, y >= 0, x + w <= {}, "
             "y + h <= {})",
             x, y, w, h, W, H, W, H);
  return {x / W, y / H, (x + w) / W, (y + h) / H, (w * h) / (W * H)};
}

Tensor location_tensor(const std::vector<Box>& boxes, double width, double height) {
  std::vector<float> v;
  v.reserve(boxes.size() * 5);
  for (const Box& b : boxes)
    for (double f : location_features(b, width, height)) v.push_back(static_cast<float>(f));
  return Tensor::from_vector(v, {static_cast<int64_t>(boxes.size()), 5});
}

Speaker::Speaker(const SpeakerConfig& cfg, Generator& gen) : cfg_(cfg), dropout_gen_(gen.seed() ^ 0x5e4u) {
  MRNN_CHECK(cfg.vocab > kEosId + 1, "speaker: vocabulary of {} tokens is too small", cfg.vocab);
  MRNN_CHECK(cfg.embed >= 1 && cfg.lstm >= 1 && cfg.fusing >= 1 && cfg.feature_dim >= 1,
             "speaker: embed, lstm, fusing and feature_dim must be >= 1");
  MRNN_CHECK(cfg.image_size == 0 || cfg.image_size >= 4, "speaker: image_size must be 0 (precomputed features) or >= 4, got {}",
             cfg.image_size);
  MRNN_CHECK(cfg.dropout >= 0 && cfg.dropout < 1, "speaker: dropout must be in [0, 1), got {}", cfg.dropout);
  embed_ = register_module("embed", std::make_shared<Embedding>(cfg.vocab, cfg.embed, gen));
  lstm_ = register_module("lstm", std::make_shared<LSTM>(cfg.embed, cfg.lstm, gen));
  fusing_ = register_module(
      "fusing", std::make_shared<FusingLayer>(
                    std::vector<int64_t>{cfg.embed, cfg.lstm, cfg.feature_dim, cfg.feature_dim, 5},
                    std::vector<bool>{false, false, true, true, true}, cfg.fusing, FuseActivation::ScaledTanh, gen,
                    std::vector<std::string>{"V_w", "V_h", "V_R", "V_I", "V_loc"}));
  if (cfg.tws)
    tied_ = register_module("output", std::make_shared<TiedSoftmax>(cfg.fusing, embed_->weight, gen));
  else
    plain_ = register_module("output", std::make_shared<PlainSoftmax>(cfg.fusing, cfg.vocab, gen));
  if (cfg.image_size > 0)
    cnn_ = register_module("cnn", std::make_shared<CnnEncoder>(cfg.image_size, cfg.cnn_channels, cfg.feature_dim, gen,
                                                                    parse_cnn_pool(cfg.cnn_pool)));
}

Tensor Speaker::encode(const Tensor& x) const {
  if (!cnn_) {
    MRNN_CHECK(x.dim() == 2 && x.size(1) == cfg_.feature_dim,
               "speaker: expected precomputed features [N, {}], got {}", cfg_.feature_dim, x.desc());
    return x;
  }
  MRNN_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == cfg_.image_size && x.size(3) == cfg_.image_size,
             "speaker: expected images [N, 3, {}, {}], got {}", cfg_.image_size, cfg_.image_size, x.desc());
  Tensor c = cnn_->pre_activation(x);
  Tensor norm = sqrt(add_scalar(sum(square(c), {1}, /*keepdim=*/true), 1e-6));
  return mul_scalar(div(c, norm), std::sqrt(static_cast<double>(cfg_.feature_dim)));
}

void Speaker::check(const SpeakerBatch& b) const {
  MRNN_CHECK(b.inputs.dim() == 2 && b.inputs.size(1) >= 1, "speaker: inputs must be [N, T >= 1], got {}",
             b.inputs.desc());
  const int64_t N = b.inputs.size(0);
  MRNN_CHECK(!b.targets.defined() || b.targets.shape() == b.inputs.shape(),
             "speaker: targets {} must have the inputs' shape {}", b.targets.desc(), b.inputs.desc());
  auto per_row = [&](const Tensor& t, int64_t d, const char* what) {
    MRNN_CHECK(t.defined() && t.dim() == 2 && t.size(0) == N && t.size(1) == d,
               "speaker: {} must be [{}, {}], got {}", what, N, d, t.defined() ? t.desc() : std::string("nothing"));
  };
  per_row(b.region, cfg_.feature_dim, "region features");
  per_row(b.image, cfg_.feature_dim, "image features");
  per_row(b.location, 5, "locations");
}

Tensor Speaker::words(const Tensor& ids) const { return scaled_tanh(embed_->forward(ids)); }

Tensor Speaker::output_logits(const Tensor& f) const { return tied_ ? tied_->logits(f) : plain_->logits(f); }

Tensor Speaker::features(const SpeakerBatch& b) const {
  check(b);
  Tensor w = words(b.inputs);    // [N, T, E]
  Tensor h = lstm_->forward(w);  // [N, T, H]
  Tensor f = fusing_->forward({w, h, b.region, b.image, b.location});
  return dropout(f, cfg_.dropout, is_training(), dropout_gen_);
}

Tensor Speaker::logits(const SpeakerBatch& b) const { return output_logits(features(b)); }

Tensor Speaker::sequence_log_probs(const SpeakerBatch& b) const {
  MRNN_CHECK(b.targets.defined(), "speaker: sequence_log_probs needs targets");
  Tensor f = features(b);
  const int64_t N = b.inputs.size(0), T = b.inputs.size(1);
  Tensor flat_t = reshape(b.targets.contiguous(), {N * T}).to(f.device());
  {
    const auto v = reshape(b.targets.contiguous(), {N * T}).to(Device::cpu()).to_vector<int64_t>();
    for (int64_t n = 0; n < N; ++n) {
      bool any = false;
      for (int64_t t = 0; t < T; ++t) any = any || v[n * T + t] != kPadId;
      MRNN_CHECK(any, "speaker: target row {} has no real token (all <pad>)", n);
    }
  }
  Tensor x = reshape(f, {N * T, cfg_.fusing});
  Tensor nll = tied_ ? linear_cross_entropy(tied_->hidden(x), embed_->weight, tied_->bias, flat_t, kPadId, 0,
                                            Reduction::None)
                     : linear_cross_entropy(x, plain_->weight, plain_->bias, flat_t, kPadId, 0, Reduction::None);
  return neg(sum(reshape(nll, {N, T}), {1}));
}

Tensor Speaker::step_logits(const Tensor& ids, LSTMState& s, const Tensor& region, const Tensor& image,
                            const Tensor& location) const {
  Tensor w = words(ids);
  s = lstm_->step(w, s);
  return output_logits(fusing_->forward({w, s.h, region, image, location}));
}

SpeakerStepModel::SpeakerStepModel(const Speaker& model, Tensor region, Tensor image, Tensor location)
    : model_(model), region_(std::move(region)), image_(std::move(image)), location_(std::move(location)) {
  const int64_t D = model.config().feature_dim;
  MRNN_CHECK(region_.dim() == 2 && region_.size(1) == D, "SpeakerStepModel: region features must be [N, {}], got {}",
             D, region_.desc());
  const int64_t N = region_.size(0);
  MRNN_CHECK(image_.dim() == 2 && image_.size(0) == N && image_.size(1) == D,
             "SpeakerStepModel: image features must be [{}, {}], got {}", N, D, image_.desc());
  MRNN_CHECK(location_.dim() == 2 && location_.size(0) == N && location_.size(1) == 5,
             "SpeakerStepModel: locations must be [{}, 5], got {}", N, location_.desc());
}

DecoderState SpeakerStepModel::initial_state() const {
  LSTMState s = model_.zero_state(region_.size(0));
  DecoderState d;
  d.tensors = {s.h, s.c, region_, image_, location_};
  return d;
}

Tensor SpeakerStepModel::step_logits(const Tensor& ids, DecoderState& state) const {
  std::vector<Tensor>& t = state.tensors;
  MRNN_CHECK(t.size() == 5u, "SpeakerStepModel: a state from initial_state() expected");
  LSTMState s{t[0], t[1]};
  Tensor logits = model_.step_logits(ids, s, t[2], t[3], t[4]);
  t[0] = s.h;
  t[1] = s.c;
  return logits;
}

Device SpeakerStepModel::device() const { return model_.device(); }

}  // namespace mrnn
