// Word-mode tokenization: a caption through the PTB lexer emulation (data/ptb_lexer.h) the way
// pycocoevalcap's PTBTokenizer runs the jar, then its punctuation filter and a whitespace split.
#include <algorithm>
#include <array>

#include "data/java_lowercase.h"
#include "data/ptb_lexer.h"
#include "data/tokenizer_modes.h"
#include "data/utf8.h"

namespace mrnn::tokenizer_detail {
namespace {

// pycocoevalcap's PUNCTUATIONS, compared after -lowerCase (so "-LRB-" never matches).
bool is_dropped_punctuation(const U32& t) {
  static const std::array<U32, 17> kDrop = {U"''", U"'", U"``", U"`", U"-LRB-", U"-RRB-",
                                            U"-LCB-", U"-RCB-", U".", U"?", U"!", U",",
                                            U":", U"-", U"--", U"...", U";"};
  return std::find(kDrop.begin(), kDrop.end(), t) != kDrop.end();
}

// Python's str.isspace() code points (what str.split() splits on).
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

// Turns surrogate pairs back into code points; drops a surrogate whose partner is in another token.
U32 join_surrogates(const U32& s) {
  U32 out;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const char32_t c = s[k];
    if (c >= 0xD800 && c <= 0xDBFF && k + 1 < s.size() && s[k + 1] >= 0xDC00 && s[k + 1] <= 0xDFFF) {
      out.push_back(0x10000 + ((c - 0xD800) << 10) + (s[k + 1] - 0xDC00));
      ++k;
    } else if (c < 0xD800 || c > 0xDFFF) {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> tokenize_word(const U32& text) {
  // Java lexes UTF-16 code units: a code point above U+FFFF becomes a surrogate pair, which no
  // rule but the negated classes (URLs, e-mail) accepts. pycocoevalcap writes one caption per
  // line, so a caption is lexed as if a line break follows it.
  U32 lexed;
  lexed.reserve(text.size() + 1);
  for (char32_t c : text) {
    if (c > 0xFFFF) {
      lexed.push_back(0xD800 + ((c - 0x10000) >> 10));
      lexed.push_back(0xDC00 + ((c - 0x10000) & 0x3FF));
    } else {
      lexed.push_back(c);
    }
  }
  lexed.push_back('\n');
  std::vector<U32> raw;
  PtbLexer(lexed).run(raw);
  std::vector<std::string> out;
  for (const U32& token : raw) {
    const U32 lower = java_lower(join_surrogates(token));
    if (is_dropped_punctuation(lower)) continue;
    U32 part;
    for (char32_t c : lower) {
      if (is_python_space(c)) {
        if (!part.empty()) out.push_back(encode_utf8(part));
        part.clear();
      } else {
        part.push_back(c);
      }
    }
    if (!part.empty()) out.push_back(encode_utf8(part));
  }
  return out;
}

}  // namespace mrnn::tokenizer_detail
