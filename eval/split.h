// The two ways pycocoevalcap splits a tokenized caption into words.
// Why: BLEU and CIDEr use Python's str.split() and ROUGE-L uses str.split(" "); they differ on
// empty strings and repeated spaces, and exact agreement needs both.
#pragma once
#include <string_view>
#include <vector>

namespace mrnn::eval {

// Python's str.isspace() restricted to ASCII: \t \n \v \f \r, space and \x1c-\x1f.
inline bool is_python_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

// Like Python's s.split(): words separated by runs of whitespace, no empty words.
// Whitespace is is_python_space (non-ASCII Unicode spaces count as word characters).
// Ensures: the views point into s.
void split_whitespace(std::string_view s, std::vector<std::string_view>& words);

// Like Python's s.split(" "): cut at every single space; keeps empty pieces, so "" gives one
// empty word and "a  b" gives {"a", "", "b"}. Ensures: the views point into s.
void split_spaces(std::string_view s, std::vector<std::string_view>& words);

}  // namespace mrnn::eval
