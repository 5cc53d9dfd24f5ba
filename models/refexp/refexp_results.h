// The Google Refexp toolbox's results files, written atomically and read back with checks:
//   comprehension  [{"annotation_id", "refexp_id"?, "refexp"?, "predicted_bounding_boxes": [[x, y, w, h], ..]}]
//                  (boxes best first; refexp_id for the file's own expressions, refexp (the text) for
//                  generated ones fed back to the listener)
//   generation     [{"annotation_id", "refexp"}]
// Why here: refexp_comprehend / refexp_generate write them and refexp_eval scores any file of the format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/refexp.h"

namespace mrnn {

struct ComprehensionResult {
  int64_t annotation_id = -1;
  int64_t refexp_id = -1;  // -1: absent
  std::string refexp;      // "": absent
  std::vector<Box> boxes;  // best first
};

struct GenerationResult {
  int64_t annotation_id = -1;
  std::string refexp;
};

void write_comprehension_results(const std::string& path, const std::vector<ComprehensionResult>& results);
void write_generation_results(const std::string& path, const std::vector<GenerationResult>& results);
// Require nothing of the file. Ensure the entries; throw Error naming the file, the entry ("[3]")
// and the field when it is not a JSON array of such objects (a box must be 4 numbers).
std::vector<ComprehensionResult> read_comprehension_results(const std::string& path);
std::vector<GenerationResult> read_generation_results(const std::string& path);

}  // namespace mrnn
