// Java's String.toLowerCase for the scripts captions use (see data/java_lowercase.h).
#include "data/java_lowercase.h"

#include <cstddef>

#include "data/unicode_tables.h"

namespace mrnn::tokenizer_detail {

char32_t lower_one(char32_t c) {
  if (c < 0x80) return ascii_lower(c);
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c >= 0x100 && c <= 0x137) return c | 1;
  if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
  if (c >= 0x14A && c <= 0x177) return c | 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
  if (c == 0x1C4 || c == 0x1C5) return 0x1C6;
  if (c == 0x1C7 || c == 0x1C8) return 0x1C9;
  if (c == 0x1CA || c == 0x1CB) return 0x1CC;
  if (c >= 0x1CD && c <= 0x1DC) return (c & 1) ? c + 1 : c;
  if (c >= 0x1DE && c <= 0x1EF) return c | 1;
  if (c == 0x1F1 || c == 0x1F2) return 0x1F3;
  if (c >= 0x1F8 && c <= 0x21F) return c | 1;
  if (c >= 0x222 && c <= 0x233) return c | 1;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x460 && c <= 0x481) return c | 1;
  if (c >= 0x48A && c <= 0x4BF) return c | 1;
  if (c == 0x4C0) return 0x4CF;
  if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
  if (c >= 0x4D0 && c <= 0x52F) return c | 1;
  if (c >= 0x531 && c <= 0x556) return c + 48;
  if (c >= 0x10A0 && c <= 0x10C5) return c + 0x1C60;
  if (c >= 0x1E00 && c <= 0x1E95) return c | 1;
  if (c == 0x1E9E) return 0xDF;
  if (c >= 0x1EA0 && c <= 0x1EFF) return c | 1;
  if (c >= 0x2160 && c <= 0x216F) return c + 16;
  if (c >= 0x24B6 && c <= 0x24CF) return c + 26;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}

namespace {

// Letters with case (the condition of Java's final-sigma rule).
bool is_cased(char32_t c) {
  return is_ascii_letter(c) || c == 0xAA || c == 0xB5 || c == 0xBA ||
         (c >= 0xC0 && c <= 0x2AF && c != 0xD7 && c != 0xF7) || (c >= 0x370 && c <= 0x3FF) ||
         (c >= 0x400 && c <= 0x52F) || (c >= 0x531 && c <= 0x587) ||
         (c >= 0x10A0 && c <= 0x10FF) || (c >= 0x1E00 && c <= 0x1FFF) ||
         (c >= 0x2C00 && c <= 0x2C5F) || (c >= 0xFF21 && c <= 0xFF3A) ||
         (c >= 0xFF41 && c <= 0xFF5A);
}
// Characters that continue a word for Java's word BreakIterator (ideographs and kana break).
bool continues_word(char32_t c) {
  const bool cjk = (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) ||
                   (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
                   (c >= 0x31F0 && c <= 0x31FF) || (c >= 0xFF66 && c <= 0xFF9F);
  return (is_ptb_letter(c) && !cjk) || is_digit(c) || c == '_' || c == 0xB2 || c == 0xB3 ||
         c == 0xB9;
}
bool is_mid_letter(char32_t c) {
  return c == '.' || c == '\'' || c == ':' || c == '-' || c == 0x2010 || c == 0x2011 ||
         c == 0x2024;
}
// Java lowercases capital sigma to final sigma when a cased letter precedes it and none follows
// it within the same word.
bool is_final_sigma(const std::u32string& s, std::size_t k) {
  auto cased_within_word = [&s, k](int step) {
    std::size_t j = k;
    for (;;) {
      if ((step < 0 && j == 0) || (step > 0 && j + 1 >= s.size())) return false;
      const std::size_t prev = j;
      j = step < 0 ? j - 1 : j + 1;
      const char32_t c = s[j];
      if (is_cased(c)) return true;
      if (continues_word(c)) continue;
      const bool has_next = step < 0 ? j > 0 : j + 1 < s.size();
      if (is_mid_letter(c) && has_next && continues_word(s[prev]) &&
          continues_word(step < 0 ? s[j - 1] : s[j + 1]))
        continue;
      return false;
    }
  };
  return cased_within_word(-1) && !cased_within_word(+1);
}

}  // namespace

std::u32string java_lower(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t k = 0; k < s.size(); ++k) {
    const char32_t c = s[k];
    if (c == 0x130) {  // capital I with dot: "i" + combining dot above
      out.push_back('i');
      out.push_back(0x307);
    } else if (c == 0x3A3) {
      out.push_back(is_final_sigma(s, k) ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(lower_one(c));
    }
  }
  return out;
}

}  // namespace mrnn::tokenizer_detail
