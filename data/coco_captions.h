// COCO caption annotations (captions_train2014.json, captions_val2014.json) and COCO caption
// results ([{"image_id": int, "caption": str}], what pycocotools' COCO.loadRes reads).
// Why: the official evaluation server and pycocoevalcap consume exactly these files, so our
// generated captions must be written in, and references read from, these formats.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mrnn {

struct CocoImage {
  int64_t id = -1;
  std::string file_name;  // "" when the file omits it
  int64_t width = 0;   // 0 when the file omits it
  int64_t height = 0;  // 0 when the file omits it
};

struct CocoCaption {
  int64_t id = -1;  // -1 when the file omits it
  int64_t image_id = -1;
  std::string caption;
};

struct CocoCaptions {
  std::vector<CocoImage> images;           // file order
  std::vector<CocoCaption> annotations;    // file order
  int64_t skipped = 0;                     // entries dropped under skip_bad
  std::vector<std::string> skip_reasons;   // the first 20 errors that caused a skip

  // image id -> its captions, in file order (images without captions are absent).
  std::map<int64_t, std::vector<std::string>> captions_by_image() const;
};

struct CocoReadOptions {
  bool skip_bad = false;  // drop bad images/annotations instead of throwing
};

// Reads a COCO captions annotation file: {"images": [{"id", "file_name"?, "width"?, "height"?,
// ...}], "annotations": [{"id"?, "image_id", "caption"}, ...], ...}; other fields are ignored.
// Required: images[].id, annotations[].image_id and .caption (what scoring needs, as in
// pycocoevalcap). Optional: file_name (""), width and height (0), an annotation's id (-1); a
// present optional field must have the right type (a file_name not blank, sizes >= 0).
// Ensures: image ids unique; present annotation ids unique; every annotation's image_id is an
// image's id; captions are not blank. Violations (and wrong types, missing fields) throw
// mrnn::Error naming the file, the JSON path ("annotations[7].caption") and what was expected, or
// are skipped and counted with skip_bad. A missing file, invalid JSON, or a root without the
// "images" and "annotations" arrays always throws.
CocoCaptions load_coco_captions(const std::string& path, const CocoReadOptions& options = {});
CocoCaptions parse_coco_captions(std::string_view json_text, const std::string& name,
                                 const CocoReadOptions& options = {});

struct CocoResult {
  int64_t image_id = -1;
  std::string caption;
};

struct CocoResults {
  std::vector<CocoResult> results;        // file order
  int64_t skipped = 0;
  std::vector<std::string> skip_reasons;
};

struct CocoResultsOptions {
  bool skip_bad = false;
  // Results written by a model may hold empty captions (pycocotools accepts them); by default
  // they are an error like in every other reader.
  bool allow_empty_captions = false;
};

// Reads a results file: a JSON array of {"image_id": int, "caption": str} (other fields
// ignored). Ensures: image ids unique, captions non-blank unless allowed. Errors as above.
CocoResults load_coco_results(const std::string& path, const CocoResultsOptions& options = {});
CocoResults parse_coco_results(std::string_view json_text, const std::string& name,
                               const CocoResultsOptions& options = {});

// The JSON text of results: [{"image_id": 1, "caption": "a dog"}, ...] in the given order.
// Requires: image ids unique and >= 0, captions valid UTF-8 (else Error naming the entry).
std::string format_coco_results(const std::vector<CocoResult>& results);
// Writes format_coco_results() to path (replaced atomically); Error naming the file on failure.
void write_coco_results(const std::string& path, const std::vector<CocoResult>& results);

}  // namespace mrnn
