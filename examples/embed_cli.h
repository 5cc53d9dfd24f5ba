// Shared by the embedding programs (embed_eval, embed_neighbors): the word table from a model folder
// (--model DIR, written by embed_train) or from a word2vec text file (--vectors FILE, e.g. one
// embed_export wrote, or any other tool's), so every embedding is judged the same way.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "eval/word_vectors.h"
#include "models/embed/embed_vectors.h"

namespace mrnn::cli {

struct VectorSource {
  std::string model, vectors;
};

inline void add_vector_source(CLI::App& app, VectorSource& s) {
  app.add_option("--model", s.model, "model folder written by embed_train")->check(CLI::ExistingDirectory);
  app.add_option("--vectors", s.vectors, "or: word vectors in word2vec text format")->check(CLI::ExistingFile);
}

// Requires: exactly one of s.model, s.vectors (else Error saying so). *label gets what was read.
inline WordVectors load_vector_source(const VectorSource& s, std::string* label, EmbedConfig* config = nullptr) {
  if (s.model.empty() == s.vectors.empty()) throw Error("give exactly one of --model DIR or --vectors FILE");
  if (!s.vectors.empty()) {
    *label = s.vectors;
    return load_word2vec_text(s.vectors);
  }
  EmbedDir d = load_embed_dir(s.model);
  if (config) *config = d.config;
  *label = s.model;
  return word_table(d, s.model);
}

}  // namespace mrnn::cli
