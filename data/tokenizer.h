// Caption tokenizers: `word` reproduces the tokens coco-caption's scorers see, `character` splits
// Chinese/Japanese text into characters. Why: a vocabulary built with one tokenization and scored
// with another silently loses points; training and evaluation must share this one function.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mrnn {

enum class TokenizerMode {
  // Stanford PTBTokenizer 3.4.1 run as pycocoevalcap runs it (-preserveLines -lowerCase), then
  // pycocoevalcap's punctuation filter, then whitespace split as its BLEU/CIDEr scorers do.
  word,
  // One token per CJK (or other non-ASCII, non-punctuation) code point; ASCII letter/digit runs
  // stay one lowercased token; ASCII, CJK and fullwidth punctuation is dropped.
  character,
};

// Parses "word", or "char"/"character". Throws mrnn::Error naming the bad value otherwise.
TokenizerMode parse_tokenizer_mode(std::string_view name);
// "word" or "char".
const char* tokenizer_mode_name(TokenizerMode mode);

// Splits one caption into tokens.
// Requires: text is valid UTF-8; otherwise throws mrnn::Error giving the byte offset of the first
// bad sequence (invalid input is rejected, never repaired).
// Ensures (word): the tokens pycocoevalcap's PTBTokenizer yields for this caption, split on
//   whitespace: lowercased (ASCII, Latin, Greek, Cyrillic, fullwidth), clitics split ("do n't",
//   "dog 's"), the punctuation tokens . , ? ! : ; - -- ... ` `` ' '' removed, brackets kept as
//   -lrb- -rrb- -lsb- -rsb- -lcb- -rcb- (the 3.4.1 jar lowercases them, so pycocoevalcap's filter
//   misses them), characters outside the Basic Multilingual Plane (emoji) dropped.
//   docs/data.md lists the rules.
// Ensures (character): see TokenizerMode::character; fullwidth ASCII (Ａ１) is folded to ASCII
//   first, combining marks stay attached to the character before them.
// No token is empty; no token contains a byte sequence that was not in a code point of the input
// or of the documented replacements.
std::vector<std::string> tokenize(std::string_view text, TokenizerMode mode);

// Offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are invalid), or std::string_view::npos.
std::size_t find_invalid_utf8(std::string_view text);

}  // namespace mrnn
