// BLEU-1..4 exactly as pycocoevalcap's Bleu scorer computes it (the COCO caption protocol).
// Why: published captioning numbers come from that code; ours must match it to 1e-9 or better.
//
// Conventions (pycocoevalcap bleu_scorer.py): words by str.split(); clipped n-gram counts against
// the per-n-gram maximum over an image's references; effective reference length 'closest' (the
// reference length nearest the hypothesis length, the shorter one on a tie); corpus score from the
// summed clipped counts, guesses and lengths with one brevity penalty exp(1 - r/c) when c < r;
// tiny = 1e-15 is added to matches and the hypothesis length, small = 1e-9 to guesses and the
// reference length (so an exact match scores 1 - O(1e-10), and 0 matches give ~0, not 0).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "eval/captions.h"
#include "eval/ngram_corpus.h"

namespace mrnn::eval {

struct BleuScore {
  std::array<double, 4> corpus{};                 // BLEU-1..4 over the whole set
  std::vector<std::array<double, 4>> per_image;   // pycocoevalcap's per-image list, results' key order
  std::vector<std::string> image_ids;             // image_ids[i] belongs to per_image[i]
};

// Requires: check_caption_inputs(refs, results, "BLEU") passes (else mrnn::Error naming the id).
// Ensures: scores equal pycocoevalcap Bleu(4).compute_score(refs, results) up to rounding.
BleuScore bleu(const CaptionMap& refs, const CaptionMap& results);

// Same from an already encoded corpus (shared with CIDEr-D by evaluate_captions).
BleuScore bleu(const NgramCorpus& corpus);

}  // namespace mrnn::eval
