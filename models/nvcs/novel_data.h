// The novel-concept data NVCS learns from and is scored on, read from either format that names a
// concept per image: the NVC dataset's (data/nvc.h: "concept", "image_name",
// "train_val_test_split") or ShapesWorld's dataset_shapes_nvc.json (Karpathy image entries with a
// "concept" field and root "concepts": [{"word", "plural", "imgids"}]).
// Why one view: training (models/nvcs/nvcs.h) and evaluation (eval/novel_f1.h) then read the same
// images, splits and concept words whatever file they came from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/karpathy.h"
#include "data/tokenizer.h"

namespace mrnn {

struct NovelConcept {
  std::string name;                // "star", "t-rex"
  std::vector<std::string> words;  // the word(s) that name it: name first, then e.g. the plural
};

struct NovelData {
  std::string path;
  std::vector<NovelConcept> concepts;
  // Every image of the file, in file order (rows of a features file line up with it). Images past
  // --examples of a concept's train split are relabelled Split::restval: no split reads them.
  KarpathyDataset images;
  std::vector<int> concept_of;  // per image of `images`: index into concepts
  // The concept of an image id (imgid) of `images`; -1 when the id is not there.
  int concept_of_id(int64_t image_id) const;
  // Train (or test) images of concept c (split as relabelled).
  int64_t count(int c, Split split) const;
};

struct NovelDataOptions {
  int64_t examples = 0;  // train images kept per concept, the first in file order (0 = all)
  bool retokenize = false;
  TokenizerMode mode = TokenizerMode::word;
};

// Reads `path` in either format (ShapesWorld's when the root has "novel_words" or the first image
// has "filename"). NVC image files are <concept>/<image_name>.jpg under the images folder;
// ShapesWorld's are their "filename". Ensures, else throws Error naming the file and the field:
// at least one concept; every concept has a train image and a test image; examples is not larger
// than any concept's train images (the message names the concept and how many there are).
NovelData load_novel_data(const std::string& path, const NovelDataOptions& options = {});

}  // namespace mrnn
