#include "eval/caption_eval.h"

#include "eval/ngram_corpus.h"

namespace mrnn::eval {

CaptionScores evaluate_captions(const CaptionMap& refs, const CaptionMap& results,
                                const std::string& meteor_jar) {
  CaptionScores out;
  const NgramCorpus corpus = encode_ngrams(refs, results, "caption evaluation");
  out.bleu = bleu(corpus);
  out.cider_d = cider_d(corpus);
  out.rouge_l = rouge_l(refs, results);
  out.meteor = meteor_score(meteor_jar, refs, results);
  return out;
}

}  // namespace mrnn::eval
