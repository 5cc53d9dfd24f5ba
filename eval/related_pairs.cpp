#include "eval/related_pairs.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"

namespace mrnn {

namespace {

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    out.emplace_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return out;
}

std::vector<std::string> words_of(const std::string& phrase) {
  std::vector<std::string> out;
  std::istringstream in(phrase);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \r") - a + 1);
}

// Calls fn(fields, line number) for every line that is neither blank nor a '#' comment.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos || line.front() == '#') continue;
    fn(split_tabs(line), line_no);
  }
}

std::vector<std::string> phrase_field(const std::string& field, const char* what, const std::string& name,
                                      int64_t line) {
  std::vector<std::string> w = words_of(field);
  MRNN_CHECK(!w.empty(), "{}:{}: the {} is empty (expected words separated by spaces)", name, line, what);
  return w;
}

std::string category_field(const std::vector<std::string>& f, size_t at, const std::string& name, int64_t line) {
  if (f.size() <= at) return "";
  const std::string c = trim(f[at]);
  MRNN_CHECK(!c.empty(), "{}:{}: the category field is empty (leave the field out instead)", name, line);
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  MRNN_CHECK(f.good(), "{}: cannot open file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::vector<RankingItem> parse_ranking_tsv(std::string_view text, const std::string& name) {
  std::vector<RankingItem> items;
  for_each_line(text, [&](const std::vector<std::string>& f, int64_t line) {
    MRNN_CHECK(f.size() == 4 || f.size() == 5,
               "{}:{}: expected 4 or 5 tab-separated fields (query, candidate A, candidate B, A|B[, category]), got {}",
               name, line, f.size());
    RankingItem it;
    it.query = phrase_field(f[0], "query", name, line);
    it.a = phrase_field(f[1], "candidate A", name, line);
    it.b = phrase_field(f[2], "candidate B", name, line);
    const std::string ans = trim(f[3]);
    MRNN_CHECK(ans == "A" || ans == "B", "{}:{}: the answer field is '{}', expected A or B (the related candidate)",
               name, line, f[3]);
    it.a_related = ans == "A";
    it.category = category_field(f, 4, name, line);
    it.line = line;
    items.push_back(std::move(it));
  });
  MRNN_CHECK(!items.empty(), "{}: no ranking items (expected lines 'query<TAB>A<TAB>B<TAB>A|B')", name);
  return items;
}

std::vector<RelatedPair> parse_related_pairs_tsv(std::string_view text, const std::string& name) {
  std::vector<RelatedPair> pairs;
  for_each_line(text, [&](const std::vector<std::string>& f, int64_t line) {
    MRNN_CHECK(f.size() == 2 || f.size() == 3,
               "{}:{}: expected 2 or 3 tab-separated fields (query, related phrase[, category]), got {}", name, line,
               f.size());
    RelatedPair p;
    p.query = phrase_field(f[0], "query", name, line);
    p.positive = phrase_field(f[1], "related phrase", name, line);
    p.category = category_field(f, 2, name, line);
    p.line = line;
    pairs.push_back(std::move(p));
  });
  MRNN_CHECK(!pairs.empty(), "{}: no related pairs (expected lines 'query<TAB>related phrase')", name);
  return pairs;
}

std::vector<RankingItem> load_ranking_tsv(const std::string& path) { return parse_ranking_tsv(read_file(path), path); }

std::vector<RelatedPair> load_related_pairs_tsv(const std::string& path) {
  return parse_related_pairs_tsv(read_file(path), path);
}

std::vector<RankingItem> sample_negatives(const std::vector<RelatedPair>& pairs, uint64_t seed,
                                          const std::string& name) {
  std::vector<RankingItem> items;
  uint64_t state = seed;
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::vector<size_t> others;
    for (size_t j = 0; j < pairs.size(); ++j)
      if (pairs[j].positive != pairs[i].positive && pairs[j].positive != pairs[i].query) others.push_back(j);
    MRNN_CHECK(!others.empty(),
               "{}:{}: no other pair has a different related phrase to sample a negative from (need at least two "
               "distinct related phrases)", name, pairs[i].line);
    const size_t j = others[splitmix64(state) % others.size()];
    RankingItem it;
    it.query = pairs[i].query;
    it.a = pairs[i].positive;
    it.b = pairs[j].positive;
    it.a_related = true;
    it.category = pairs[i].category;
    it.line = pairs[i].line;
    items.push_back(std::move(it));
  }
  return items;
}

bool phrase_vector(const WordVectors& table, const std::vector<std::string>& words, std::vector<float>* out) {
  std::vector<double> acc(table.dim(), 0.0);
  for (const std::string& w : words) {
    const int64_t r = table.find(w);
    if (r < 0) return false;
    const float* v = table.row(r);
    for (int64_t d = 0; d < table.dim(); ++d) acc[d] += v[d];
  }
  out->assign(table.dim(), 0.f);
  for (int64_t d = 0; d < table.dim(); ++d) (*out)[d] = static_cast<float>(acc[d] / static_cast<double>(words.size()));
  return true;
}

RankingScore score_ranking(const WordVectors& table, const std::vector<RankingItem>& items) {
  RankingScore s;
  std::set<std::string> unknown;
  for (const RankingItem& it : items) {
    RankingCounts* cat = it.category.empty() ? nullptr : &s.per_category[it.category];
    ++s.all.items;
    if (cat) ++cat->items;
    std::vector<float> q, a, b;
    bool known = true;
    for (const auto* phrase : {&it.query, &it.a, &it.b})
      for (const std::string& w : *phrase)
        if (table.find(w) < 0) {
          known = false;
          unknown.insert(w);
        }
    if (!known) {
      ++s.all.skipped;
      if (cat) ++cat->skipped;
      continue;
    }
    phrase_vector(table, it.query, &q);
    phrase_vector(table, it.a, &a);
    phrase_vector(table, it.b, &b);
    const double ca = cosine(q.data(), a.data(), table.dim()), cb = cosine(q.data(), b.data(), table.dim());
    const bool right = it.a_related ? ca > cb : cb > ca;
    ++s.all.judged;
    s.all.correct += right;
    if (cat) {
      ++cat->judged;
      cat->correct += right;
    }
  }
  s.unknown_words.assign(unknown.begin(), unknown.end());
  return s;
}

}  // namespace mrnn
