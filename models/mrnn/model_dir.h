// A trained model directory: config.json (MrnnConfig + tokenizer), vocab.txt, model.safetensors.
// Every program that uses a trained model loads it through here, with errors that name the file.
#pragma once
#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "data/vocab.h"
#include "models/mrnn/mrnn.h"

namespace mrnn {

struct ModelDir {
  MrnnConfig config;
  Vocab vocab;
  TokenizerMode tokenizer = TokenizerMode::word;
  std::shared_ptr<Mrnn> model;
};

// Writes config.json and vocab.txt into dir (created if needed). The weights are written by the
// trainer (model.safetensors).
void write_model_dir_meta(const std::string& dir, const MrnnConfig& config, const Vocab& vocab, TokenizerMode mode);
// Reads dir/config.json (and its tokenizer into *mode when given): parse_model_config of the file.
MrnnConfig load_model_config(const std::string& dir, TokenizerMode* mode = nullptr);
// Parses the text of a config.json named `path`. Requires nothing (the text is untrusted).
// Ensures, else throws Error naming path and the field: MrnnConfig::from_json accepts it (which
// includes the size bounds kMaxVocab, kMaxLayerSize, ... of models/mrnn/mrnn.h); "tokenizer", when
// present, is "word" or "char" ("character" too; stored into *mode when given).
MrnnConfig parse_model_config(const std::string& text, const std::string& path, TokenizerMode* mode = nullptr);
// Checks that a model gets the inputs it was trained on. Requires: features = the .npy path given
// ("" when images are used instead), feature_dim = its number of columns. Ensures, else throws Error
// naming dir/config.json (and the .npy): a features model gets a features file with
// config.image_dim columns; a CNN model gets images, not features.
void check_model_inputs(const MrnnConfig& config, const std::string& dir, const std::string& features,
                        int64_t feature_dim);
// Loads config, vocabulary and weights (weights_file relative to dir). Checks that the vocabulary
// size matches the config and every tensor matches the model. The model is returned in eval mode
// (no dropout): call model->train() to fine-tune it.
ModelDir load_model_dir(const std::string& dir, const std::string& weights_file = "model.safetensors");

}  // namespace mrnn
