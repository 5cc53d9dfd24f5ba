// Hypotheses and references of a caption evaluation encoded as counted n-gram ids (n = 1..4).
// Why: BLEU and CIDEr-D both work on n-gram counts; interning every distinct n-gram once as an
// integer makes them fast (no string copies or string-keyed maps) and lets them share the work.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/captions.h"

namespace mrnn::eval {

// One distinct n-gram of a sentence and how often it occurs there.
struct NgramCount {
  uint32_t id;     // corpus-wide id, equal ids <=> equal word sequences
  uint32_t count;  // occurrences in the sentence
  uint32_t order;  // n, 1..4
};

struct NgramCorpus {
  static constexpr int kMaxOrder = 4;
  // Sentence s owns grams[sentence_begin[s] .. sentence_begin[s + 1]), ordered by n and then by
  // first occurrence (the order in which pycocoevalcap's precook fills its dict).
  std::vector<NgramCount> grams;
  std::vector<uint32_t> sentence_begin;  // size num_sentences + 1
  std::vector<uint32_t> sentence_words;  // words in sentence s (Python str.split() semantics)
  // Image i (in results' key order): sentence image_begin[i] is its hypothesis, sentences
  // image_begin[i] + 1 .. image_begin[i + 1] - 1 are its references.
  std::vector<uint32_t> image_begin;  // size num_images + 1
  std::vector<std::string> image_ids;
  uint32_t num_ngrams = 0;  // ids are 0 .. num_ngrams - 1

  size_t num_images() const { return image_ids.size(); }
  uint32_t hypothesis(size_t image) const { return image_begin[image]; }
  uint32_t refs_begin(size_t image) const { return image_begin[image] + 1; }
  uint32_t refs_end(size_t image) const { return image_begin[image + 1]; }
  const NgramCount* gram_begin(uint32_t sentence) const { return grams.data() + sentence_begin[sentence]; }
  const NgramCount* gram_end(uint32_t sentence) const { return grams.data() + sentence_begin[sentence + 1]; }
};

// Encodes the images of `results` with their references.
// Requires: check_caption_inputs(refs, results, metric) would pass (it is called; on failure the
// mrnn::Error names `metric` and the image id). Ensures: a corpus as described above.
NgramCorpus encode_ngrams(const CaptionMap& refs, const CaptionMap& results, const char* metric);

}  // namespace mrnn::eval
