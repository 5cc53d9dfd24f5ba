// Related-phrase ranking (the evaluation of Mao et al., NIPS 2016, on RP10M / Gold RP10K): a phrase's
// vector is the mean of its words' vectors; an item is right when the related candidate's cosine to
// the query is strictly higher than the other's (a tie is wrong). Items with a word the table lacks
// are skipped and counted, never silently dropped. Files are TSV (docs/embeddings.md):
//   ranking file, one item a line:   query <TAB> candidate A <TAB> candidate B <TAB> A|B [<TAB> category]
//   related pairs, one pair a line:  query <TAB> positive [<TAB> category]
// Phrases are words separated by spaces, spelled as the vocabulary spells them; blank lines and
// lines starting with '#' are ignored. A pairs list becomes a ranking with sample_negatives.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "eval/word_vectors.h"

namespace mrnn {

struct RankingItem {
  std::vector<std::string> query, a, b;  // words
  bool a_related = true;                 // which candidate is the related one
  std::string category;                  // "" when the line has none
  int64_t line = 0;                      // 1-based line in its file (0 when made in code)
};

struct RelatedPair {
  std::vector<std::string> query, positive;
  std::string category;
  int64_t line = 0;
};

// Parse a ranking file / a related-pairs file. Requires nothing of text. Throws Error "NAME:LINE:
// ..." naming the expected fields for a line with the wrong number of fields, an answer that is
// not A or B, an empty phrase, or an empty category field; and naming the file when it has no item.
std::vector<RankingItem> parse_ranking_tsv(std::string_view text, const std::string& name);
std::vector<RelatedPair> parse_related_pairs_tsv(std::string_view text, const std::string& name);
std::vector<RankingItem> load_ranking_tsv(const std::string& path);
std::vector<RelatedPair> load_related_pairs_tsv(const std::string& path);

// Ranking items from related pairs: pair i keeps its positive as candidate A and gets as B the
// positive of another pair j, drawn uniformly (SplitMix64 from `seed`, so the same on every
// machine) among the pairs whose positive differs from pair i's positive and query. Ensures: one
// item per pair, same seed -> same items. Throws Error naming `name` when some pair has no such
// other pair (fewer than two distinct positives).
std::vector<RankingItem> sample_negatives(const std::vector<RelatedPair>& pairs, uint64_t seed,
                                          const std::string& name);

struct RankingCounts {
  int64_t items = 0, judged = 0, correct = 0, skipped = 0;  // skipped: an unknown word; judged = items - skipped
  double accuracy() const { return judged ? static_cast<double>(correct) / static_cast<double>(judged) : 0.0; }
};

struct RankingScore {
  RankingCounts all;
  std::map<std::string, RankingCounts> per_category;  // categories that appear ("" not listed)
  std::vector<std::string> unknown_words;             // every distinct word that caused a skip, sorted
};

// Scores items with the table. Ensures: all.items == items.size(), judged + skipped == items.
RankingScore score_ranking(const WordVectors& table, const std::vector<RankingItem>& items);

// The mean of the phrase's word vectors; false (and *out untouched) when a word is not in the table.
bool phrase_vector(const WordVectors& table, const std::vector<std::string>& words, std::vector<float>* out);

}  // namespace mrnn
