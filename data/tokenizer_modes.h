// The two tokenizer modes of data/tokenizer.h on decoded text (internal to data/).
#pragma once
#include <string>
#include <vector>

namespace mrnn::tokenizer_detail {

// Word mode (data/ptb_tokenizer.cpp): PTBLexer 3.4.1 as pycocoevalcap runs it, then its
// punctuation filter, then a whitespace split.
// Requires: text holds code points (valid, as decode_utf8 gives them).
// Ensures: what tokenize(text, TokenizerMode::word) promises in data/tokenizer.h.
std::vector<std::string> tokenize_word(const std::u32string& text);

// Character mode (data/char_tokenizer.cpp).
// Requires: as tokenize_word. Ensures: what tokenize(text, TokenizerMode::character) promises.
std::vector<std::string> tokenize_char(const std::u32string& text);

}  // namespace mrnn::tokenizer_detail
