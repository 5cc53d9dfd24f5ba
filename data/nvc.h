// Reader for the Novel Visual Concept dataset of Mao et al. 2015 ("Learning like a child",
// NVC_v201509_trainval.json / NVC_v201509_test.json from the NVC-Dataset release), and for
// ShapesWorld's novel-concept file in the same format.
// Why: NVCS (adding new words to a trained model from a few examples) is trained and evaluated
// per concept on these splits.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/karpathy.h"
#include "data/tokenizer.h"

namespace mrnn {

struct NvcImage {
  int64_t image_id = -1;     // "image_id"; when absent, the position in the file
  std::string concept_name;  // "quidditch", "t-rex", ...: one of NvcDataset::concepts
  Split split = Split::train;  // train, val or test
  std::string image_name;      // "quidditch_00000" (the file is <root>/<concept>/<name>.jpg)
  std::vector<Sentence> sentences;  // never empty
};

struct NvcDataset {
  std::string version;                // "201509"
  std::vector<std::string> concepts;  // the novel concepts, file order
  std::vector<NvcImage> images;       // file order
  int64_t skipped = 0;                // images + sentences dropped under skip_bad
  std::vector<std::string> skip_reasons;

  // The images of one concept in one split, in file order.
  std::vector<const NvcImage*> images_of(std::string_view concept_name, Split split) const;
};

struct NvcOptions {
  std::vector<Split> splits;  // keep only these splits; empty = all
  bool retokenize = false;    // replace "tokens" by tokenize(raw, mode)
  TokenizerMode mode = TokenizerMode::word;
  bool skip_bad = false;      // drop bad sentences/images instead of throwing
};

// Reads {"version"?: str, "concepts"?: [str], "images": [{"image_id"?, "concept",
// "train_val_test_split": "train"|"val"|"test", "image_name", "sentences": [{"tokens", "raw",
// "sentence_id"?, "image_id"?}]}]}.
// Required: each image's concept, split, image_name (it locates the file) and sentences with
// tokens and raw. Optional: "version" (""), "concepts" (default: the images' concepts in order of
// first appearance, counting only images read), an image's image_id (its position in the file),
// a sentence's image_id (its image's) and sentence_id (-1). A present optional field must have
// the right type; a present "concepts" list must name every image's concept.
// Ensures: concepts unique (and non-empty when the list is given); each image's concept is
// listed, its split is train, val or test, image ids and present sentence ids unique, each
// sentence's image_id is its image's, token lists non-empty (after retokenizing). Violations throw mrnn::Error naming the
// file, the JSON path ("images[3].train_val_test_split") and what was expected, or are skipped and
// counted with skip_bad. Missing file, invalid JSON, or a bad "version"/"concepts"/"images" always
// throws.
NvcDataset load_nvc(const std::string& path, const NvcOptions& options = {});
NvcDataset parse_nvc(std::string_view json_text, const std::string& name,
                     const NvcOptions& options = {});

}  // namespace mrnn
