// A trained referring-expression model folder: config.json (the speaker's SpeakerConfig, the
// tokenizer, max_words and the training objective), vocab.txt and model.safetensors (written by
// the Trainer: the best weights by validation precision@1). Every refexp program loads through here.
#pragma once
#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "data/vocab.h"
#include "models/refexp/refexp_data.h"
#include "models/refexp/speaker.h"

namespace mrnn {

struct RefexpModelConfig {
  SpeakerConfig speaker;
  TokenizerMode tokenizer = TokenizerMode::word;
  int64_t max_words = 20;
  std::string mmi = "none";  // none | softmax | margin: how it was trained (recorded, not needed to run)
  double margin = 0.1, lambda = 1.0;
  // Ensures: a JSON object with "model": "refexp" and every field above.
  std::string to_json() const;
  // Requires nothing of text. Ensures: the config; throws Error naming `what` and the field when a
  // field is missing (vocab), of the wrong type or out of range.
  static RefexpModelConfig from_json(const std::string& text, const std::string& what);
  // How data must be read for this model: its image size, tokenizer and expression length, with
  // the given image limit (the images or features come from the caller, examples/refexp_cli.h).
  // Why: every program reads data the way it trained.
  RefexpDataOptions data_options(int64_t max_images) const;
};

struct RefexpDir {
  RefexpModelConfig config;
  Vocab vocab;
  std::shared_ptr<Speaker> model;
};

// Writes config.json and vocab.txt into dir (created if needed), atomically.
void write_refexp_dir_meta(const std::string& dir, const RefexpModelConfig& config, const Vocab& vocab);
// Reads dir/config.json. Throws Error naming the file when it is missing or bad.
RefexpModelConfig load_refexp_config(const std::string& dir);
// Loads config, vocabulary and weights (dir/weights_file), in eval mode. Throws Error naming the
// file when a file is missing or damaged, or the vocabulary size differs from the config.
RefexpDir load_refexp_dir(const std::string& dir, const std::string& weights_file = "model.safetensors");

}  // namespace mrnn
