// Word mode emulates the JFlex lexer inside Stanford CoreNLP 3.4.1 (edu.stanford.nlp.process.
// PTBLexer, default options plus lowerCase), the jar pycocoevalcap ships. Only its behaviour is
// reproduced here, rule by rule, with the same conflict resolution as JFlex: at each position the
// rule with the longest match (counting trailing context) wins; ties go to the earlier rule.
// The rules and lists were checked against the jar (tests/fixtures/datatext/tokenizer_golden.json).
#include "data/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/error.h"

namespace mrnn {
namespace {

using namespace std::string_view_literals;

using U32 = std::u32string;
constexpr char32_t kEnd = 0xFFFFFFFFu;     // "past the end" sentinel: matches no class

// ---- UTF-8 ------------------------------------------------------------------------------------

// Decodes one code point at text[i]; returns its byte length, or 0 if the sequence is invalid.
std::size_t decode_one(std::string_view text, std::size_t i, char32_t* out) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) { *out = b0; return 1; }
  std::size_t len;
  char32_t cp, min;
  if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; min = 0x80; }
  else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; min = 0x800; }
  else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; min = 0x10000; }
  else return 0;
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *out = cp;
  return len;
}

U32 decode_utf8(std::string_view text) {
  U32 out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_one(text, i, &cp);
    MRNN_CHECK(len != 0, "tokenize: invalid UTF-8 at byte offset {} of a {}-byte caption", i,
               text.size());
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(const U32& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

// ---- character classes ------------------------------------------------------------------------

struct Range { char32_t lo, hi; };

template <std::size_t N>
bool in_table(char32_t c, const Range (&table)[N]) {
  const Range* it = std::upper_bound(table, table + N, c,
                                     [](char32_t v, const Range& r) { return v < r.lo; });
  return it != table && c <= (it - 1)->hi;
}

// Java's Character.isLetter over the BMP for the scripts that matter, plus the extra code points
// PTBLexer's LETTER class admits (soft hyphen, spacing modifiers, combining marks).
constexpr Range kLetters[] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xAA, 0xAA}, {0xAD, 0xAD}, {0xB5, 0xB5}, {0xBA, 0xBA},
    {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x37D}, {0x384, 0x386}, {0x388, 0x3F5}, {0x3F6, 0x481},
    {0x483, 0x487}, {0x48A, 0x52F}, {0x531, 0x556}, {0x559, 0x55F}, {0x561, 0x587},
    {0x591, 0x5BD}, {0x5BF, 0x5BF}, {0x5C1, 0x5C2}, {0x5C4, 0x5C5}, {0x5C7, 0x5C7},
    {0x5D0, 0x5EA}, {0x5F0, 0x5F2}, {0x610, 0x61A}, {0x620, 0x65F}, {0x66E, 0x6D3},
    {0x6D5, 0x6DC}, {0x6DF, 0x6EF}, {0x6FA, 0x6FF}, {0x70F, 0x74F}, {0x750, 0x7B1},
    {0x7CA, 0x7F5}, {0x7FA, 0x7FA}, {0x900, 0x963}, {0x971, 0x97F}, {0x981, 0x9E3},
    {0x9F0, 0x9F1}, {0xA01, 0xA63}, {0xA70, 0xA75}, {0xA81, 0xAE3}, {0xB01, 0xB63},
    {0xB71, 0xB71}, {0xB82, 0xBD7}, {0xC01, 0xC63}, {0xC80, 0xCE3}, {0xD01, 0xD63},
    {0xD7A, 0xD7F}, {0xD82, 0xDF3}, {0xE01, 0xE3A}, {0xE40, 0xE4E}, {0xE81, 0xECD},
    {0xF00, 0xF00}, {0xF40, 0xF6C}, {0xF88, 0xF8C}, {0x1000, 0x103F}, {0x10A0, 0x10FF},
    {0x1100, 0x135A}, {0x13A0, 0x13F4}, {0x1401, 0x166C}, {0x1780, 0x17B3}, {0x1820, 0x1877},
    {0x1E00, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FCC}, {0x1FD0, 0x1FDB}, {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FFC}, {0x2071, 0x2071}, {0x207F, 0x207F}, {0x2090, 0x209C}, {0x2C00, 0x2CE4},
    {0x2D00, 0x2D25}, {0x2D30, 0x2D67}, {0x2D80, 0x2DDE}, {0x3005, 0x3006}, {0x3031, 0x3035},
    {0x303B, 0x303C}, {0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA}, {0x30FC, 0x30FF},
    {0x3105, 0x312F}, {0x3131, 0x318E}, {0x31A0, 0x31BF}, {0x31F0, 0x31FF}, {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF}, {0xA000, 0xA48C}, {0xA4D0, 0xA4FD}, {0xA500, 0xA60C}, {0xA640, 0xA66E},
    {0xA67F, 0xA697}, {0xA717, 0xA71F}, {0xA722, 0xA788}, {0xA78B, 0xA7FF}, {0xAC00, 0xD7A3},
};
constexpr Range kLettersHigh[] = {
    {0xF900, 0xFAFF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFB1D, 0xFB28}, {0xFB2A, 0xFDFB},
    {0xFE70, 0xFEFC}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0xFF66, 0xFFDC},
};

constexpr Range kDigits[] = {
    {0x30, 0x39}, {0x660, 0x669}, {0x6F0, 0x6F9}, {0x7C0, 0x7C9}, {0x966, 0x96F},
    {0x9E6, 0x9EF}, {0xA66, 0xA6F}, {0xAE6, 0xAEF}, {0xB66, 0xB6F}, {0xBE6, 0xBEF},
    {0xC66, 0xC6F}, {0xCE6, 0xCEF}, {0xD66, 0xD6F}, {0xE50, 0xE59}, {0xED0, 0xED9},
    {0xF20, 0xF29}, {0x1040, 0x1049}, {0x17E0, 0x17E9}, {0x1810, 0x1819}, {0xFF10, 0xFF19},
};

// Code points PTBLexer's LETTER adds to JFlex's [:letter:] (whose Unicode tables were older than
// Java's): the soft hyphen, spacing modifiers, combining marks and some later-added letters.
constexpr Range kLetterExtras[] = {
    {0xAD, 0xAD}, {0x237, 0x24F}, {0x2C2, 0x2C5}, {0x2D2, 0x2DF}, {0x2E5, 0x2FF}, {0x300, 0x37D},
    {0x384, 0x385}, {0x3CF, 0x3CF}, {0x3F6, 0x3F6}, {0x3FC, 0x3FF}, {0x483, 0x487}, {0x4CF, 0x4CF},
    {0x4F6, 0x4FF}, {0x510, 0x525}, {0x55A, 0x55F}, {0x591, 0x5BD}, {0x5BF, 0x5BF}, {0x5C1, 0x5C2},
    {0x5C4, 0x5C5}, {0x5C7, 0x5C7}, {0x615, 0x61A}, {0x63B, 0x63F}, {0x64B, 0x65E}, {0x670, 0x670},
    {0x6D6, 0x6EF}, {0x6FA, 0x6FF}, {0x70F, 0x70F}, {0x711, 0x711}, {0x730, 0x77F}, {0x7A6, 0x7B1},
    {0x7CA, 0x7F5}, {0x7FA, 0x7FA}, {0x900, 0x903}, {0x93C, 0x93C}, {0x93E, 0x94E}, {0x951, 0x955},
    {0x962, 0x963}, {0x981, 0x983}, {0x9BC, 0x9C4}, {0x9C7, 0x9C8}, {0x9CB, 0x9CD}, {0x9D7, 0x9D7},
    {0x9E2, 0x9E3}, {0xA01, 0xA03}, {0xA3C, 0xA3C}, {0xA3E, 0xA4F}, {0xA81, 0xA83}, {0xABC, 0xACF},
    {0xB82, 0xB82}, {0xBBE, 0xBC2}, {0xBC6, 0xBC8}, {0xBCA, 0xBCD}, {0xC01, 0xC03}, {0xC3E, 0xC56},
    {0xD3E, 0xD44}, {0xD46, 0xD48}, {0xE30, 0xE3A}, {0xE47, 0xE4E}, {0xEB1, 0xEBC}, {0xEC8, 0xECD},
};

bool is_digit(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return c != kEnd && in_table(c, kDigits);
}
// JFlex's [:letter:] as PTBLexer 3.4.1 saw it.
bool is_letter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c == kEnd || is_digit(c) || in_table(c, kLetterExtras)) return false;
  return in_table(c, kLetters) || in_table(c, kLettersHigh);
}
// PTBLexer's LETTER: [:letter:] plus the extras.
bool is_ptb_letter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return c != kEnd && (is_letter(c) || in_table(c, kLetterExtras));
}
bool is_alnum(char32_t c) { return is_letter(c) || is_digit(c); }
bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_ascii_alnum(char32_t c) { return is_ascii_letter(c) || is_ascii_digit(c); }
bool is_ascii_upper(char32_t c) { return c >= 'A' && c <= 'Z'; }
bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x3000;
}
bool is_newline(char32_t c) {
  return c == '\r' || c == '\n' || c == 0x2028 || c == 0x2029 || c == 0x0B || c == 0x0C;
}
bool is_spacenl(char32_t c) { return is_space(c) || is_newline(c); }
bool is_apos(char32_t c) { return c == '\'' || c == 0x92 || c == 0x2019; }
bool is_apos_etc(char32_t c) {
  return is_apos(c) || c == '`' || c == 0x91 || c == 0x2018 || c == 0x201B;
}
bool is_insentp(char32_t c) { return c == ',' || c == ';' || c == ':' || c == 0x3001; }
bool one_of(char32_t c, std::string_view set) {
  return c < 0x80 && set.find(static_cast<char>(c)) != std::string_view::npos;
}
char32_t ascii_lower(char32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// MISCSYMBOL of PTBLexer 3.4.1 plus its one-character symbol rules (+ % & ~ ^ | \ per mille).
constexpr Range kMiscSymbols[] = {
    {0x25, 0x26}, {0x2B, 0x2B}, {0x5C, 0x5C}, {0x5E, 0x5E}, {0x7C, 0x7C}, {0x7E, 0x7E},
    {0xA6, 0xA9}, {0xAC, 0xAC}, {0xAE, 0xBA}, {0xD7, 0xD7}, {0xF7, 0xF7}, {0x387, 0x387},
    {0x5BE, 0x5BE}, {0x5C0, 0x5C0}, {0x5C3, 0x5C3}, {0x5C6, 0x5C6}, {0x5F3, 0x5F4},
    {0x600, 0x603}, {0x606, 0x60A}, {0x60C, 0x60C}, {0x614, 0x614}, {0x61B, 0x61B},
    {0x61E, 0x61E}, {0x66A, 0x66A}, {0x66D, 0x66D}, {0x703, 0x70D}, {0x7F6, 0x7F8},
    {0x964, 0x965}, {0xE4F, 0xE4F}, {0x2020, 0x2023}, {0x2030, 0x2038}, {0x203B, 0x203B},
    {0x2044, 0x2044},
};
constexpr Range kMiscSymbolsHigh[] = {
    {0x207A, 0x207F}, {0x208A, 0x208E}, {0x2100, 0x214F}, {0x2190, 0x2BFF}, {0x3001, 0x3002},
    {0x3012, 0x3012}, {0x30FB, 0x30FB}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40},
    {0xFF5B, 0xFF65}, {0xFFE0, 0xFFE6}, {0xFFE8, 0xFFEE},
};
bool is_misc_symbol(char32_t c) {
  return c != kEnd && (in_table(c, kMiscSymbols) || in_table(c, kMiscSymbolsHigh));
}

// ---- lowercasing (Java's String.toLowerCase for the scripts captions use) ----------------------

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
bool is_final_sigma(const U32& s, std::size_t k) {
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

U32 java_lower(const U32& s) {
  U32 out;
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

// ---- the PTB lexer ----------------------------------------------------------------------------

// Rules in PTBLexer's order; the order breaks ties between equally long matches.
enum Rule : int {
  kNoRule, kProgLang, kAssim3, kAssim2, kSgml, kSpmDash, kSpAmp, kSpPunc, kWordRedaux,
  kSwordSredaux, kWord, kApoWord, kApoWord2, kFullUrl, kLikelyUrl, kEmail, kTwitter,
  kRedauxCtx, kSredauxCtx, kDate, kNumber, kSubSupNum, kFrac, kFrac2, kTbSpec, kThing3,
  kDolSign, kDolSign2, kAcronym, kAbbrev3, kAbbrevSN, kPtyLtd, kAbbrev1Rule, kAbbrev2Rule, kTbSpec2, kWordDot,
  kPhone, kDblQuotLeft, kDblQuot, kLessGreater, kSmiley, kAsianSmiley, kBracket, kHyphens,
  kLdots, kFnMarks, kAsts, kInSentP, kBangs, kPunct, kEquals, kSlash, kHThingDot, kHThing,
  kThingDot, kThing, kThingADot, kThingA, kQuoteLeft, kRedaux, kSredaux, kQuotes, kFakeDuckFeet,
  kMiscSymbol, kSkip, kUntokenizable,
};

// Abbreviations PTBLexer 3.4.1 keeps with their period ("etc." "mr."). Letters are matched
// case-insensitively except one written after '=', which must match exactly (e.g. "=Mass" keeps
// "Mass." and "MASS." but not "mass."). ABBREV1 entries (usually followed by lower case) also
// claim two characters of trailing context, which lets "etc.a" beat the word "etc.a".
constexpr std::string_view kAbbrev1[] = {
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Mon",
    "Tue", "Tues", "Wed", "Thu", "Thurs", "Fri", "Ala", "Ariz", "=Az", "=Ark", "Calif", "Colo",
    "Conn", "Ct", "Dak", "=Del", "Fla", "Ga", "=Ill", "Ind", "Kan", "Kans", "Ky", "=La", "=Mass",
    "Md", "Mich", "Minn", "=Miss", "Mo", "Mont", "Neb", "Nev", "Okla", "=Ore", "=Pa", "Penn",
    "Tenn", "=Tex", "Va", "Vt", "=Wash", "Wis", "Wisc", "Wyo", "Inc", "Co", "Cos", "Corp",
    "Pt=y", "Pt=ys", "Pt=e", "Pt=es", "Ppt=y", "Ppt=ys", "Ppt=e", "Ppt=es", "Ltd", "Plc", "Rt",
    "Bancorp", "Bhd", "Assn", "Univ", "Intl", "Sys", "tel", "est", "ext", "sq", "Jr", "Sr",
    "Bros", "Ed.D", "Ph.D", "Blvd", "Rd", "Esq", "etc", "al", "seq", "Bldg",
};
// ABBREV2 entries (usually followed by a capitalized name); single letters and acronyms
// ("U.S.") join them in abbrev2().
constexpr std::string_view kAbbrev2[] = {
    "ft", "Ph", "Mr", "Mrs", "Ms", "Dr", "Drs", "Prof", "Profs", "Sen", "Sens", "Rep", "Reps",
    "Atty", "Attys", "Lt", "Col", "Gen", "Messrs", "Gov", "Govs", "Adm", "Rev", "Maj", "Sgt", "Cpl",
    "Pvt", "Capt", "St", "Ste", "Ave", "Pres", "Lieut", "Hon", "Brig", "Cmdr", "Comdr", "Pfc",
    "Spc", "Supt", "Supts", "Det", "Mt", "Adj", "Adv", "Asst", "Assoc", "Ens", "Insp", "Mlle", "Mme",
    "Msgr", "Sfc", "vs", "Alex", "Wm", "Jos", "Cie", "cf", "TREAS", "Invt", "Elec", "Natl", "M=fg",
    "M=tg", "Dept",
};
// Abbreviations kept with their period only before a number ("no. 5", "fig. 3").
constexpr std::string_view kNumberAbbreviations[] = {
    "ca", "fig", "figs", "prop", "no", "nos", "art", "bldg", "pp", "op"};
// Words after which "X.Y." is taken to end a sentence (first letter must be upper case).
constexpr std::string_view kSentenceStarters[] = {
    "About", "According", "Additionally", "After", "An", "A", "As", "At", "But", "Earlier", "He",
    "Her", "Here", "However", "If", "In", "It", "Last", "Many", "More", "Mr.", "Ms.", "Now",
    "Once", "One", "Other", "Our", "She", "Since", "So", "Some", "Such", "That", "The", "Then",
    "There", "These", "They", "This", "We", "When", "While", "What", "Yet", "You", "Their"};

class PtbLexer {
 public:
  explicit PtbLexer(const U32& text) : s_(text) {}

  // Appends the raw (not yet lowercased) PTB tokens of the whole text to out.
  void run(std::vector<U32>& out) {
    std::size_t i = 0;
    while (i < s_.size()) {
      best_ = {};
      limit_ = std::min(s_.size(), i + kWindow);
      scan(i);
      std::size_t next = i + best_.len;
      U32 tok = output(i, best_.len, &next);
      if (!tok.empty()) out.push_back(std::move(tok));
      i = next;
    }
  }

 private:
  struct Best { std::size_t total = 0, len = 0; Rule rule = kNoRule; };

  // No match looks further than this past its start, which bounds the work per position (a
  // longer "token" is cut there, as if the text ended).
  static constexpr std::size_t kWindow = 1000;

  const U32& s_;
  Best best_;
  std::size_t limit_ = 0;  // end of the window of the current position

  char32_t at(std::size_t i) const { return i < limit_ ? s_[i] : kEnd; }

  // Offers a match of `len` characters whose whole pattern (with trailing context) spans `total`.
  void offer(Rule rule, std::size_t total, std::size_t len) {
    if (len > 0 && total > best_.total) best_ = {total, len, rule};
  }
  void offer(Rule rule, std::size_t len) { offer(rule, len, len); }

  // Case-insensitive match of an ASCII literal at i; returns its length or 0.
  std::size_t lit(std::size_t i, std::string_view word) const {
    for (std::size_t k = 0; k < word.size(); ++k) {
      const char32_t c = at(i + k);
      if (c == kEnd || ascii_lower(c) != ascii_lower(static_cast<unsigned char>(word[k])))
        return 0;
    }
    return word.size();
  }
  // Like lit, but a letter after '=' in the pattern must match exactly.
  std::size_t pattern(std::size_t i, std::string_view pat) const {
    std::size_t n = 0;
    for (std::size_t k = 0; k < pat.size(); ++k, ++n) {
      const char32_t c = at(i + n);
      if (pat[k] == '=') {
        ++k;
        if (c != static_cast<unsigned char>(pat[k])) return 0;
      } else if (c == kEnd || ascii_lower(c) != ascii_lower(static_cast<unsigned char>(pat[k]))) {
        return 0;
      }
    }
    return n;
  }
  template <typename Pred>
  std::size_t run_of(std::size_t i, Pred pred) const {
    std::size_t j = i;
    while (j < limit_ && pred(s_[j])) ++j;
    return j - i;
  }

  // ---- sub-patterns ----

  // WORD = LETTER (LETTER|DIGIT)* ([.!?] LETTER (LETTER|DIGIT)*)*
  std::size_t word(std::size_t i) const {
    if (!is_ptb_letter(at(i))) return 0;
    std::size_t j = i + 1;
    for (;;) {
      while (is_ptb_letter(at(j)) || is_digit(at(j))) ++j;
      if (one_of(at(j), ".!?") && is_ptb_letter(at(j + 1))) { j += 2; continue; }
      return j - i;
    }
  }
  // REDAUX = APOS (m|s|d|re|ve|ll)
  std::size_t redaux(std::size_t i) const {
    if (!is_apos(at(i))) return 0;
    if (lit(i + 1, "re") || lit(i + 1, "ve") || lit(i + 1, "ll")) return 3;
    return one_of(at(i + 1), "msdMSD") ? 2 : 0;
  }
  // SREDAUX = n APOSETCETERA t
  std::size_t sredaux(std::size_t i) const {
    return (lit(i, "n") && is_apos_etc(at(i + 1)) && lit(i + 2, "t")) ? 3 : 0;
  }
  // ACRO = [A-Za-z](\.[A-Za-z])*: the longest match, or 0. Shorter matches are 2, 4, ... less.
  std::size_t acro(std::size_t i) const {
    if (!is_ascii_letter(at(i))) return 0;
    std::size_t j = i + 1;
    while (at(j) == '.' && is_ascii_letter(at(j + 1))) j += 2;
    return j - i;
  }
  // Length of the longest ACRO (at least min_letters letters) directly followed by '.', plus 1.
  std::size_t acro_dot(std::size_t i, std::size_t min_letters) const {
    for (std::size_t a = acro(i); a >= 2 * min_letters - 1 && a > 0; a = a > 2 ? a - 2 : 0)
      if (at(i + a) == '.') return a + 1;
    return 0;
  }
  // ([dDoOlL] APOSETCETERA alnum)? alnum+ : a THING part such as "o'clock" or "2014".
  std::size_t thing_part(std::size_t i) const {
    std::size_t best = run_of(i, is_alnum);
    if (one_of(at(i), "dDoOlL") && is_apos_etc(at(i + 1)) && is_alnum(at(i + 2))) {
      const std::size_t more = run_of(i + 3, is_alnum);
      if (more) best = std::max(best, 3 + more);
    }
    return best;
  }
  // "/" followed by URL path characters, not ending in punctuation; 0 if absent.
  std::size_t url_path(std::size_t i) const {
    if (at(i) != '/') return 0;
    const std::size_t k = i + 1 + run_of(i + 1, [](char32_t c) {
      return !one_of(c, " \t\n\f\r\"<>|()");
    });
    std::size_t e = k;
    while (e >= i + 3 && one_of(at(e - 1), " \t\n\f\r\"<>|.!?(){},-")) --e;
    return e >= i + 3 ? e - i : 0;
  }
  // (seg '.')+ : the positions right after each '.', for segments of chars satisfying ok.
  template <typename Pred>
  std::vector<std::size_t> dotted_segments(std::size_t p, Pred ok) const {
    std::vector<std::size_t> ends;
    for (;;) {
      const std::size_t q = p + run_of(p, ok);
      if (q == p || at(q) != '.') return ends;
      p = q + 1;
      ends.push_back(p);
    }
  }
  // SGML tag name characters.
  static bool sgml_name_char(char32_t c) { return is_ascii_alnum(c) || one_of(c, "_:.-"); }
  std::size_t sgml_name(std::size_t i) const {
    return is_ascii_letter(at(i)) ? 1 + run_of(i + 1, sgml_name_char) : 0;
  }

  // ---- rule matchers, in PTBLexer order ----

  void scan(std::size_t i) {
    const char32_t c = at(i);
    if (lit(i, "c++")) offer(kProgLang, 3);
    if (lit(i, "c#") || lit(i, "f#")) offer(kProgLang, 2);
    if (lit(i, "cannot")) offer(kAssim3, 6, 3);
    if (c == '\'' && lit(i + 1, "twas")) offer(kAssim3, 5, 2);
    if (c == '\'' && lit(i + 1, "tis")) offer(kAssim2, 4, 2);
    for (std::string_view w : {"gonna"sv, "gotta"sv, "lemme"sv, "gimme"sv, "wanna"sv})
      if (lit(i, w)) offer(kAssim2, 5, 3);
    if (c == '<') offer(kSgml, sgml(i));
    for (std::string_view e : {"&mdash;"sv, "&ndash;"sv, "&MD;"sv})
      if (lit(i, e)) offer(kSpmDash, std::string_view(e).size());
    if (c == 0x96 || c == 0x97 || (c >= 0x2013 && c <= 0x2015)) offer(kSpmDash, 1);
    if (lit(i, "&amp;")) offer(kSpAmp, 5);
    if (c == '&') offer(kSpPunc, sp_punc(i));

    const std::size_t w = word(i);
    if (w) {
      if (const std::size_t r = redaux(i + w)) offer(kWordRedaux, w + r, w);
    }
    sword_sredaux(i);
    offer(kWord, w);
    offer(kApoWord, apo_word(i));
    if (lit(i, "y") && is_apos(at(i + 1)) && is_letter(at(i + 2))) offer(kApoWord2, 3, 2);
    offer(kFullUrl, full_url(i));
    offer(kLikelyUrl, likely_url(i));
    offer(kEmail, email(i));
    offer(kTwitter, twitter(i));
    if (const std::size_t r = redaux(i)) {
      if (at(i + r) != kEnd && !is_ascii_letter(at(i + r))) offer(kRedauxCtx, r + 1, r);
    }
    offer(kSredauxCtx, sredaux(i));
    offer(kDate, date(i));
    offer(kNumber, number(i));
    offer(kSubSupNum, sub_sup_num(i));
    offer(kFrac, frac(i));
    if ((c >= 0xBC && c <= 0xBE) || (c >= 0x2153 && c <= 0x215E)) offer(kFrac2, 1);
    offer(kTbSpec, tb_spec(i));
    offer(kThing3, thing3(i));
    {
      const std::size_t u = run_of(i, is_ascii_upper);
      if (at(i + u) == '$') offer(kDolSign, u + 1);
      if (c == '#') offer(kDolSign, 1);
    }
    if (c == 0xA2 || c == 0xA3 || c == 0xA4 || c == 0xA5 || c == 0x80 || c == 0x20A0 ||
        c == 0x20AC || c == 0x60B || c == 0xE3F || c == 0x20A4 || c == 0xFFE0 || c == 0xFFE1 ||
        c == 0xFFE5 || c == 0xFFE6)
      offer(kDolSign2, 1);
    // Every abbreviation and acronym rule needs ASCII letters followed by '.' here.
    if (const std::size_t letters = run_of(i, is_ascii_letter); letters && at(i + letters) == '.') {
      acronym(i);
      abbrev3(i);
      abbrev_sn(i);
      pty_ltd(i);
      abbrev1(i);
      offer(kAbbrev2Rule, abbrev2(i));
    }
    if (is_apos(c) && is_ascii_digit(at(i + 1)) && is_ascii_digit(at(i + 2)) &&
        is_spacenl(at(i + 3)))
      offer(kTbSpec2, 4, 3);
    if (w && at(i + w) == '.' && is_insentp(at(i + w + 1))) offer(kWordDot, w + 2, w + 1);
    offer(kPhone, phone(i));
    {
      const std::size_t q = c == '"' ? 1 : lit(i, "&quot;");
      if (q) {
        const char32_t n = at(i + q);
        if (is_ascii_alnum(n) || n == '$') offer(kDblQuotLeft, q + 1, q);
        offer(kDblQuot, q);
      }
    }
    if (c == '<' || c == '>') offer(kLessGreater, 1);
    if (lit(i, "&lt;") || lit(i, "&gt;")) offer(kLessGreater, 4);
    smiley(i);
    offer(kAsianSmiley, asian_smiley(i));
    if (one_of(c, "{}[]()")) offer(kBracket, 1);
    if (c == '-') offer(kHyphens, run_of(i, [](char32_t x) { return x == '-'; }));
    offer(kLdots, ldots(i));
    if (c == '@' || c == '#' || c == '_') offer(kFnMarks, run_of(i, [c](char32_t x) { return x == c; }));
    if (c == '*') offer(kAsts, run_of(i, [](char32_t x) { return x == '*'; }));
    if (c == '\\') {
      std::size_t n = 0;
      while (n < 3 && at(i + 2 * n) == '\\' && at(i + 2 * n + 1) == '*') ++n;
      offer(kAsts, 2 * n);
    }
    if (is_insentp(c)) offer(kInSentP, 1);
    if (c == '?' || c == '!') offer(kBangs, run_of(i, [](char32_t x) { return x == '?' || x == '!'; }));
    if (c == '.' || c == 0xA1 || c == 0xBF || c == 0x37E || c == 0x589 || c == 0x61F ||
        c == 0x6D4 || (c >= 0x700 && c <= 0x702) || c == 0x7FA)
      offer(kPunct, 1);
    if (c == '=') offer(kEquals, 1);
    if (c == '/') offer(kSlash, 1);
    if (const std::size_t h = hthing(i)) {
      if (at(i + h) == '.' && is_insentp(at(i + h + 1))) offer(kHThingDot, h + 2, h + 1);
      offer(kHThing, h);
    }
    if (const std::size_t t = thing(i)) {
      if (at(i + t) == '.' && is_insentp(at(i + t + 1))) offer(kThingDot, t + 2, t + 1);
      offer(kThing, t);
    }
    if (const std::size_t t = thinga(i)) {
      if (at(i + t) == '.' && is_insentp(at(i + t + 1))) offer(kThingADot, t + 2, t + 1);
      offer(kThingA, t);
    }
    if (c == '\'' && is_ascii_letter(at(i + 1)) && at(i + 2) != kEnd &&
        !one_of(at(i + 2), " \t\n\r") && at(i + 2) != 0xA0)
      offer(kQuoteLeft, 3, 1);
    offer(kRedaux, redaux(i));
    offer(kSredaux, sredaux(i));
    offer(kQuotes, quotes(i));
    if (lit(i, "<<") || lit(i, ">>")) offer(kFakeDuckFeet, 2);
    if (is_misc_symbol(c)) offer(kMiscSymbol, 1);
    if (c == 0 || is_spacenl(c) || c == 0x200B || c == 0x200E || c == 0x200F || c == 0xFEFF)
      offer(kSkip, 1);
    if (lit(i, "&nbsp;")) offer(kSkip, 6);
    offer(kUntokenizable, 1);
  }

  std::size_t sgml(std::size_t i) const {
    std::size_t p = i + 1;
    if (one_of(at(p), "!?") && (is_ascii_letter(at(p + 1)) || at(p + 1) == '-')) {
      p += 2;
      while (at(p) != kEnd && at(p) != '>' && at(p) != '\r' && at(p) != '\n') ++p;
    } else if (at(p) == '/') {
      const std::size_t n = sgml_name(p + 1);
      if (!n) return 0;
      p += 1 + n;
    } else {
      const std::size_t n = sgml_name(p);
      if (!n) return 0;
      p += n;
      for (;;) {  // attributes: ( [ ]+ name ([ ]*=[ ]*value)? )*
        std::size_t q = p + run_of(p, [](char32_t x) { return x == ' '; });
        if (q == p) break;
        const std::size_t an = sgml_name(q);
        if (!an) break;
        q += an;
        std::size_t v = q + run_of(q, [](char32_t x) { return x == ' '; });
        if (at(v) == '=') {
          v += 1 + run_of(v + 1, [](char32_t x) { return x == ' '; });
          const char32_t open = at(v);
          if (open == '\'' || open == '"') {
            const std::size_t body = run_of(v + 1, [open](char32_t x) { return x != open; });
            if (at(v + 1 + body) == open) q = v + body + 2;
          } else if (const std::size_t vn = sgml_name(v)) {
            q = v + vn;
          }
        }
        p = q;
      }
      p += run_of(p, [](char32_t x) { return x == ' '; });
      if (at(p) == '/') ++p;
    }
    p += run_of(p, [](char32_t x) { return x == ' '; });
    return at(p) == '>' ? p + 1 - i : 0;
  }

  std::size_t sp_punc(std::size_t i) const {
    for (std::string_view e : {"&HT;"sv, "&TL;"sv, "&UR;"sv, "&LR;"sv, "&QC;"sv, "&QL;"sv, "&QR;"sv, "&odq;"sv,
                          "&cdq;"sv})
      if (lit(i, e)) return std::string_view(e).size();
    if (at(i + 1) == '#') {
      const std::size_t d = run_of(i + 2, is_ascii_digit);
      if (d && at(i + 2 + d) == ';') return d + 3;
    }
    return 0;
  }

  void sword_sredaux(std::size_t i) {
    const std::size_t run = run_of(i, [](char32_t x) { return is_ascii_letter(x) || x == 0xAD; });
    if (run < 2) return;
    const std::size_t p = i + run - 1;  // the 'n' of n't
    if (!sredaux(p)) return;
    std::size_t q = p;
    while (q > i && at(q - 1) == 0xAD) --q;
    if (q == i) return;
    const char32_t last = at(q - 1);
    if (!is_ascii_letter(last) || last == 'n' || last == 'N') return;
    offer(kSwordSredaux, p - i + 3, p - i);
  }

  std::size_t apo_word(std::size_t i) const {
    const char32_t c = at(i);
    std::size_t best = 0;
    auto take = [&best](std::size_t n) { best = std::max(best, n); };
    if (is_apos(c)) {
      if (lit(i + 1, "n")) take(is_apos(at(i + 2)) ? 3 : 2);
      if (lit(i + 1, "em")) take(3);
      if (lit(i + 1, "till")) take(5);
      else if (lit(i + 1, "til")) take(4);
      if (lit(i + 1, "cause")) take(6);
      if (at(i + 1) >= '2' && at(i + 1) <= '9' && at(i + 2) == '0' && lit(i + 3, "s")) take(4);
    }
    if (one_of(c, "lLdDjJ") && is_apos(at(i + 1))) take(2);
    for (std::string_view w : {"dunkin"sv, "somethin"sv, "ol"sv})
      if (const std::size_t n = lit(i, w); n && is_apos(at(i + n))) take(n + 1);
    if (((c >= 'A' && c <= 'H') || (c >= 'J' && c <= 'X') || c == 'Z' || c == 'n') &&
        is_apos_etc(at(i + 1))) {
      const std::size_t letters = run_of(i + 2, is_letter);
      if (letters >= 2) take(2 + letters);
    }
    {
      const std::size_t run = run_of(i, is_letter);
      const std::size_t r = i + run;
      if (run >= 2 && one_of(at(r - 1), "aeiouyAEIOUY") && is_apos_etc(at(r)) &&
          (one_of(at(r + 1), "aeiou") || is_ascii_upper(at(r + 1))))
        take(run + 2 + run_of(r + 2, is_letter));
    }
    if (const std::size_t n = lit(i, "cont'd")) take(at(i + n) == '.' ? n + 1 : n);
    if (lit(i, "o") && is_apos_etc(at(i + 1)) && lit(i + 2, "o")) take(3);
    for (std::string_view w : {"'twas"sv, "nor'easter"sv, "c'mon"sv, "e'er"sv, "s'mores"sv, "ev'ry"sv, "li'l"sv,
                          "nat'l"sv})
      take(lit(i, w));
    return best;
  }

  std::size_t full_url(std::size_t i) const {
    std::size_t p = lit(i, "http://");
    if (!p) p = lit(i, "https://");
    if (!p) return 0;
    p += i;
    const std::size_t k =
        p + run_of(p, [](char32_t x) { return !one_of(x, " \t\n\f\r\"<>|(){}"); });
    std::size_t e = k;
    while (e >= p + 2 && one_of(at(e - 1), " \t\n\f\r\"<>|.!?(){},-")) --e;
    return e >= p + 2 ? e - i : 0;
  }

  std::size_t likely_url(std::size_t i) const {
    std::size_t best = 0;
    auto with_path = [&](std::size_t end) {
      best = std::max(best, end - i);
      if (const std::size_t path = url_path(end)) best = std::max(best, end + path - i);
    };
    if (const std::size_t w = lit(i, "www.")) {
      auto ok = [](char32_t x) { return x != kEnd && !one_of(x, " \t\n\f\r\"<>|.!?(){},"); };
      for (std::size_t p : dotted_segments(i + w, ok)) {
        const std::size_t letters = std::min<std::size_t>(4, run_of(p, is_ascii_letter));
        for (std::size_t n = 2; n <= letters; ++n) with_path(p + n);
      }
    }
    auto ok2 = [](char32_t x) {
      return x != kEnd && !one_of(x, " \t\n\f\r\"`'<>|.!?(){}$") && !(x >= ',' && x <= '_');
    };
    for (std::size_t p : dotted_segments(i, ok2))
      for (std::string_view tld : {"com"sv, "net"sv, "org"sv, "edu"sv})
        if (lit(p, tld)) with_path(p + 3);
    return best;
  }

  // (<|&lt;)? [a-zA-Z0-9] [^L]* @ ([^L.]+ \.)* [^L.]+ (>|&gt;)?   with L = spaces " < > | ( ) { }
  std::size_t email(std::size_t i) const {
    const std::size_t open = at(i) == '<' ? 1 : lit(i, "&lt;");
    const std::size_t start = i + open;
    if (!is_ascii_alnum(at(start))) return 0;
    auto not_l = [](char32_t x) {
      return x != kEnd && x != 0xA0 && !one_of(x, " \t\n\f\r\"<>|(){}");
    };
    auto d1 = [&](char32_t x) { return not_l(x) && x != '.'; };
    const std::size_t k = start + 1 + run_of(start + 1, not_l);
    std::size_t best = 0;
    std::size_t walked = 0;  // a domain walk from an earlier '@' already covered up to here
    for (std::size_t a = start + 1; a < k; ++a) {
      if (at(a) != '@' || a < walked) continue;
      std::size_t p = a + 1;
      for (;;) {
        const std::size_t q = p + run_of(p, d1);
        walked = q;
        if (q == p) break;
        const std::size_t close = at(q) == '>' ? 1 : lit(q, "&gt;");
        best = std::max(best, q + close - i);
        if (at(q) != '.') break;
        p = q + 1;
      }
    }
    return best;
  }

  std::size_t twitter(std::size_t i) const {
    if (at(i) == '@' && (is_ascii_letter(at(i + 1)) || at(i + 1) == '_'))
      return 2 + run_of(i + 2, [](char32_t x) { return is_ascii_alnum(x) || x == '_'; });
    if (at(i) == '#') {
      const std::size_t n = run_of(i + 1, is_ptb_letter);
      return n ? n + 1 : 0;
    }
    return 0;
  }

  std::size_t date(std::size_t i) const {
    auto sep = [](char32_t x) { return x == '-' || x == '/'; };
    const std::size_t a = run_of(i, is_digit);
    if (a < 1 || a > 2 || !sep(at(i + a))) return 0;
    std::size_t p = i + a + 1;
    const std::size_t b = run_of(p, is_digit);
    if (b < 1 || b > 2 || !sep(at(p + b))) return 0;
    p += b + 1;
    const std::size_t y = std::min<std::size_t>(4, run_of(p, is_digit));
    return y >= 2 ? p + y - i : 0;
  }

  std::size_t number(std::size_t i) const {
    std::size_t p = i + (one_of(at(i), "-+") ? 1 : 0);
    const std::size_t d = run_of(p, is_digit);
    p += d;
    bool group = false;
    while ((one_of(at(p), ".:,") || at(p) == 0xAD || at(p) == 0x66B || at(p) == 0x66C) &&
           is_digit(at(p + 1))) {
      p += 1 + run_of(p + 1, is_digit);
      group = true;
    }
    return (d > 0 || group) ? p - i : 0;
  }

  std::size_t sub_sup_num(std::size_t i) const {
    std::size_t p = i;
    if (at(p) == 0x207A || at(p) == 0x207B || at(p) == 0x208A || at(p) == 0x208B) ++p;
    auto sup = [](char32_t x) {
      return x == 0x2070 || x == 0xB9 || x == 0xB2 || x == 0xB3 || (x >= 0x2074 && x <= 0x2079);
    };
    auto sub = [](char32_t x) { return x >= 0x2080 && x <= 0x2089; };
    const std::size_t n = std::max(run_of(p, sup), run_of(p, sub));
    return n ? p + n - i : 0;
  }

  // {DIGIT}{1,4} (\\?/ | U+2044) {DIGIT}{1,4}
  std::size_t frac_core(std::size_t p) const {
    const std::size_t a = run_of(p, is_digit);
    if (a < 1 || a > 4) return 0;
    std::size_t q = p + a;
    if (at(q) == '\\' && at(q + 1) == '/') q += 2;
    else if (at(q) == '/' || at(q) == 0x2044) q += 1;
    else return 0;
    const std::size_t b = std::min<std::size_t>(4, run_of(q, is_digit));
    return b ? q + b - p : 0;
  }
  std::size_t frac(std::size_t i) const {
    std::size_t best = frac_core(i);
    const std::size_t a = run_of(i, is_digit);
    if (a >= 1 && a <= 4 && (at(i + a) == '-' || at(i + a) == ' ' || at(i + a) == 0xA0)) {
      if (const std::size_t core = frac_core(i + a + 1)) best = std::max(best, a + 1 + core);
    }
    return best;
  }

  std::size_t tb_spec(std::size_t i) const {
    std::size_t best = 0;
    if (at(i) == '-') {
      for (std::string_view b : {"RRB-"sv, "LRB-"sv, "RCB-"sv, "LCB-"sv, "RSB-"sv, "LSB-"sv})
        if (lit(i + 1, b)) best = 5;
    }
    for (std::string_view w : {"C.D.s"sv, "pro-"sv, "anti-"sv, "S&P-500"sv, "S&amp;P-500"sv, "S&Ls"sv, "S&amp;Ls"sv})
      best = std::max(best, lit(i, w));
    if (lit(i, "cap") && is_apos(at(i + 3)) && lit(i + 4, "n")) best = std::max<std::size_t>(best, 5);
    if (lit(i, "c") && is_apos(at(i + 1)) && lit(i + 2, "est")) best = std::max<std::size_t>(best, 5);
    return best;
  }

  // [A-Za-z0-9]+ (-[A-Za-z]+){0,2}
  std::size_t thing3_segment(std::size_t p) const {
    std::size_t q = p + run_of(p, is_ascii_alnum);
    if (q == p) return 0;
    for (int k = 0; k < 2 && at(q) == '-'; ++k) {
      const std::size_t a = run_of(q + 1, is_ascii_letter);
      if (!a) break;
      q += 1 + a;
    }
    return q - p;
  }
  std::size_t thing3(std::size_t i) const {
    std::size_t q = i + thing3_segment(i);
    if (q == i) return 0;
    int slashes = 0;
    for (; slashes < 2; ++slashes) {
      const std::size_t sl = (at(q) == '\\' && at(q + 1) == '/') ? 2 : (at(q) == '/' ? 1 : 0);
      if (!sl) break;
      const std::size_t seg = thing3_segment(q + sl);
      if (!seg) break;
      q += sl + seg;
    }
    return slashes > 0 ? q - i : 0;
  }

  // ACRO '.' SPACENLS <sentence starter> SPACENL: a likely sentence end after an acronym.
  void acronym(std::size_t i) {
    for (std::size_t a = acro(i); a > 0; a = a >= 2 ? a - 2 : 0) {
      if (at(i + a) != '.') continue;
      const std::size_t sp = run_of(i + a + 1, is_spacenl);
      if (!sp) continue;
      const std::size_t w0 = i + a + 1 + sp;
      if (const std::size_t tag = at(w0) == '<' ? sgml(w0) : 0; tag && is_spacenl(at(w0 + tag)))
        offer(kAcronym, w0 + tag + 1 - i, a + 1);
      for (std::string_view word : kSentenceStarters) {
        if (at(w0) != static_cast<unsigned char>(word[0])) continue;
        const std::size_t n = lit(w0, word);
        if (n && is_spacenl(at(w0 + n))) offer(kAcronym, w0 + n + 1 - i, a + 1);
      }
    }
  }

  void abbrev3(std::size_t i) {
    for (std::string_view w : kNumberAbbreviations) {
      const std::size_t n = lit(i, w);
      if (!n || at(i + n) != '.') continue;
      std::size_t p = i + n + 1;
      if (is_spacenl(at(p))) ++p;
      if (is_digit(at(p))) offer(kAbbrev3, p + 1 - i, n + 1);
    }
  }

  void abbrev_sn(std::size_t i) {
    if (!(lit(i, "so.") || lit(i, "no."))) return;
    const std::size_t sp = run_of(i + 3, is_spacenl);
    if (!sp) return;
    for (std::string_view place : {"Africa"sv, "Korea"sv, "Cal"sv})
      if (const std::size_t n = lit(i + 3 + sp, place)) offer(kAbbrevSN, 3 + sp + n, 3);
  }

  void pty_ltd(std::size_t i) {
    std::size_t n = 0;
    if (lit(i, "pt") && one_of(at(i + 2), "eyEY")) n = 3;
    else if (lit(i, "co")) n = 2;
    if (!n || at(i + n) != '.' || !is_space(at(i + n + 1))) return;
    if (lit(i + n + 2, "ltd") || lit(i + n + 2, "lim")) offer(kPtyLtd, n + 5, n + 1);
  }

  void abbrev1(std::size_t i) {
    for (std::string_view stem : kAbbrev1) {
      const std::size_t n = pattern(i, stem);
      if (!n || at(i + n) != '.') continue;
      offer(kAbbrev1Rule, i + n + 3 <= limit_ ? n + 3 : n + 1, n + 1);
    }
  }
  std::size_t abbrev2(std::size_t i) const {
    std::size_t best = acro_dot(i, 1);
    for (std::string_view stem : kAbbrev2) {
      const std::size_t n = pattern(i, stem);
      if (n && at(i + n) == '.') best = std::max(best, n + 1);
    }
    return best;
  }

  std::size_t phone(std::size_t i) const {
    auto digits = [&](std::size_t p, std::size_t n) {
      for (std::size_t k = 0; k < n; ++k)
        if (!is_ascii_digit(at(p + k))) return false;
      return true;
    };
    auto sep = [](char32_t x) { return x == '-' || x == ' ' || x == 0xA0 || x == '.'; };
    std::size_t p = i;
    if (at(p) == '(' && digits(p + 1, 3) && at(p + 4) == ')') {
      p += 5;
      if (at(p) == ' ' || at(p) == 0xA0) ++p;
    } else if (digits(p, 3) && sep(at(p + 3))) {
      p += 4;
    } else {
      return 0;
    }
    if (digits(p, 3) && sep(at(p + 3)) && digits(p + 4, 4)) return p + 8 - i;
    return 0;
  }

  void smiley(std::size_t i) {
    std::size_t p = i;
    if (at(p) == '<' || at(p) == '>') ++p;
    if (!one_of(at(p), ":;=")) return;
    ++p;
    auto mouth = [](char32_t x) { return one_of(x, "()DPdpO\\{@|[]"); };
    std::size_t end = 0;
    if (mouth(at(p))) end = p + 1;
    if (one_of(at(p), "-o*'") && mouth(at(p + 1))) end = p + 2;
    if (!end) return;
    const char32_t ctx = at(end);
    if (ctx != kEnd && !is_ascii_alnum(ctx)) offer(kSmiley, end + 1 - i, end - i);
  }

  std::size_t asian_smiley(std::size_t i) const {
    auto eye = [](char32_t x) { return one_of(x, "-^x=~<>'"); };
    auto eye2 = [](char32_t x) { return one_of(x, "^x=~<>'"); };
    if (eye(at(i)) && at(i + 1) == '_' && eye(at(i + 2))) return 3;
    if (at(i) == '(') {
      if (eye(at(i + 1))) {
        if (one_of(at(i + 2), "_.") && eye(at(i + 3)) && at(i + 4) == ')') return 5;
        if (eye(at(i + 2)) && at(i + 3) == ')') return 4;
      }
      if (eye2(at(i + 1)) && at(i + 2) == '-' && (eye2(at(i + 3)) || at(i + 3) == '`') &&
          at(i + 4) == ')')
        return 5;
    }
    return 0;
  }

  std::size_t ldots(std::size_t i) const {
    const char32_t c = at(i);
    if (c == 0x85 || c == 0x2026) return 1;
    if (c != '.') return 0;
    const std::size_t dots = run_of(i, [](char32_t x) { return x == '.'; });
    std::size_t best = dots >= 3 ? std::min<std::size_t>(dots, 5) : 0;
    std::size_t reps = 0;
    while (reps < 4 && at(i + 2 * reps) == '.' &&
           (at(i + 2 * reps + 1) == ' ' || at(i + 2 * reps + 1) == 0xA0))
      ++reps;
    while (reps >= 2) {
      if (at(i + 2 * reps) == '.') { best = std::max(best, 2 * reps + 1); break; }
      --reps;
    }
    return best;
  }

  std::size_t hthing(std::size_t i) const {
    if (!is_ascii_alnum(at(i))) return 0;
    std::size_t p = i + 1 + run_of(i + 1, [](char32_t x) {
      return is_ascii_alnum(x) || x == '.' || x == ',' || x == 0xAD;
    });
    int groups = 0;
    while (at(p) == '-') {
      const std::size_t r1 = run_of(p + 1, [](char32_t x) { return is_ascii_alnum(x) || x == 0xAD; });
      const std::size_t r2 = acro_dot(p + 1, 2);
      const std::size_t r = std::max(r1, r2);
      if (!r) break;
      p += 1 + r;
      ++groups;
    }
    return groups ? p - i : 0;
  }

  std::size_t thing(std::size_t i) const {
    auto hyphen = [](char32_t x) {
      return x == '-' || x == '_' || x == 0x58A || x == 0x2010 || x == 0x2011;
    };
    std::size_t p = i + thing_part(i);
    if (p == i) return 0;
    while (hyphen(at(p))) {
      const std::size_t r = thing_part(p + 1);
      if (!r) break;
      p += 1 + r;
    }
    return p - i;
  }

  std::size_t thinga(std::size_t i) const {
    std::size_t p = i + run_of(i, is_ascii_upper);
    if (p == i) return 0;
    int groups = 0;
    for (;;) {
      std::size_t sep = lit(p, "&amp;");
      if (!sep || !is_ascii_upper(at(p + sep))) sep = (at(p) == '+' || at(p) == '&') ? 1 : 0;
      if (!sep) break;
      const std::size_t u = run_of(p + sep, is_ascii_upper);
      if (!u) break;
      p += sep + u;
      ++groups;
    }
    return groups ? p - i : 0;
  }

  std::size_t quotes(std::size_t i) const {
    const char32_t c = at(i);
    auto q = [](char32_t x) {
      return x == '`' || (x >= 0x2018 && x <= 0x201F) || (x >= 0x91 && x <= 0x94) ||
             x == 0x2039 || x == 0x203A || x == 0xAB || x == 0xBB;
    };
    std::size_t best = is_apos(c) ? 1 : 0;
    if (c == '\'' && at(i + 1) == '\'') best = 2;
    if (q(c)) best = std::max<std::size_t>(best, q(at(i + 1)) ? 2 : 1);
    return best;
  }

  // ---- token text for the winning rule ----

  static U32 replace_all(U32 s, char32_t from, const U32& to) {
    U32 out;
    for (char32_t c : s) {
      if (c == from) out += to;
      else out.push_back(c);
    }
    return out;
  }
  static U32 without_soft_hyphens(U32 s) {
    s.erase(std::remove(s.begin(), s.end(), char32_t{0xAD}), s.end());
    return s;
  }
  static U32 normalize_amp(const U32& s) {
    U32 out;
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '&' && k + 4 < s.size() && ascii_lower(s[k + 1]) == 'a' &&
          ascii_lower(s[k + 2]) == 'm' && ascii_lower(s[k + 3]) == 'p' && s[k + 4] == ';') {
        out.push_back('&');
        k += 4;
      } else {
        out.push_back(s[k]);
      }
    }
    return out;
  }
  // PTBLexer's latexQuotes: straight quotes by position, curly ones by shape.
  static U32 latex_quotes(const U32& s, bool probably_left) {
    U32 out;
    for (char32_t c : s) {
      if (c == '\'') out += probably_left ? U"`" : U"'";
      else if (c == '"') out += probably_left ? U"``" : U"''";
      else if (c == 0x91 || c == 0x2018 || c == 0x201B || c == 0x2039) out += U"`";
      else if (c == 0x92 || c == 0x2019 || c == 0x203A) out += U"'";
      else if (c == 0x93 || c == 0x201C || c == 0xAB) out += U"``";
      else if (c == 0x94 || c == 0x201D || c == 0xBB) out += U"''";
      else out.push_back(c);
    }
    return out;
  }
  static U32 brackets_to_ptb(const U32& s) {
    U32 out;
    for (char32_t c : s) {
      if (c == '(') out += U"-LRB-";
      else if (c == ')') out += U"-RRB-";
      else out.push_back(c);
    }
    return out;
  }

  U32 output(std::size_t i, std::size_t len, std::size_t* next) const {
    const U32 text = s_.substr(i, len);
    switch (best_.rule) {
      case kSkip:
      case kUntokenizable:
      case kNoRule:
        return {};
      case kSgml:
        return replace_all(replace_all(replace_all(text, ' ', U"\u00A0"), '\r', U"\u00A0"), '\n',
                           U"\u00A0");
      case kSpmDash:
        return U"--";
      case kSpAmp:
      case kTbSpec:
      case kThingA:
      case kThingADot:
        return normalize_amp(text);
      case kWordRedaux:
      case kSwordSredaux:
      case kWord:
      case kNumber:
      case kWordDot:
      case kHThing:
      case kHThingDot:
        return without_soft_hyphens(text);
      case kRedauxCtx:
      case kSredauxCtx:
      case kRedaux:
      case kSredaux:
      case kQuotes:
        return latex_quotes(text, false);
      case kQuoteLeft:
        return latex_quotes(text, true);
      case kDblQuotLeft:
        return U"``";
      case kDblQuot:
        return U"''";
      case kFrac:
        return replace_all(text, ' ', U"\u00A0");
      case kFrac2:
        switch (text[0]) {
          case 0xBC: return U"1/4";
          case 0xBD: return U"1/2";
          case 0xBE: return U"3/4";
          case 0x2153: return U"1/3";
          case 0x2154: return U"2/3";
          default: return text;
        }
      case kDolSign2:
        if (text[0] == 0xA2) return U"cents";
        if (text[0] == 0xA3) return U"#";
        if (text[0] == 0x80 || text[0] == 0xA4 || text[0] == 0x20A0 || text[0] == 0x20AC)
          return U"$";
        return text;
      case kAcronym:
        // The period is scanned again as its own token; a lone letter loses it here ("B." -> "B").
        *next = i + len - 1;
        return len == 2 ? text.substr(0, 1) : text;
      case kPhone:
        return brackets_to_ptb(replace_all(text, ' ', U"\u00A0"));
      case kLessGreater:
        return (text[0] == '<' || (len > 1 && (text[1] == 'l' || text[1] == 'L'))) ? U"<" : U">";
      case kSmiley:
      case kAsianSmiley:
        return brackets_to_ptb(text);
      case kBracket:
        switch (text[0]) {
          case '(': return U"-LRB-";
          case ')': return U"-RRB-";
          case '[': return U"-LSB-";
          case ']': return U"-RSB-";
          case '{': return U"-LCB-";
          default: return U"-RCB-";
        }
      case kHyphens:
        return (len == 3 || len == 4) ? U32(U"--") : text;
      case kLdots:
        return U"...";
      default:
        return text;
    }
  }
};

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

// ---- character mode ---------------------------------------------------------------------------

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

}  // namespace

std::size_t find_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_one(text, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

TokenizerMode parse_tokenizer_mode(std::string_view name) {
  if (name == "word") return TokenizerMode::word;
  if (name == "char" || name == "character") return TokenizerMode::character;
  MRNN_FAIL("unknown tokenizer mode '{}': expected \"word\" or \"char\"", name);
}

const char* tokenizer_mode_name(TokenizerMode mode) {
  return mode == TokenizerMode::word ? "word" : "char";
}

std::vector<std::string> tokenize(std::string_view text, TokenizerMode mode) {
  const U32 decoded = decode_utf8(text);
  return mode == TokenizerMode::word ? tokenize_word(decoded) : tokenize_char(decoded);
}

}  // namespace mrnn
