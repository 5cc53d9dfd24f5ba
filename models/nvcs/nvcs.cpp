#include "models/nvcs/nvcs.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

Tensor param(const Mrnn& model, const std::string& name) {
  const auto sd = model.state_dict();
  auto it = sd.find(name);
  MRNN_CHECK(it != sd.end(), "NVCS: the model has no parameter '{}'", name);
  return it->second;
}

// Restores a module's train/eval mode on scope exit.
struct ModeGuard {
  Mrnn& m;
  bool was;
  explicit ModeGuard(Mrnn& model) : m(model), was(model.is_training()) {}
  ~ModeGuard() { m.train(was); }
};

}  // namespace

double mean_word_bias(const Mrnn& model, int64_t old_vocab) {
  MRNN_CHECK(old_vocab > kEosId + 1 && old_vocab <= model.config().vocab,
             "NVCS: base vocabulary of {} words has no ordinary word", old_vocab);
  const std::vector<float> b = param(model, "output.bias").contiguous().to(Device::cpu()).to_vector<float>();
  double s = 0;
  for (int64_t w = kEosId + 1; w < old_vocab; ++w) s += b[w];
  return s / static_cast<double>(old_vocab - kEosId - 1);
}

NovelWords add_novel_words(Mrnn& model, Vocab& vocab, const NovelData& data, bool require_tws, Generator& gen,
                           const std::string& model_dir) {
  const std::string cfg = model_dir + "/config.json";
  if (require_tws)
    MRNN_CHECK(model.config().tws, "{}: field 'tws' is false: NVCS needs a base model trained with transposed weight "
               "sharing (pass --no-tws-base for the untied ablation)", cfg);
  else
    MRNN_CHECK(!model.config().tws, "{}: field 'tws' is true, but --no-tws-base expects an untied base model", cfg);
  MRNN_CHECK(model.config().centralize_from == 0, "{}: field 'centralize_from' is {}: this model already learned "
             "novel words; start from its base model", cfg, model.config().centralize_from);
  MRNN_CHECK(vocab.size() == model.config().vocab, "{}/vocab.txt has {} tokens but {} says vocab = {}", model_dir,
             vocab.size(), cfg, model.config().vocab);
  NovelWords nw;
  nw.old_vocab = vocab.size();
  std::set<std::string> seen;
  for (size_t c = 0; c < data.concepts.size(); ++c)
    for (const std::string& w : data.concepts[c].words) {
      MRNN_CHECK(!vocab.contains(w), "{}: concept \"{}\": its word \"{}\" is already in the vocabulary of {}/vocab.txt "
                 "(id {}): NVCS learns words the base model does not know", data.path, data.concepts[c].name, w,
                 model_dir, vocab.id(w));
      if (!seen.insert(w).second) continue;
      nw.words.push_back(w);
      nw.concept_of.push_back(static_cast<int>(c));
    }
  nw.new_bias = mean_word_bias(model, nw.old_vocab);
  for (const std::string& w : nw.words) vocab.add(w);
  model.grow_vocab(static_cast<int64_t>(nw.words.size()), nw.new_bias, gen);
  MRNN_CHECK(vocab.size() == model.config().vocab, "NVCS: vocabulary {} and model {} disagree after growing",
             vocab.size(), model.config().vocab);
  return nw;
}

Tensor output_input_mean(const Mrnn& model_in, const CaptionSplit& split, int64_t max_captions, int64_t batch) {
  MRNN_CHECK(!split.streamed && split.images.defined(), "NVCS: the base split's images must be in memory to centre");
  MRNN_CHECK(batch >= 1 && max_captions >= 0, "NVCS: batch {} / max captions {}", batch, max_captions);
  const int64_t n_all = static_cast<int64_t>(split.captions.size());
  MRNN_CHECK(n_all > 0, "NVCS: the base split has no captions to centre with");
  const int64_t n = max_captions > 0 ? std::min(max_captions, n_all) : n_all;
  Mrnn& model = const_cast<Mrnn&>(model_in);  // only the mode changes, and is restored
  ModeGuard mode(model);
  model.eval();
  NoGradGuard ng;
  const int64_t d = model.output_input_dim();
  std::vector<double> sum(d, 0.0);
  int64_t count = 0;
  for (int64_t at = 0; at < n; at += batch) {
    std::vector<int64_t> idx;
    for (int64_t i = at; i < std::min(n, at + batch); ++i) idx.push_back(i * n_all / n);  // evenly spread
    Tensor tokens = caption_batch(split, idx);
    const int64_t B = tokens.size(0), T = tokens.size(1) - 1;
    Tensor in = narrow(tokens, 1, 0, T).contiguous();
    const std::vector<int64_t> tgt = narrow(tokens, 1, 1, T).contiguous().to(Device::cpu()).to_vector<int64_t>();
    Tensor feats = model.encode_images(split.images, caption_image_rows(split, idx).to(model.device()));
    Tensor x = model.output_input(model.multimodal(in.to(model.device()), feats)).contiguous().to(Device::cpu());
    const std::vector<float> xv = x.to_vector<float>();
    for (int64_t p = 0; p < B * T; ++p) {
      if (tgt[p] == kPadId) continue;
      for (int64_t k = 0; k < d; ++k) sum[k] += xv[p * d + k];
      ++count;
    }
  }
  std::vector<float> mean(d);
  for (int64_t k = 0; k < d; ++k) mean[k] = static_cast<float>(sum[k] / static_cast<double>(count));
  return Tensor::from_vector(mean, {d}).to(model.device());
}

void encode_split_images_once(const Mrnn& model, CaptionSplit& split, int64_t batch) {
  if (model.config().image_input != "cnn" || !split.images.defined() || split.images.dim() != 4) return;
  MRNN_CHECK(batch >= 1, "encode_split_images_once: batch must be >= 1, got {}", batch);
  split.images = model.cnn_features(split.images, batch);
}

std::vector<ParamGroupSpec> novel_param_groups(const Mrnn& model, int64_t old_vocab, bool fixed_bias) {
  MRNN_CHECK(old_vocab > kEosId && old_vocab < model.config().vocab,
             "NVCS: no novel words to train (base vocabulary {}, model vocabulary {})", old_vocab, model.config().vocab);
  // A group for one parameter whose rows below old_vocab (the old words) stay frozen.
  auto new_rows = [&](const char* name, const char* param) {
    ParamGroupSpec spec;
    spec.name = name;
    spec.prefixes = {param};
    spec.frozen_rows = {{param, old_vocab}};
    return spec;
  };
  std::vector<ParamGroupSpec> g;
  g.push_back(new_rows("novel-embedding", "embed.weight"));
  ParamGroupSpec bias = new_rows(fixed_bias ? "fixed-bias" : "novel-bias", "output.bias");
  if (fixed_bias) {
    bias.frozen = true;
    bias.frozen_rows.clear();
  }
  g.push_back(bias);
  if (!model.config().tws) g.push_back(new_rows("novel-output", "output.weight"));
  ParamGroupSpec base;
  base.name = "base";
  base.prefixes = {""};
  base.frozen = true;
  g.push_back(base);
  return g;
}

std::vector<Neighbour> nearest_words(const Mrnn& model, const Vocab& vocab, int32_t word, int64_t old_vocab,
                                     int64_t k) {
  const Tensor e = param(model, "embed.weight").contiguous().to(Device::cpu());
  const int64_t V = e.size(0), D = e.size(1);
  MRNN_CHECK(word >= 0 && word < V && old_vocab <= V, "nearest_words: word {} / base vocabulary {} outside [0, {})",
             word, old_vocab, V);
  const std::vector<float> w = e.to_vector<float>();
  auto row_dot = [&](int64_t a, int64_t b) {
    double s = 0;
    for (int64_t j = 0; j < D; ++j) s += static_cast<double>(w[a * D + j]) * w[b * D + j];
    return s;
  };
  const double nq = std::sqrt(row_dot(word, word));
  std::vector<Neighbour> all;
  for (int64_t o = kEosId + 1; o < old_vocab; ++o) {
    const double den = nq * std::sqrt(row_dot(o, o));
    all.push_back({vocab.token(static_cast<int32_t>(o)), den > 0 ? row_dot(word, o) / den : 0.0});
  }
  std::stable_sort(all.begin(), all.end(), [](const Neighbour& a, const Neighbour& b) { return a.cosine > b.cosine; });
  if (static_cast<int64_t>(all.size()) > k) all.resize(k);
  return all;
}

}  // namespace mrnn

namespace mrnn {

CaptionSplit join_splits(const CaptionSplit& a, const CaptionSplit& b, int64_t n_b) {
  MRNN_CHECK(!a.streamed && !b.streamed && a.images.defined() && b.images.defined(),
             "NVCS: joining splits needs their images in memory");
  n_b = std::max<int64_t>(0, std::min(n_b, b.num_images()));
  CaptionSplit s = a;
  if (n_b == 0) return s;
  MRNN_CHECK(a.images.dim() == b.images.dim(), "NVCS: cannot join images {} and {}", a.images.desc(), b.images.desc());
  for (int64_t d = 1; d < a.images.dim(); ++d)
    MRNN_CHECK(a.images.size(d) == b.images.size(d), "NVCS: cannot join images {} and {}", a.images.desc(),
               b.images.desc());
  const int64_t off = a.num_images();
  s.images = concat({a.images, narrow(b.images, 0, 0, n_b)}, 0).contiguous();
  for (int64_t i = 0; i < n_b; ++i) {
    s.file_names.push_back(b.file_names[i]);
    s.image_ids.push_back(b.image_ids[i]);
    s.references.push_back(b.references[i]);
    if (static_cast<int64_t>(b.image_paths.size()) > i) s.image_paths.push_back(b.image_paths[i]);
  }
  for (size_t c = 0; c < b.captions.size(); ++c)
    if (b.caption_image[c] < n_b) {
      s.captions.push_back(b.captions[c]);
      s.caption_image.push_back(b.caption_image[c] + off);
    }
  return s;
}

}  // namespace mrnn
