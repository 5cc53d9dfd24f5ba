#include "eval/word_vectors.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"

namespace mrnn {

namespace {

bool has_space(std::string_view w) {
  for (char c : w)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return true;
  return false;
}

// Splits a line on runs of spaces/tabs.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool parse_int(std::string_view s, int64_t& v) {
  if (s.empty() || s.size() > 18) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return true;
}

bool parse_float(std::string_view s, float& v) {
  std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  v = std::strtof(tmp.c_str(), &end);
  return end == tmp.c_str() + tmp.size() && std::isfinite(v) && errno != ERANGE;
}

}  // namespace

WordVectors::WordVectors(std::vector<std::string> words, std::vector<float> values, int64_t dim,
                         const std::string& name)
    : words_(std::move(words)), values_(std::move(values)), dim_(dim) {
  MRNN_CHECK(dim >= 1, "{}: word vectors need a dimension >= 1, got {}", name, dim);
  MRNN_CHECK(static_cast<int64_t>(values_.size()) == size() * dim,
             "{}: dimension mismatch: {} words of {} values need {} values, got {}", name, size(), dim, size() * dim,
             values_.size());
  for (int64_t i = 0; i < size(); ++i) {
    const std::string& w = words_[i];
    MRNN_CHECK(!w.empty() && !has_space(w), "{}: word {} ('{}') is empty or contains whitespace", name, i, w);
    MRNN_CHECK(index_.emplace(w, i).second, "{}: word '{}' appears twice", name, w);
  }
  for (size_t i = 0; i < values_.size(); ++i)
    MRNN_CHECK(std::isfinite(values_[i]), "{}: value {} of word '{}' is not finite", name, i % dim, words_[i / dim]);
}

int64_t WordVectors::find(std::string_view word) const {
  auto it = index_.find(std::string(word));
  return it == index_.end() ? -1 : it->second;
}

double cosine(const float* a, const float* b, int64_t dim) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < dim; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa == 0 || bb == 0 ? 0.0 : ab / std::sqrt(aa * bb);
}

std::vector<WordNeighbour> nearest_by_cosine(const WordVectors& table, const std::vector<float>& query, int64_t k,
                                     int64_t exclude) {
  MRNN_CHECK(static_cast<int64_t>(query.size()) == table.dim(), "nearest_by_cosine: query has {} values, the table {}",
             query.size(), table.dim());
  std::vector<std::pair<double, int64_t>> scored;
  for (int64_t i = 0; i < table.size(); ++i)
    if (i != exclude) scored.emplace_back(cosine(query.data(), table.row(i), table.dim()), i);
  const int64_t n = std::min<int64_t>(std::max<int64_t>(k, 0), static_cast<int64_t>(scored.size()));
  std::partial_sort(scored.begin(), scored.begin() + n, scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<WordNeighbour> out;
  for (int64_t i = 0; i < n; ++i) out.push_back({table.words()[scored[i].second], scored[i].first});
  return out;
}

std::string word2vec_text(const WordVectors& table) {
  std::string out = std::to_string(table.size()) + " " + std::to_string(table.dim()) + "\n";
  char buf[32];
  for (int64_t i = 0; i < table.size(); ++i) {
    out += table.words()[i];
    const float* r = table.row(i);
    for (int64_t d = 0; d < table.dim(); ++d) {
      std::snprintf(buf, sizeof buf, " %.9g", static_cast<double>(r[d]));
      out += buf;
    }
    out += '\n';
  }
  return out;
}

void save_word2vec_text(const std::string& path, const WordVectors& table) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    MRNN_CHECK(f.good(), "{}: cannot write", tmp);
    const std::string text = word2vec_text(table);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    MRNN_CHECK(f.good(), "{}: cannot write", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  MRNN_CHECK(!ec, "cannot rename '{}' to '{}': {}", tmp, path, ec.message());
}

WordVectors parse_word2vec_text(std::string_view text, const std::string& name) {
  std::vector<std::string> words;
  std::vector<float> values;
  std::unordered_set<std::string> seen;
  int64_t n = -1, dim = -1, line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto f = fields_of(line);
    if (n < 0) {
      MRNN_CHECK(f.size() == 2 && parse_int(f[0], n) && parse_int(f[1], dim) && dim >= 1,
                 "{}:{}: expected the word2vec header 'V D' (two integers, D >= 1), got '{}'", name, line_no, line);
      continue;
    }
    if (f.empty()) continue;  // a blank line (e.g. at the end)
    MRNN_CHECK(static_cast<int64_t>(f.size()) == dim + 1,
               "{}:{}: dimension mismatch: word '{}' has {} values, the header says D = {}", name, line_no, f[0],
               f.size() - 1, dim);
    MRNN_CHECK(static_cast<int64_t>(words.size()) < n, "{}:{}: more rows than the header's V = {}", name, line_no, n);
    for (size_t d = 1; d < f.size(); ++d) {
      float v = 0;
      MRNN_CHECK(parse_float(f[d], v), "{}:{}: value {} of word '{}' ('{}') is not a finite number", name, line_no, d,
                 f[0], f[d]);
      values.push_back(v);
    }
    MRNN_CHECK(seen.insert(std::string(f[0])).second, "{}:{}: word '{}' appears twice", name, line_no, f[0]);
    words.emplace_back(f[0]);
  }
  MRNN_CHECK(n >= 0, "{}: empty file (expected the word2vec header 'V D')", name);
  MRNN_CHECK(n >= 1, "{}: the header says V = 0: no words", name);
  MRNN_CHECK(static_cast<int64_t>(words.size()) == n, "{}: the header says V = {} words but the file has {}", name, n,
             words.size());
  return WordVectors(std::move(words), std::move(values), dim, name);
}

WordVectors load_word2vec_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  MRNN_CHECK(f.good(), "{}: cannot open file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_word2vec_text(ss.str(), path);
}

}  // namespace mrnn
