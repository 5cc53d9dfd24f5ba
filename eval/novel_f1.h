// Novel-word F1 (the DCC / Neural Baby Talk protocol for describing novel objects): does a
// generated caption mention a new word where it should, and only there?
// Why its own file: NVCS (models/nvcs) and any later novel-object model are scored by it alike.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mrnn::eval {

// The words of a caption as the DCC code reads them: lowercased (ASCII), every character that is
// not a letter or digit turned into a space, split on spaces.
std::vector<std::string> mention_tokens(const std::string& caption);

// True when mention_tokens(caption) contains some word of `words`, normalised the same way, as a
// run of tokens ("t-rex" becomes "t rex", matched as two consecutive tokens). Non-ASCII bytes
// count as letters (UTF-8 words stay whole).
bool mentions(const std::string& caption, const std::vector<std::string>& words);

struct NovelF1 {
  int64_t tp = 0;  // positive images whose caption mentions the word
  int64_t fp = 0;  // negative images whose caption mentions it
  int64_t fn = 0;  // positive images whose caption does not
  double precision = 0, recall = 0;
  double f1 = 0;   // 2PR / (P + R); 0 when tp = 0
};

// Scores one concept. positives: the generated captions of the images that show it (its novel
// test images); negatives: those of images that do not (the base test images, and the other
// concepts' test images). words: the concept's word and its synonyms / plural.
NovelF1 novel_word_f1(const std::vector<std::string>& words, const std::vector<std::string>& positives,
                      const std::vector<std::string>& negatives);

}  // namespace mrnn::eval
