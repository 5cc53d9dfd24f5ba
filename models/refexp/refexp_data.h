// A Google-Refexp-format file (data/refexp.h) and its image folder, read for the referring-expression
// speaker and listener: one example per (expression, annotation) pair with its tokens, the referred
// box, its image, the image's ground-truth candidates (every annotated object of the image) and its
// proposals (the file's region_candidates); every candidate box cropped and resized to the CNN size,
// and every whole image resized to it. Why here: every refexp program reads its data this one way,
// with the same checks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/refexp.h"
#include "data/tokenizer.h"
#include "data/vocab.h"

namespace mrnn {

struct RefexpDataOptions {
  std::string images_dir;    // "" : no pixels (scoring a results file); boxes checked against the JSON sizes
  int64_t image_size = 32;   // crops and whole images are resized to S x S
  TokenizerMode tokenizer = TokenizerMode::word;
  bool retokenize = false;   // tokenize each expression's "raw" instead of using its "tokens"
  int64_t max_words = 20;    // expressions are cut to this many tokens
  int64_t max_images = 0;    // only the first N images (by image_id) that have annotations (0 = all)
  // Or precomputed features in place of images_dir (all four together): region_features, .npy
  // [N, D], whose rows region_keys names, a text file of N lines "ann <annotation_id>" (a ground-
  // truth object) or "cand <image_id> <k>" (the image's k-th region candidate); image_features,
  // .npy [M, D], whose rows image_ids names (one image id per line, data/id_lines.h). Every used
  // object, candidate and image needs a row; the JSON must give each image's width and height.
  std::string region_features, region_keys, image_features, image_ids;
  bool uses_features() const { return !region_features.empty(); }
};

// One image with its candidate regions.
struct RefexpImageEntry {
  int64_t image_id = -1;
  std::string file_name;                 // as the JSON gives it ("" when absent)
  std::string path;                      // the image file ("" without images_dir)
  double width = 0, height = 0;          // the size the boxes are in
  std::vector<int64_t> annotation_ids;   // the image's annotations, by increasing id
  std::vector<Box> gt_boxes;             // their boxes: the ground-truth candidates
  std::vector<Box> proposals;            // the file's region_candidates ("proposals" candidates)
  int64_t gt_row = 0, proposal_row = 0;  // row of gt_boxes[0] / proposals[0] in RefexpSplit::crops
};

struct RefexpSplit {
  std::string name;  // the file, for messages
  int64_t image_size = 0;
  std::vector<RefexpImageEntry> images;
  // One entry per example (expression, annotation), by annotation id then refexp order.
  std::vector<int64_t> refexp_ids, annotation_ids;
  std::vector<int64_t> image_index;  // -> images
  std::vector<int64_t> gt_index;     // the referred object's position in images[..].gt_boxes
  std::vector<Box> boxes;            // the referred box
  std::vector<std::vector<std::string>> words;  // tokens (cut to max_words)
  std::vector<std::vector<int32_t>> tokens;     // filled by encode_refexp_split
  Tensor crops;  // f32 [sum over images of (#gt + #proposals), 3, S, S] (images_dir), or [.., D] (features)
  Tensor whole;  // f32 [#images, 3, S, S], the whole images (images_dir), or [#images, D] (features)
  int64_t size() const { return static_cast<int64_t>(refexp_ids.size()); }
  bool has_pixels() const { return crops.defined(); }
};

// Requires nothing of the file. Ensures, else throws Error naming the file, the JSON path and what
// was expected: the file parses (data/refexp.h: every annotation's image and expressions exist);
// with features, every region and image has its row (the key files checked line by line);
// each used image has a file_name present in images_dir and its JSON width/height (when given)
// equal the decoded size; every annotation box and proposal has positive width and height and lies
// inside the image (a box past the edge by less than one pixel, as COCO's float boxes can be, is
// clipped to it); every expression has a token; at least one example.
RefexpSplit load_refexp_split(const std::string& path, const RefexpDataOptions& options);

// A vocabulary from the split's expression tokens (data/vocab.h Vocab::build).
Vocab build_refexp_vocab(const RefexpSplit& split, int64_t min_count);
// Fills split.tokens (unknown words -> <unk>).
void encode_refexp_split(RefexpSplit& split, const Vocab& vocab);

// Teacher forcing for the expressions of `rows`: inputs <bos> w.. <pad>.., targets w.. <eos> <pad>..,
// both i64 [rows.size(), longest + 1]. Requires: the split encoded, rows valid.
void expression_tensors(const RefexpSplit& split, const std::vector<int64_t>& rows, Tensor* inputs, Tensor* targets);

// The same for given token lists (one expression each, possibly empty).
void teacher_tensors(const std::vector<std::vector<int32_t>>& tokens, Tensor* inputs, Tensor* targets);

// The candidate crop rows of image u in split.crops: its GT boxes or its proposals.
std::vector<int64_t> candidate_rows(const RefexpSplit& split, int64_t u, bool proposals);

// A negative region for MMI-MM: a GT candidate index of example's image other than the true one,
// uniform, drawn from (seed, epoch, example) alone, so a resumed run draws the same. -1 when the
// image has one candidate only.
int64_t sample_negative(const RefexpSplit& split, int64_t example, uint64_t seed, int64_t epoch);

// Ensures: the words joined by spaces (word tokenizer) or without spaces (char tokenizer).
std::string join_words(const std::vector<std::string>& words, TokenizerMode mode);

}  // namespace mrnn
