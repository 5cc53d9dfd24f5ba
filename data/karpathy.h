// Reader for Karpathy's split files (dataset_coco.json, dataset_flickr8k.json,
// dataset_flickr30k.json, and ShapesWorld's dataset_shapes.json written in the same format).
// Why: they fix the train/val/test splits every m-RNN paper reports on; reading them exactly lets
// our numbers be compared with published ones.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/tokenizer.h"

namespace mrnn {

enum class Split { train, val, test, restval };

// "train", "val", "test" or "restval"; anything else throws mrnn::Error naming the value.
Split parse_split(std::string_view name);
const char* split_name(Split split);

// One caption. The Karpathy files and the NVC files share this shape.
struct Sentence {
  std::vector<std::string> tokens;  // never empty
  std::string raw;                  // the caption as written by the annotator
  int64_t image_id = -1;            // its image's id (Karpathy "imgid", NVC "image_id")
  int64_t sentence_id = -1;         // Karpathy "sentid", NVC "sentence_id"; -1 when absent
};

struct KImage {
  std::string filename;   // "COCO_val2014_000000391895.jpg", "2513260012_03d33305cf.jpg"
  std::string filepath;   // "val2014" / "train2014" (COCO only; "" otherwise)
  Split split = Split::train;  // after KarpathyOptions::restval_into_train
  int64_t imgid = -1;     // "imgid"; when absent, the position in the file
  int64_t cocoid = -1;    // COCO image id (COCO only; -1 otherwise)
  std::vector<Sentence> sentences;  // never empty
};

struct KarpathyDataset {
  std::string dataset;  // top-level "dataset" ("coco", "flickr8k", "flickr30k"), "" if absent
  std::vector<KImage> images;            // in file order
  int64_t skipped = 0;                   // images + sentences dropped under skip_bad
  std::vector<std::string> skip_reasons; // the first 20 errors that caused a skip
};

struct KarpathyOptions {
  std::vector<Split> splits;        // keep only these splits (checked after folding); empty = all
  bool restval_into_train = false;  // relabel "restval" images as train (the usual COCO setup)
  bool retokenize = false;          // replace "tokens" by tokenize(raw, mode)
  TokenizerMode mode = TokenizerMode::word;
  bool skip_bad = false;            // drop bad sentences/images instead of throwing
};

// Reads a Karpathy split file.
// Required fields: images[].filename, .split, .sentences[].tokens and .raw (what training, image
// loading and evaluation use; ImageCaptioning.pytorch and neuraltalk2 read no more, besides the
// optional filepath). Optional, ignored when absent: the top-level "dataset" (""), an image's
// "filepath" (""), "imgid" (default: the image's position in the file, which is what every
// Karpathy release writes; it indexes --features rows), "cocoid" (-1), "sentids" (never read),
// and a sentence's "imgid" (its image's imgid) and "sentid" (-1). An optional field that is
// present must have the right type and range. Unknown fields are ignored.
// Ensures: every kept image has a filename, a known split, an imgid >= 0 unique in the file, and
// at least one sentence; every sentence has a non-empty token list (after retokenizing), a raw
// string, image_id equal to its image's imgid (a present sentence imgid must equal it) and a
// sentid that is -1 or unique. Otherwise throws mrnn::Error naming the file, the JSON path (e.g.
// "images[12].sentences[3].tokens") and what was expected — or, with skip_bad, drops that
// sentence (or the image, when the image-level fields are bad or no sentence is left) and counts
// it. A missing file, invalid JSON or a root without an "images" array always throws.
KarpathyDataset load_karpathy(const std::string& path, const KarpathyOptions& options = {});

// Same, from JSON text; `name` stands for the file in messages.
KarpathyDataset parse_karpathy(std::string_view json_text, const std::string& name,
                               const KarpathyOptions& options = {});

}  // namespace mrnn
