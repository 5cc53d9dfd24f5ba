// The HTML report of an evaluation, laid out for a reader rather than a parser: a metrics table
// (decoders as columns), a retrieval table with the random baseline, training-loss and validation
// CIDEr-D curves (models/mrnn/svg_plot.h), a grid of images with their generated captions (false
// scene claims marked when the dataset has a scene file) and references, and retrieval examples in
// both directions. The full metrics JSON stays in the page, collapsed.
// Self-contained: images are embedded as data URIs, CSS is inline, no JavaScript; the file can be
// mailed or archived alone.
#pragma once
#include <string>
#include <vector>

#include "data/scene_check.h"
#include "models/mrnn/caption_data.h"

namespace mrnn {

struct ReportInputs {
  std::string metrics_json;              // caption_eval's metrics object (keys: docs/captioning.md)
  std::string log_jsonl;                 // path of the training log (may be missing)
  std::string images_dir;                // where split.file_names live ("" = features only: no pictures)
  const CaptionSplit* split = nullptr;
  std::vector<std::string> greedy, beam; // per image, tokens joined by ' ' (may be empty: not shown)
  // Scene checks of greedy / beam (data/scene_check.h): empty when the dataset has no scene file,
  // else one per image, aligned with greedy / beam; Claim word indices refer to the caption's tokens.
  std::vector<CaptionCheck> greedy_checks, beam_checks;
  int64_t retrieval_images = 0;          // scores cover the first N images and their sentences (0 = all)
  std::vector<double> scores;            // log P(S | I), images x sentences
  std::vector<double> normalised_scores; // for sentence retrieval
  int64_t grid_images = 24;
};

// Requires: in.split; metrics_json a JSON object; checks empty or as long as their captions.
// Ensures: dir/report.html (dir is created), written whole or not at all. Throws mrnn::Error naming
// the file when it cannot be written, or saying which input is inconsistent.
void write_report(const std::string& dir, const ReportInputs& in);

// Ensures: the report's HTML as write_report would write it (for tests and other writers).
std::string report_html(const ReportInputs& in);

}  // namespace mrnn
