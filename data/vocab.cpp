#include "data/vocab.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "data/tokenizer.h"

namespace mrnn {

namespace {
constexpr const char* kSpecials[Vocab::kNumSpecials] = {"<pad>", "<unk>", "<bos>", "<eos>"};

void check_token(const std::string& token) {
  MRNN_CHECK(!token.empty(), "vocabulary token must not be empty");
  MRNN_CHECK(token.find_first_of("\r\n") == std::string::npos,
             "vocabulary token \"{}\" contains a line break", token);
}
}  // namespace

const char* Vocab::special_token(int32_t id) {
  MRNN_CHECK(id >= 0 && id < kNumSpecials, "special token id {} out of range [0, {})", id,
             kNumSpecials);
  return kSpecials[id];
}

Vocab::Vocab() {
  for (int32_t i = 0; i < kNumSpecials; ++i) {
    tokens_.emplace_back(kSpecials[i]);
    ids_.emplace(kSpecials[i], i);
  }
}

Vocab Vocab::from_counts(const std::unordered_map<std::string, int64_t>& counts,
                         int64_t min_count) {
  MRNN_CHECK(min_count >= 1, "Vocab: min_count must be >= 1, got {}", min_count);
  std::vector<std::pair<const std::string*, int64_t>> kept;
  for (const auto& [token, count] : counts) {
    check_token(token);
    if (count >= min_count) kept.emplace_back(&token, count);
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return *a.first < *b.first;  // std::string compares bytes as unsigned char
  });
  Vocab v;
  for (const auto& [token, count] : kept) v.add(*token);
  return v;
}

Vocab Vocab::build(const std::vector<std::vector<std::string>>& sentences, int64_t min_count) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& sentence : sentences)
    for (const auto& token : sentence) ++counts[token];
  return from_counts(counts, min_count);
}

int32_t Vocab::add(const std::string& token) {
  check_token(token);
  const auto it = ids_.find(token);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<int32_t>(tokens_.size());
  tokens_.push_back(token);
  ids_.emplace(token, id);
  return id;
}

bool Vocab::contains(std::string_view token) const { return ids_.count(std::string(token)) > 0; }

int32_t Vocab::id(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocab::token(int32_t id) const {
  MRNN_CHECK(id >= 0 && id < size(), "Vocab: token id {} out of range [0, {})", id, size());
  return tokens_[static_cast<std::size_t>(id)];
}

std::vector<int32_t> Vocab::encode(const std::vector<std::string>& tokens, bool add_bos, bool add_eos,
                                   int64_t* unknown) const {
  std::vector<int32_t> ids;
  ids.reserve(tokens.size() + 2);
  if (add_bos) ids.push_back(kBos);
  for (const auto& t : tokens) {
    ids.push_back(id(t));
    if (unknown && ids.back() == kUnk && t != token(kUnk)) ++*unknown;
  }
  if (add_eos) ids.push_back(kEos);
  return ids;
}

std::vector<std::string> Vocab::decode(const std::vector<int32_t>& ids) const {
  std::vector<std::string> out;
  for (int32_t i : ids) {
    if (i == kEos) break;
    const std::string& t = token(i);
    if (i == kPad || i == kBos) continue;
    out.push_back(t);
  }
  return out;
}

std::vector<std::string> Vocab::decode_i64(const std::vector<int64_t>& ids) const {
  std::vector<int32_t> narrow_ids;
  narrow_ids.reserve(ids.size());
  for (int64_t i : ids) {
    MRNN_CHECK(i >= 0 && i < size(), "Vocab::decode: id {} is outside the vocabulary [0, {})", i, size());
    narrow_ids.push_back(static_cast<int32_t>(i));
  }
  return decode(narrow_ids);
}

void Vocab::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MRNN_CHECK(out.good(), "cannot write vocabulary file '{}': {}", tmp, std::strerror(errno));
    for (const auto& t : tokens_) out << t << '\n';
    out.flush();
    MRNN_CHECK(out.good(), "error writing vocabulary file '{}'", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    MRNN_FAIL("cannot replace vocabulary file '{}': {}", path, std::strerror(err));
  }
}

Vocab Vocab::parse(std::string_view text, const std::string& name) {
  MRNN_CHECK(!text.empty(), "vocabulary file '{}' is empty: expected the special tokens <pad> "
             "<unk> <bos> <eos> on its first four lines", name);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    MRNN_FAIL("vocabulary file '{}', line {}: invalid UTF-8", name, line);
  }
  Vocab v;
  v.tokens_.clear();
  v.ids_.clear();
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    MRNN_CHECK(!line.empty(), "vocabulary file '{}', line {}: empty token", name, line_no);
    MRNN_CHECK(line.find('\r') == std::string_view::npos,
               "vocabulary file '{}', line {}: carriage return inside a token", name, line_no);
    std::string token(line);
    if (line_no <= static_cast<std::size_t>(kNumSpecials)) {
      MRNN_CHECK(token == kSpecials[line_no - 1],
                 "vocabulary file '{}', line {}: expected the special token \"{}\" (id {}), found "
                 "\"{}\"", name, line_no, kSpecials[line_no - 1], line_no - 1, token);
    }
    const auto [it, inserted] = v.ids_.emplace(token, static_cast<int32_t>(v.tokens_.size()));
    MRNN_CHECK(inserted, "vocabulary file '{}', line {}: duplicate token \"{}\" (first on line {})",
               name, line_no, token, it->second + 1);
    v.tokens_.push_back(std::move(token));
  }
  MRNN_CHECK(v.size() >= kNumSpecials, "vocabulary file '{}' has {} lines: expected at least the "
             "special tokens <pad> <unk> <bos> <eos>", name, v.size());
  return v;
}

Vocab Vocab::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MRNN_CHECK(in.good(), "vocabulary file '{}' cannot be read: {}", path, std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse(buf.str(), path);
}

}  // namespace mrnn
