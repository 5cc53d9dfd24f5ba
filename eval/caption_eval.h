// All caption metrics of the COCO protocol in one call: BLEU-1..4, ROUGE-L, CIDEr-D, METEOR.
// Why: evaluation programs want every number at once; BLEU and CIDEr-D share one n-gram encoding.
// SPICE is not provided.
#pragma once
#include <string>

#include "eval/bleu.h"
#include "eval/captions.h"
#include "eval/cider.h"
#include "eval/meteor.h"
#include "eval/rouge.h"

namespace mrnn::eval {

struct CaptionScores {
  BleuScore bleu;
  RougeScore rouge_l;
  CiderScore cider_d;
  MeteorScore meteor;  // computed only when a jar path is given (see meteor.h)
};

// Requires: check_caption_inputs(refs, results, ...) passes (else mrnn::Error naming the id).
// Ensures: each member equals what its own function returns; METEOR runs the jar at
// meteor_jar if that is non-empty, else reports kMeteorNoJarStatus.
CaptionScores evaluate_captions(const CaptionMap& refs, const CaptionMap& results,
                                const std::string& meteor_jar = {});

}  // namespace mrnn::eval
