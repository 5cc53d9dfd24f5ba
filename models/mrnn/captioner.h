// One-call conveniences over the public API, for a program that just wants captions or scores:
// load a trained model folder once, then caption image files and rank sentences for an image.
// Each is a few lines of load_model_dir + preprocess_image + the decoders / sentence_log_probs,
// so they are also the shortest correct example of using those pieces together.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/engine/step_decoder.h"
#include "models/mrnn/model_dir.h"

namespace mrnn {

// The model's input for one image file: [1, 3, S, S] f32 on the CPU, S = config.image_size,
// decoded, shorter side resized to S, centre-cropped, then (p/255 - 0.5) / 0.25 per channel (the
// normalisation every model of this library is trained with, models/mrnn/caption_data.h).
// Requires: a CNN model (config.image_input == "cnn"); throws Error naming the file otherwise, or
// when the file is missing or not an image.
Tensor preprocess_image(const MrnnConfig& config, const std::string& path);

struct CaptionFileOptions {
  std::string decoder = "beam";  // beam | greedy
  DecodeOptions decode;          // beam size, max length, length penalty, ...
};

// The caption of the image at image_path ("a red circle above a blue square"). model is a loaded
// folder (load_model_dir, in eval mode); the overload taking a folder path loads it first (use the
// other one to caption many images). Throws Error on an unknown decoder or a bad image.
std::string caption_image_file(const ModelDir& model, const std::string& image_path,
                               const CaptionFileOptions& options = {});
std::string caption_image_file(const std::string& model_dir, const std::string& image_path,
                               const CaptionFileOptions& options = {});

struct SentenceScores {
  std::vector<double> log_probs;  // log P(sentence | image), one per sentence, in input order
  int64_t unknown_words = 0;      // words not in the vocabulary (scored as <unk>)
};

// Scores sentences (plain text, tokenized with the model's tokenizer) for one image. Why the unknown
// count: an out-of-vocabulary word is scored as <unk>, which silently flatters a sentence; the
// caller sees how many there were. Requires at least one sentence, none empty after tokenizing.
SentenceScores score_sentences(const ModelDir& model, const std::string& image_path,
                               const std::vector<std::string>& sentences);

}  // namespace mrnn
