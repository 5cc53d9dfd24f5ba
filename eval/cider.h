// CIDEr-D exactly as pycocoevalcap's Cider scorer computes it (the COCO caption protocol).
// Why: published captioning numbers come from that code; ours must match it to 1e-9 or better.
//
// Conventions (pycocoevalcap cider_scorer.py, which is CIDEr-D): n-grams n = 1..4 by str.split();
// document frequency df = number of evaluated images whose references contain the n-gram;
// weight tf * (log(#images) - log(max(1, df))); per reference and n, the clipped cosine
// sum_g min(h_g, r_g) r_g / (|h| |r|) (left unnormalised when a norm is 0) times the Gaussian
// length penalty e^(-d^2 / (2 sigma^2)), where d is the difference of the *bigram* counts
// (pycocoevalcap counts length that way; it equals the word-count difference whenever both
// sentences have words, and otherwise the cosine is 0); image score = 10 * (mean over n of the
// sum over references) / #refs; corpus score = mean over images (numpy order).
#pragma once
#include <string>
#include <vector>

#include "eval/captions.h"
#include "eval/ngram_corpus.h"

namespace mrnn::eval {

struct CiderScore {
  double corpus = 0.0;
  std::vector<double> per_image;  // results' key order
  std::vector<std::string> image_ids;
};

// Requires: check_caption_inputs(refs, results, "CIDEr-D") passes (else mrnn::Error naming the
// id); sigma > 0. Ensures: scores equal pycocoevalcap Cider(sigma=sigma).compute_score up to rounding.
// The document frequencies come from the references of the images in `results` only.
CiderScore cider_d(const CaptionMap& refs, const CaptionMap& results, double sigma = 6.0);

// Same from an already encoded corpus (shared with BLEU by evaluate_captions).
CiderScore cider_d(const NgramCorpus& corpus, double sigma = 6.0);

}  // namespace mrnn::eval
