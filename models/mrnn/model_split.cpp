#include "models/mrnn/model_split.h"

#include "core/error.h"

namespace mrnn {

KarpathyOptions dataset_options_for(const ModelDir& md) {
  KarpathyOptions ko;
  ko.restval_into_train = true;
  ko.mode = md.tokenizer;
  ko.retokenize = md.tokenizer == TokenizerMode::character;
  return ko;
}

CaptionSplit load_split_for_model(const ModelDir& md, const std::string& model_dir, const KarpathyDataset& dataset,
                                  Split split, const SplitSource& source, int64_t max_images) {
  // The kind of input first, so that a CNN model given features fails before anything is read.
  if (md.config.image_input == "features")
    MRNN_CHECK(!source.features.empty(), "{}/config.json says image_input = \"features\": give the image features "
               "(--features FILE.npy)", model_dir);
  else
    check_model_inputs(md.config, model_dir, source.features, 0);
  CaptionDataOptions dopt;
  dopt.images_dir = source.images_dir;
  dopt.features = source.features;
  dopt.image_size = md.config.image_size;
  dopt.max_images = max_images;
  CaptionSplit sp = load_caption_split(dataset, split, md.vocab, dopt, source.dataset_path);
  if (!source.features.empty()) check_model_inputs(md.config, model_dir, source.features, sp.images.size(1));
  return sp;
}

}  // namespace mrnn
