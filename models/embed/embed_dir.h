// A trained embedding model's folder: config.json (EmbedConfig), vocab.txt, model.safetensors (the
// best weights by val perplexity; checkpoint.safetensors holds the latest). Every embedding program
// loads it through here, with errors that name the file.
#pragma once
#include <memory>
#include <string>

#include "data/vocab.h"
#include "models/embed/embed_model.h"

namespace mrnn {

struct EmbedDir {
  EmbedConfig config;
  Vocab vocab;
  std::shared_ptr<EmbedModel> model;  // in eval mode
};

// Writes dir/config.json and dir/vocab.txt (dir created if needed), each atomically.
void write_embed_dir_meta(const std::string& dir, const EmbedConfig& config, const Vocab& vocab);
// Reads dir/config.json (EmbedConfig::from_json, errors naming the file).
EmbedConfig load_embed_config(const std::string& dir);
// Loads config, vocabulary and weights (weights_file relative to dir). Throws Error naming the file
// when vocab.txt's size differs from config.json's vocab, or a tensor's shape differs from the
// model's (e.g. a word table of another width).
EmbedDir load_embed_dir(const std::string& dir, const std::string& weights_file = "model.safetensors");

}  // namespace mrnn
