// Reader for the Google Refexp dataset in its COCO-aligned form
// (google_refexp_{train,val}_201511_coco_aligned.json, written by the Google_Refexp_toolbox
// setup.py), and for ShapesWorld's referring-expression file in the same format.
// Why: the referring-expression speaker/listener models train and report precision@1 on it.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/tokenizer.h"

namespace mrnn {

// A box as COCO writes it: x, y of the top-left corner, width, height (pixels).
using Box = std::array<double, 4>;

struct RegionCandidate {
  Box bounding_box{};
  std::string predicted_object_name;  // "" when absent
};

struct RefexpImage {
  int64_t image_id = -1;
  std::string file_name;                          // "" when absent
  int64_t width = 0, height = 0;                  // 0 when absent
  std::vector<RegionCandidate> region_candidates;  // the proposals to choose among
};

struct RefexpAnnotation {
  int64_t annotation_id = -1;  // the COCO object annotation id
  int64_t image_id = -1;
  int64_t category_id = -1;    // -1 when absent
  Box bbox{};                  // the referred object
  std::vector<int64_t> refexp_ids;                 // its expressions (each refers to one object)
  std::vector<RegionCandidate> region_candidates;  // only in the unaligned release; else empty
};

struct Refexp {
  int64_t refexp_id = -1;
  std::string raw;                  // "" when absent
  std::vector<std::string> tokens;  // never empty
};

struct RefexpDataset {
  std::vector<RefexpImage> images;            // by increasing image_id
  std::vector<RefexpAnnotation> annotations;  // by increasing annotation_id
  std::vector<Refexp> refexps;                // by increasing refexp_id
  int64_t skipped = 0;                        // entries dropped under skip_bad
  std::vector<std::string> skip_reasons;      // the first 20 errors that caused a skip
};

struct RefexpOptions {
  bool retokenize = false;  // replace "tokens" by tokenize(raw, mode)
  TokenizerMode mode = TokenizerMode::word;
  bool skip_bad = false;    // drop bad images/annotations/expressions instead of throwing
};

// Reads {"images": {"<id>": {"image_id"?, "file_name"?, "width"?, "height"?,
// "region_candidates"?: [{"bounding_box": [x,y,w,h], "predicted_object_name"?}], ...}},
//  "annotations": {"<id>": {"annotation_id"?, "image_id", "bbox": [x,y,w,h], "refexp_ids": [..],
//                           "category_id"?, "region_candidates"?, ...}},
//  "refexps": {"<id>": {"refexp_id"?, "raw"?, "tokens": [..], ...}}}; other fields are ignored.
// Required: what links the three tables and what the models read (an annotation's image_id, bbox
// and refexp_ids; an expression's tokens, and its raw when retokenizing). Optional: an entry's
// own id (it repeats the key, which then must be an integer), file_name (""), width/height (0),
// category_id (-1), region_candidates (none), predicted_object_name (""), raw (""). A present
// optional field must have the right type and range.
// Ensures: each entry's id equals its key (a present id field must equal it); boxes have 4
// numbers with width, height >= 0; annotations point to a known image and to known expressions, and no expression belongs to two
// annotations; expressions have at least one token. Violations throw mrnn::Error naming the file,
// the JSON path (e.g. "annotations.1234.bbox") and what was expected, or are skipped and counted
// with skip_bad (an annotation is skipped when its image is unknown; an unknown refexp id is
// dropped from the annotation). Missing file, invalid JSON or a root without the three objects
// always throws.
RefexpDataset load_refexp(const std::string& path, const RefexpOptions& options = {});
RefexpDataset parse_refexp(std::string_view json_text, const std::string& name,
                           const RefexpOptions& options = {});

}  // namespace mrnn
