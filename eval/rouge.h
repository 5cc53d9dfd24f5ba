// ROUGE-L exactly as pycocoevalcap's Rouge scorer computes it (the COCO caption protocol).
// Why: published captioning numbers come from that code; ours must match it to 1e-9 or better.
//
// Conventions (pycocoevalcap rouge.py): words by str.split(" ") (so "" is one empty word);
// per reference, precision = LCS / |hyp| and recall = LCS / |ref|; the maxima of precision and
// of recall are taken independently over the references; score = (1 + b^2) P R / (R + b^2 P)
// with beta = 1.2, or 0 when either maximum is 0; the corpus score is the mean (numpy order).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "eval/captions.h"

namespace mrnn::eval {

struct RougeScore {
  double corpus = 0.0;
  std::vector<double> per_image;  // results' key order
  std::vector<std::string> image_ids;
};

// Requires: check_caption_inputs(refs, results, "ROUGE-L") passes (else mrnn::Error naming the id).
// Ensures: scores equal pycocoevalcap Rouge().compute_score(refs, results) up to rounding.
RougeScore rouge_l(const CaptionMap& refs, const CaptionMap& results);

// ROUGE-L of one hypothesis against its references. Requires !refs.empty().
double rouge_l_sentence(std::string_view hypothesis, const std::vector<std::string>& refs);

// Length of the longest common subsequence of two word sequences.
size_t lcs_length(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b);

}  // namespace mrnn::eval
