#include "models/mrnn/captioner.h"

#include <algorithm>

#include "core/autograd.h"
#include "data/tokenizer.h"
#include "kernels/ops.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/decoding.h"
#include "models/mrnn/retrieval.h"

namespace mrnn {

Tensor preprocess_image(const MrnnConfig& config, const std::string& path) {
  if (config.image_input != "cnn")
    throw Error(path + ": this model was trained on precomputed features (image_input \"" + config.image_input +
                "\"), not on images: give it a feature vector instead");
  const int64_t s = config.image_size;
  std::vector<float> px = load_image_chw(path, s);
  return Tensor::from_vector(px, {1, 3, s, s});
}

std::string caption_image_file(const ModelDir& model, const std::string& image_path, const CaptionFileOptions& options) {
  if (options.decoder != "beam" && options.decoder != "greedy")
    throw Error("caption_image_file: decoder must be beam or greedy, got \"" + options.decoder + "\"");
  NoGradGuard ng;
  Tensor features = model.model->encode_images(preprocess_image(model.config, image_path).to(model.model->device()));
  std::vector<Caption> caps = options.decoder == "beam" ? beam_search_captions(*model.model, features, options.decode)
                                                        : greedy_captions(*model.model, features, options.decode);
  std::string text;
  for (const std::string& w : model.vocab.decode(caps.at(0).ids))
    text += (text.empty() ? "" : " ") + w;
  return text;
}

std::string caption_image_file(const std::string& model_dir, const std::string& image_path,
                               const CaptionFileOptions& options) {
  return caption_image_file(load_model_dir(model_dir), image_path, options);
}

SentenceScores score_sentences(const ModelDir& model, const std::string& image_path,
                               const std::vector<std::string>& sentences) {
  if (sentences.empty()) throw Error("score_sentences: no sentences to score");
  SentenceScores out;
  std::vector<std::vector<int32_t>> ids;
  size_t longest = 0;
  for (size_t i = 0; i < sentences.size(); ++i) {
    std::vector<std::string> tokens = tokenize(sentences[i], model.tokenizer);
    if (tokens.empty()) throw Error("score_sentences: sentence " + std::to_string(i) + " has no words");
    ids.push_back(model.vocab.encode(tokens, true, true, &out.unknown_words));
    longest = std::max(longest, ids.back().size());
  }
  std::vector<int64_t> flat(ids.size() * longest, kPadId);
  for (size_t i = 0; i < ids.size(); ++i) std::copy(ids[i].begin(), ids[i].end(), flat.begin() + i * longest);
  Tensor tokens = Tensor::from_vector(flat, {static_cast<int64_t>(ids.size()), static_cast<int64_t>(longest)});
  NoGradGuard ng;
  Tensor features = model.model->encode_images(preprocess_image(model.config, image_path).to(model.model->device()));
  out.log_probs = sentence_log_probs(*model.model, features, tokens);
  return out;
}

}  // namespace mrnn
