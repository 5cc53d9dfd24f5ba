// A captioning split: images (decoded, resized, normalised; or, streamed, just their files) or
// precomputed features, encoded captions and reference token strings, from a Karpathy dataset.
// Why in memory by default: training revisits every image each epoch; ShapesWorld and features fit.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/image_loader.h"
#include "data/karpathy.h"
#include "data/vocab.h"

namespace mrnn {

struct CaptionDataOptions {
  std::string images_dir;         // image files: images_dir/[filepath/]filename
  std::string features;           // or: .npy [num images in the JSON, D] rows in file order
  int64_t image_size = 64;        // resize shorter side, then centre crop to S x S
  int64_t max_images = 0;         // keep only the first N images of the split (0 = all)
  int64_t max_caption_words = 20; // longer captions are truncated
  bool skip_bad = false;          // skip unreadable images (counted) instead of failing
  // Streaming: leave `images` undefined and record the files instead, for an ImageLoader
  // (data/image_loader.h) to decode batch by batch during training. Chosen when stream_images is
  // set, or when the decoded split (N x 3 x S x S floats) would exceed preload_limit_bytes (0 = no
  // limit). Only the files' existence is checked at load time.
  bool stream_images = false;
  int64_t preload_limit_bytes = 0;
};

struct CaptionSplit {
  std::vector<std::string> file_names;           // per image
  std::vector<int64_t> image_ids;                // cocoid when present, else imgid
  Tensor images;                                 // [N, 3, S, S] or features [N, D] (f32)
  std::vector<std::vector<int32_t>> captions;    // word ids, no <bos>/<eos>
  std::vector<int64_t> caption_image;            // caption -> image row
  std::vector<std::vector<std::string>> references;  // per image: its captions, tokens joined by ' '
  std::vector<std::string> image_paths;          // per image: its file (image datasets; empty with features)
  int64_t image_size = 0;                        // S of the images (image datasets)
  bool streamed = false;                         // images not in memory: `images` is undefined
  int64_t skipped_images = 0;
  int64_t num_images() const { return static_cast<int64_t>(file_names.size()); }
};

// Loads `split` of `dataset` (images decoded in parallel, or only checked to exist when streamed).
// Throws naming the file on a missing or unreadable image (unless skip_bad), a features file whose
// rows do not match the JSON, or an empty split.
CaptionSplit load_caption_split(const KarpathyDataset& dataset, Split split, const Vocab& vocab,
                                const CaptionDataOptions& options, const std::string& dataset_name);

// Token matrix [B, L] for the given captions: <bos> words <eos> then <pad> (L = longest + 2);
// pad_token_batch(split.captions, caption_indices).tokens (data/batching.h), which also gives a mask.
Tensor caption_batch(const CaptionSplit& split, const std::vector<int64_t>& caption_indices);
// Image rows of those captions (i64 [B]) for index_select on split.images.
Tensor caption_image_rows(const CaptionSplit& split, const std::vector<int64_t>& caption_indices);

// Normalisation applied to every image (per channel).
constexpr float kImageMean = 0.5f, kImageStd = 0.25f;
// Decodes/resizes/crops/normalises one image file into [3, S, S] floats: preprocess_image_file
// (data/image_loader.h) with kImageMean / kImageStd, so streamed and preloaded pixels are identical.
std::vector<float> load_image_chw(const std::string& path, int64_t size);
ImagePreprocess caption_image_preprocess(int64_t size);

}  // namespace mrnn
