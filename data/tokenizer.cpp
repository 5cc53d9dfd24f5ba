// The tokenizer front door (data/tokenizer.h): mode names and the dispatch to the two modes.
// UTF-8: data/utf8.cpp. Word mode: data/ptb_tokenizer.cpp over the PTB lexer emulation
// (data/ptb_lexer.h, data/ptb_lexer.cpp, data/ptb_lexer_rules.cpp). Character mode:
// data/char_tokenizer.cpp. Character classes and case mapping: data/unicode_tables.h,
// data/java_lowercase.h.
#include "data/tokenizer.h"

#include <string>

#include "core/error.h"
#include "data/tokenizer_modes.h"
#include "data/utf8.h"

namespace mrnn {

TokenizerMode parse_tokenizer_mode(std::string_view name) {
  if (name == "word") return TokenizerMode::word;
  if (name == "char" || name == "character") return TokenizerMode::character;
  MRNN_FAIL("unknown tokenizer mode '{}': expected \"word\" or \"char\"", name);
}

const char* tokenizer_mode_name(TokenizerMode mode) {
  return mode == TokenizerMode::word ? "word" : "char";
}

std::vector<std::string> tokenize(std::string_view text, TokenizerMode mode) {
  const std::u32string decoded = tokenizer_detail::decode_utf8(text);
  return mode == TokenizerMode::word ? tokenizer_detail::tokenize_word(decoded)
                                     : tokenizer_detail::tokenize_char(decoded);
}

}  // namespace mrnn
