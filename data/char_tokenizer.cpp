// Character-mode tokenization: one token per CJK (or other non-ASCII, non-punctuation) code point,
// ASCII letter/digit runs as one lowercased token, punctuation dropped (see data/tokenizer.h).
#include "data/java_lowercase.h"
#include "data/tokenizer_modes.h"
#include "data/unicode_tables.h"
#include "data/utf8.h"

namespace mrnn::tokenizer_detail {
namespace {

bool is_combining_mark(char32_t c) {
  return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
         (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F) || c == 0x3099 || c == 0x309A;
}

// Whitespace, control and invisible format characters: separate tokens, never become one.
bool is_char_mode_blank(char32_t c) {
  return c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0x1680 || (c >= 0x2000 && c <= 0x200F) ||
         (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F) || c == 0x3000 ||
         (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF;
}

bool is_char_mode_punctuation(char32_t c) {
  if (c < 0x80) return !is_ascii_alnum(c);
  if (c >= 0xA1 && c <= 0xBF) return c != 0xAA && c != 0xB5 && c != 0xBA;
  if (c == 0xD7 || c == 0xF7) return true;
  if (c >= 0x2010 && c <= 0x205E) return true;  // general punctuation
  if (c >= 0x3001 && c <= 0x303F)                 // CJK symbols and punctuation
    return !(c >= 0x3005 && c <= 0x3007) && !(c >= 0x3021 && c <= 0x3029) &&
           !(c >= 0x3031 && c <= 0x3035) && c != 0x303B && c != 0x303C;
  if (c == 0x30FB) return true;                                          // katakana middle dot
  if ((c >= 0xFE10 && c <= 0xFE19) || (c >= 0xFE30 && c <= 0xFE6B)) return true;  // CJK forms
  if ((c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
      (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65))
    return true;  // fullwidth punctuation
  return false;
}

}  // namespace

std::vector<std::string> tokenize_char(const U32& text) {
  std::vector<std::string> out;
  U32 ascii_run;
  auto flush = [&]() {
    if (!ascii_run.empty()) out.push_back(encode_utf8(ascii_run));
    ascii_run.clear();
  };
  bool can_attach = false;  // a combining mark may join the last token
  for (char32_t c : text) {
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // fullwidth ASCII -> ASCII
    if (is_ascii_alnum(c)) {
      ascii_run.push_back(ascii_lower(c));
      can_attach = true;
      continue;
    }
    if (is_combining_mark(c)) {
      if (!ascii_run.empty()) {
        // A mark on an ASCII letter ends the run there: "cafe\u0301" -> "caf", "e\u0301".
        const char32_t base = ascii_run.back();
        ascii_run.pop_back();
        flush();
        U32 cluster{base, c};
        out.push_back(encode_utf8(cluster));
      } else if (can_attach && !out.empty()) {
        append_utf8(out.back(), c);
      }
      continue;
    }
    flush();
    if (is_char_mode_blank(c) || is_char_mode_punctuation(c)) {
      can_attach = false;
      continue;
    }
    U32 one{lower_one(c)};
    out.push_back(encode_utf8(one));
    can_attach = true;
  }
  flush();
  return out;
}

}  // namespace mrnn::tokenizer_detail
