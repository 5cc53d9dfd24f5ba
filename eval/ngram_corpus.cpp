#include "eval/ngram_corpus.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "eval/split.h"

namespace mrnn::eval {
namespace {

struct KeyPos {
  uint64_t key;
  uint32_t pos;
};

// Stable LSD radix sort by the low `key_bits` bits of key (8-bit digits); `tmp` is scratch.
void radix_sort(std::vector<KeyPos>& a, std::vector<KeyPos>& tmp, int key_bits) {
  constexpr int kDigit = 8;
  constexpr size_t kBuckets = size_t{1} << kDigit;
  std::vector<size_t> start(kBuckets + 1);
  tmp.resize(a.size());
  for (int shift = 0; shift < key_bits; shift += kDigit) {
    std::fill(start.begin(), start.end(), 0);
    for (const KeyPos& e : a) ++start[((e.key >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 1; b <= kBuckets; ++b) start[b] += start[b - 1];
    for (const KeyPos& e : a) tmp[start[(e.key >> shift) & (kBuckets - 1)]++] = e;
    a.swap(tmp);
  }
}

int bits_for(uint64_t max_value) {
  int bits = 1;
  while (bits < 64 && (max_value >> bits) != 0) ++bits;
  return bits;
}

}  // namespace

NgramCorpus encode_ngrams(const CaptionMap& refs, const CaptionMap& results, const char* metric) {
  check_caption_inputs(refs, results, metric);
  NgramCorpus c;

  // 1. Words -> word ids (which are also the unigram ids), sentence by sentence: per image the
  //    hypothesis, then its references.
  std::vector<uint32_t> word_ids;     // all sentences' words, back to back
  std::vector<uint32_t> word_begin;   // sentence s owns word_ids[word_begin[s] .. word_begin[s+1])
  std::unordered_map<std::string_view, uint32_t> vocab;
  std::vector<std::string_view> words;
  auto add_sentence = [&](const std::string& text) {
    split_whitespace(text, words);
    for (std::string_view w : words)
      word_ids.push_back(vocab.try_emplace(w, static_cast<uint32_t>(vocab.size())).first->second);
    c.sentence_words.push_back(static_cast<uint32_t>(words.size()));
    word_begin.push_back(static_cast<uint32_t>(word_ids.size()));
  };
  word_begin.push_back(0);
  for (const auto& [id, hyp] : results) {
    c.image_ids.push_back(id);
    c.image_begin.push_back(static_cast<uint32_t>(c.sentence_words.size()));
    add_sentence(hyp.front());
    for (const std::string& ref : refs.at(id)) add_sentence(ref);
  }
  c.image_begin.push_back(static_cast<uint32_t>(c.sentence_words.size()));
  MRNN_CHECK(word_ids.size() < (size_t{1} << 32), "{}: {} words in all captions (at most 2^32 - 1 "
             "supported)", metric, word_ids.size());
  const size_t num_sentences = c.sentence_words.size();
  const size_t num_words = word_ids.size();
  const uint64_t vocab_size = vocab.size();

  // 2. Ids of higher orders: the k-gram at word p is the pair (id of the (k-1)-gram at p, word
  //    p + k - 1). Sorting those pairs and numbering the distinct ones gives dense ids without
  //    a large hash table (cache-friendly at COCO scale).
  // ids[k - 1][p] = id of the k-gram starting at word p (valid where it fits in its sentence).
  std::vector<std::vector<uint32_t>> ids(NgramCorpus::kMaxOrder);
  ids[0] = word_ids;
  uint64_t next_id = vocab_size;
  std::vector<KeyPos> keys, tmp;
  keys.reserve(num_words);
  for (int k = 2; k <= NgramCorpus::kMaxOrder; ++k) {
    const std::vector<uint32_t>& prev = ids[k - 2];
    keys.clear();
    for (size_t s = 0; s < num_sentences; ++s)
      for (uint32_t p = word_begin[s]; p + k <= word_begin[s + 1]; ++p)
        keys.push_back({uint64_t{prev[p]} * vocab_size + word_ids[p + k - 1], p});
    radix_sort(keys, tmp, bits_for(next_id * vocab_size));
    ids[k - 1].assign(num_words, 0);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0 && keys[i].key != keys[i - 1].key) ++next_id;
      ids[k - 1][keys[i].pos] = static_cast<uint32_t>(next_id);
    }
    if (!keys.empty()) ++next_id;
    MRNN_CHECK(next_id < (uint64_t{1} << 32), "{}: more than 2^32 distinct n-grams", metric);
  }
  c.num_ngrams = static_cast<uint32_t>(next_id);

  // 3. Per sentence and order, the distinct n-grams with counts in first-occurrence order:
  //    a linear scan for sentences of ordinary length, a per-id index for long ones.
  constexpr uint32_t kScanLimit = 48;
  std::vector<std::pair<uint32_t, uint32_t>> seen;  // per id: (last long sentence + 1, slot)
  c.grams.reserve(num_words * 4);
  c.sentence_begin.reserve(num_sentences + 1);
  c.sentence_begin.push_back(0);
  for (uint32_t s = 0; s < num_sentences; ++s) {
    const uint32_t begin = word_begin[s], len = word_begin[s + 1] - begin;
    for (uint32_t k = 1; k <= NgramCorpus::kMaxOrder && k <= len; ++k) {
      const size_t order_begin = c.grams.size();
      const uint32_t positions = len - k + 1;
      if (positions > kScanLimit && seen.empty()) seen.assign(c.num_ngrams, {0, 0});
      for (uint32_t p = begin; p < begin + positions; ++p) {
        const uint32_t id = ids[k - 1][p];
        size_t slot = c.grams.size();  // where id already is, or size() if new
        if (positions <= kScanLimit) {
          slot = order_begin;
          while (slot < c.grams.size() && c.grams[slot].id != id) ++slot;
        } else if (seen[id].first == s + 1) {
          slot = seen[id].second;
        } else {
          seen[id] = {s + 1, static_cast<uint32_t>(slot)};
        }
        if (slot == c.grams.size())
          c.grams.push_back({id, 1, k});
        else
          ++c.grams[slot].count;
      }
    }
    c.sentence_begin.push_back(static_cast<uint32_t>(c.grams.size()));
  }
  return c;
}

}  // namespace mrnn::eval
