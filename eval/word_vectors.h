// A table of word vectors (one row per word) with the word2vec text format (`V D` header, then one
// word and its D values per line, as gensim's KeyedVectors.load_word2vec_format(binary=False) reads
// it), cosine similarity and nearest neighbours. Why in eval/: the related-phrase evaluation
// (eval/related_pairs.h) and the export programs share it, and it needs nothing but the standard
// library.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mrnn {

class WordVectors {
 public:
  WordVectors() = default;
  // Requires: dim >= 1, values.size() == words.size() * dim, words non-empty, unique, without
  // whitespace, every value finite. Ensures: the table. Otherwise throws Error naming `name` and
  // what is wrong (the word, or the expected and actual sizes).
  WordVectors(std::vector<std::string> words, std::vector<float> values, int64_t dim, const std::string& name);

  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  int64_t dim() const { return dim_; }
  const std::vector<std::string>& words() const { return words_; }
  const std::vector<float>& values() const { return values_; }
  const float* row(int64_t i) const { return values_.data() + i * dim_; }
  // The row of `word`, or -1 when it is not in the table.
  int64_t find(std::string_view word) const;

 private:
  std::vector<std::string> words_;
  std::vector<float> values_;
  int64_t dim_ = 0;
  std::unordered_map<std::string, int64_t> index_;
};

// cos(a, b) of two D-vectors; 0 when either is all zeros.
double cosine(const float* a, const float* b, int64_t dim);

struct WordNeighbour {
  std::string word;
  double cosine = 0;
};
// The k rows with the highest cosine to `query` (D values), best first, ties by row order; the
// row `exclude` (e.g. the query word itself; -1 = none) is left out. Requires query.size() == dim.
std::vector<WordNeighbour> nearest_by_cosine(const WordVectors& table, const std::vector<float>& query, int64_t k,
                                     int64_t exclude = -1);

// The word2vec text of the table: "V D\n", then per row "word v1 ... vD\n" with each value
// written exactly (%.9g reads back to the same float).
std::string word2vec_text(const WordVectors& table);
// Writes word2vec_text to path atomically. Throws Error naming the path when it cannot be written.
void save_word2vec_text(const std::string& path, const WordVectors& table);
// Parses word2vec text (`name` stands for the file in messages). Throws Error naming the file and
// the line for: a missing or malformed header, a line whose number of values differs from D (a
// dimension mismatch), a value that is not a finite number, a duplicate word, fewer or more rows
// than the header says, or no rows at all.
WordVectors parse_word2vec_text(std::string_view text, const std::string& name);
WordVectors load_word2vec_text(const std::string& path);

}  // namespace mrnn
