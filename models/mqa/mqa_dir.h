// A trained mQA model folder: config.json (MqaConfig + "tokenizer"), vocab.txt, answer_words.json
// (the counts AnswerWordPicker uses for sentence answers) and model.safetensors (written by the
// Trainer: the best weights by validation accuracy). Every mQA program loads a model through here.
#pragma once
#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "data/vocab.h"
#include "models/mqa/mqa.h"
#include "models/mqa/mqa_answers.h"

namespace mrnn {

struct MqaDir {
  MqaConfig config;
  Vocab vocab;
  TokenizerMode tokenizer = TokenizerMode::word;
  AnswerWordPicker picker;
  std::shared_ptr<Mqa> model;
};

// Writes config.json, vocab.txt and answer_words.json into dir (created if needed).
void write_mqa_dir_meta(const std::string& dir, const MqaConfig& config, const Vocab& vocab, TokenizerMode mode,
                        const AnswerWordPicker& picker);
// Reads dir/config.json (its tokenizer into *mode when given). Throws Error naming the file and field.
MqaConfig load_mqa_config(const std::string& dir, TokenizerMode* mode = nullptr);
// Loads everything, weights from dir/weights_file, in eval mode. Throws Error naming the file when
// a file is missing or damaged, the vocabulary size differs from the config, or a tensor is missing
// or has another shape.
MqaDir load_mqa_dir(const std::string& dir, const std::string& weights_file = "model.safetensors");

// Copies the CNN ("cnn.*") of another trained model folder (an m-RNN captioner or an mQA model,
// dir/model.safetensors) into model: a CNN pretrained on captions, as the paper's is pretrained.
// Returns the number of tensors copied. Throws Error naming the file when it has no "cnn." tensors,
// when model is blind, or when a tensor is missing or has another shape (the CNN sizes must match:
// --image-size, --cnn-channels, --image-dim), or when the folder's pooling head (cnn_pool_of_dir)
// is not model's.
int64_t load_cnn_from(Mqa& model, const std::string& dir);

// The CNN pooling head of the model folder dir: its config.json's "cnn_pool", "flatten" when the
// field is absent (as folders written before the field read). Why: a model started from that CNN
// must build the same head, or the copied linear layer means something else.
std::string cnn_pool_of_dir(const std::string& dir);

}  // namespace mrnn
