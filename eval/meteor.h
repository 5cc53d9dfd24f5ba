// METEOR through the official METEOR 1.5 jar, driven with coco-caption's protocol.
// Why: METEOR's paraphrase/stem matching cannot be reproduced exactly outside the jar, so we run
// the jar itself (java -jar -Xmx2G <jar> - - -stdio -l en -norm) instead of imitating it.
#pragma once
#include <string>
#include <vector>

#include "eval/captions.h"

namespace mrnn::eval {

struct MeteorScore {
  bool computed = false;
  std::string status;             // "METEOR not computed (...)" when !computed, else "computed"
  double corpus = 0.0;            // the jar's aggregate score (not the mean of per_image)
  std::vector<double> per_image;  // results' key order
  std::vector<std::string> image_ids;
};

// The status reported when no jar path is given.
inline constexpr const char* kMeteorNoJarStatus = "METEOR not computed (no --meteor-jar given)";

struct MeteorOptions {
  std::string java = "java";  // executable, looked up on PATH when it has no '/'
  int timeout_seconds = 600;  // for each answer line of the jar (its start loads ~60 MB of paraphrases)
};

// Requires: check_caption_inputs(refs, results, "METEOR") passes (else mrnn::Error naming the id).
// Ensures: if jar_path is empty, returns computed = false with status kMeteorNoJarStatus and
// starts nothing. Otherwise runs the jar as pycocoevalcap's Meteor does: one
// "SCORE ||| ref1 ||| ... ||| hyp" line per image (hyp with "|||" removed and each "  " made " ",
// once, left to right), then one "EVAL ||| stats1 ||| ..." line, reading one score per image and
// then the aggregate. Throws mrnn::Error naming the jar if it is missing, java cannot be started,
// the jar exits early, times out or answers something that is not a number (with its stderr).
MeteorScore meteor_score(const std::string& jar_path, const CaptionMap& refs,
                         const CaptionMap& results, const MeteorOptions& options = {});

}  // namespace mrnn::eval
