// Word <-> id mapping with the four special tokens every model uses, built from tokenized
// captions with a minimum count and stored as a UTF-8 text file, one token per line.
// Why: ids must be identical between training, checkpoints and evaluation; a deterministic
// build and a plain-text file that is checked on load make that easy to guarantee and inspect.
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mrnn {

// The special token ids, defined here once for the whole library: models use them, decoders take
// them as defaults (models/engine/step_decoder.h), kernels get them as parameters.
constexpr int64_t kPadId = 0;  // "<pad>": fills batches after a sentence ends
constexpr int64_t kUnkId = 1;  // "<unk>": any token not in the vocabulary
constexpr int64_t kBosId = 2;  // "<bos>": the start sign fed before the first word
constexpr int64_t kEosId = 3;  // "<eos>": the end sign predicted after the last word

class Vocab {
 public:
  // The same ids as the 32-bit values a Vocab stores.
  static constexpr int32_t kPad = static_cast<int32_t>(kPadId);
  static constexpr int32_t kUnk = static_cast<int32_t>(kUnkId);
  static constexpr int32_t kBos = static_cast<int32_t>(kBosId);
  static constexpr int32_t kEos = static_cast<int32_t>(kEosId);
  static constexpr int32_t kNumSpecials = 4;
  // The spellings of the special tokens, indexed by id.
  static const char* special_token(int32_t id);

  // Ensures: size() == 4, holding only the special tokens.
  Vocab();

  // Counts every token of `sentences`, keeps those seen at least min_count times and numbers
  // them from 4 by count (descending), ties broken by the token's bytes (ascending).
  // Requires: min_count >= 1; tokens are non-empty and contain no line break (else Error).
  // Ensures: deterministic for a given multiset of tokens; a token spelled like a special token
  // maps to that special id and is not added again.
  static Vocab build(const std::vector<std::vector<std::string>>& sentences, int64_t min_count);
  // Same from precomputed counts.
  static Vocab from_counts(const std::unordered_map<std::string, int64_t>& counts,
                           int64_t min_count);

  // Appends `token` if absent (e.g. a novel word for NVCS) and returns its id.
  // Requires: token non-empty without line break (else Error).
  int32_t add(const std::string& token);

  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  bool contains(std::string_view token) const;
  // The id of token, or kUnk when it is not in the vocabulary.
  int32_t id(std::string_view token) const;
  // The token of id. Requires 0 <= id < size() (else Error naming the id and the size).
  const std::string& token(int32_t id) const;
  const std::vector<std::string>& tokens() const { return tokens_; }
  std::vector<std::string> decode_i64(const std::vector<int64_t>& ids) const;  // ids checked in range

  // Ids of tokens (unknown ones become kUnk), framed by kBos / kEos when asked. When unknown is
  // given, the number of tokens that were not in the vocabulary is added to it: <unk> silently
  // stands in for them otherwise.
  std::vector<int32_t> encode(const std::vector<std::string>& tokens, bool add_bos = false, bool add_eos = false,
                              int64_t* unknown = nullptr) const;
  // Tokens of ids: stops at the first kEos and skips kPad and kBos (kUnk stays "<unk>").
  // Requires every id visited to be in [0, size()) (else Error).
  std::vector<std::string> decode(const std::vector<int32_t>& ids) const;
  // The same for i64 ids (a decoder's Caption::ids): no cast needed at the call site. A template
  // only so that decode({4, 5}) still picks the i32 form instead of being ambiguous.
  template <typename I, typename = std::enable_if_t<std::is_same_v<I, int64_t>>>
  std::vector<std::string> decode(const std::vector<I>& ids) const { return decode_i64(ids); }

  // Writes one token per line (id = line number - 1), UTF-8, '\n' line ends. Throws Error naming
  // the file when it cannot be written; the file is replaced atomically.
  void save(const std::string& path) const;
  // Reads a file written by save(). Accepts '\r\n' line ends, a UTF-8 byte order mark and a
  // missing final line end. Throws Error naming the file and the line for: unreadable file, empty
  // file, first four lines not "<pad>" "<unk>" "<bos>" "<eos>", empty line, duplicate token,
  // invalid UTF-8.
  static Vocab load(const std::string& path);
  // Same from the text of such a file; `name` stands for the file in messages.
  static Vocab parse(std::string_view text, const std::string& name);

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace mrnn
