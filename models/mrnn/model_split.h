// Reading a dataset split the way a trained model expects it. Why: caption_eval, caption_generate
// and retrieve must read captions exactly as caption_train did (a character-level model re-tokenizes
// the raw text), at the model's image size and through its kind of image input; one function
// keeps the programs from drifting apart.
#pragma once
#include <string>

#include "data/karpathy.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/model_dir.h"

namespace mrnn {

// The reading options for a dataset used with `md`: "restval" folded into train (as caption_train
// does), and with a character-level tokenizer the captions re-tokenized from their raw text, since
// the JSON's "tokens" are words.
KarpathyOptions dataset_options_for(const ModelDir& md);

// Where the split's images come from: exactly one of images_dir and features (a .npy) is non-empty.
struct SplitSource {
  std::string dataset_path;  // the Karpathy JSON (for messages)
  std::string images_dir;
  std::string features;
};

// load_caption_split of `split` at md's image size, first max_images images (0 = all), with the
// model's vocabulary. Ensures, else throws Error naming the files: check_model_inputs holds
// (a features model gets features of its width, a CNN model gets images).
CaptionSplit load_split_for_model(const ModelDir& md, const std::string& model_dir, const KarpathyDataset& dataset,
                                  Split split, const SplitSource& source, int64_t max_images);

}  // namespace mrnn
