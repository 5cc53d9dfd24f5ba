// A trained model directory: config.json (MrnnConfig + tokenizer), vocab.txt, model.safetensors.
// Every program that uses a trained model loads it through here, with errors that name the file.
#pragma once
#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "data/vocab.h"
#include "models/mrnn.h"

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
// Reads dir/config.json (and its tokenizer into *mode when given).
MrnnConfig load_model_config(const std::string& dir, TokenizerMode* mode = nullptr);
// Loads config, vocabulary and weights (weights_file relative to dir). Checks that the vocabulary
// size matches the config and every tensor matches the model.
ModelDir load_model_dir(const std::string& dir, const std::string& weights_file = "model.safetensors");

}  // namespace mrnn
