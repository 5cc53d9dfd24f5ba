// The HTML report of an evaluation: metrics table, loss curve (inline SVG from log.jsonl), a grid
// of images with generated and reference captions, and retrieval examples in both directions.
// Self-contained: images are embedded as data URIs, so the file can be mailed or archived alone.
#pragma once
#include <string>
#include <vector>

#include "models/mrnn/caption_data.h"

namespace mrnn {

struct ReportInputs {
  std::string metrics_json;              // printed as the metrics table
  std::string log_jsonl;                 // training log (may be missing)
  std::string images_dir;                // where split.file_names live ("" = features only: no pictures)
  const CaptionSplit* split = nullptr;
  std::vector<std::string> greedy, beam; // per image
  int64_t retrieval_images = 0;          // scores cover the first N images and their sentences (0 = all)
  std::vector<double> scores;            // log P(S | I), images x sentences
  std::vector<double> normalised_scores; // for sentence retrieval
  int64_t grid_images = 24;
};

// Writes dir/report.html (dir is created). Throws naming the file when it cannot be written.
void write_report(const std::string& dir, const ReportInputs& in);

}  // namespace mrnn
