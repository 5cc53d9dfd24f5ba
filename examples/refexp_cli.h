// Shared by the refexp programs that read regions (refexp_train, refexp_comprehend,
// refexp_generate): where the pixels or features come from, an image folder or four precomputed
// feature files (models/refexp/refexp_data.h), checked the same way in each program.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "core/error.h"
#include "models/refexp/refexp_data.h"

namespace mrnn::cli {

struct RefexpInputs {
  std::string images, region_features, region_keys, image_features, image_ids;
  bool features() const { return !region_features.empty(); }
};

inline void add_refexp_inputs(CLI::App& app, RefexpInputs& in) {
  app.add_option("--images", in.images, "folder of the images (each image's file_name)")->check(CLI::ExistingDirectory);
  app.add_option("--region-features", in.region_features, "or: precomputed region features, .npy [N, D] (a model "
                 "without a CNN)")->check(CLI::ExistingFile);
  app.add_option("--region-keys", in.region_keys, "the region of each row of --region-features, one per line: "
                 "\"ann <annotation_id>\" or \"cand <image_id> <k>\" (the k-th region candidate)")
      ->check(CLI::ExistingFile);
  app.add_option("--image-features", in.image_features, "whole-image features, .npy [M, D]")->check(CLI::ExistingFile);
  app.add_option("--image-ids", in.image_ids, "the image id of each row of --image-features, one per line")
      ->check(CLI::ExistingFile);
}

// Requires: --images, or all four feature options (else Error saying what is missing). Ensures: d
// reads from them.
inline void apply_refexp_inputs(const RefexpInputs& in, RefexpDataOptions& d) {
  const int given = !in.region_features.empty() + !in.region_keys.empty() + !in.image_features.empty() +
                    !in.image_ids.empty();
  if (in.images.empty() == (given == 0))
    throw Error("give --images DIR, or --region-features, --region-keys, --image-features and --image-ids");
  if (given != 0 && given != 4)
    throw Error("precomputed features need all four of --region-features, --region-keys, --image-features and "
                "--image-ids");
  d.images_dir = in.images;
  d.region_features = in.region_features;
  d.region_keys = in.region_keys;
  d.image_features = in.image_features;
  d.image_ids = in.image_ids;
}

// A trained model and the inputs given must agree: a CNN model reads images, a features model
// (image_size 0) features. Throws Error naming the model folder otherwise.
inline void check_refexp_inputs(const RefexpInputs& in, int64_t image_size, const std::string& model_dir) {
  if ((image_size == 0) != in.features())
    throw Error(model_dir + "/config.json: the model was trained on " +
                (image_size == 0 ? std::string("precomputed features: give --region-features, --region-keys, "
                                               "--image-features and --image-ids")
                                 : std::string("images: give --images")));
}

}  // namespace mrnn::cli
