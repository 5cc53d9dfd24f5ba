// Character classes of the PTB lexer emulation (internal to data/): the Unicode ones backed by
// tables in data/unicode_tables.cpp, and the small ASCII and punctuation sets inline. Why: the
// lexer's rules are written in PTBLexer 3.4.1's classes (JFlex's [:letter:] of that time, its
// LETTER, DIGIT, SPACE, APOS, ...), which differ from today's Unicode properties, so they are
// spelled out here once. Every predicate accepts any char32_t, including the lexer's kEnd sentinel
// (which belongs to no class).
#pragma once
#include <string_view>

namespace mrnn::tokenizer_detail {

// "Past the end" sentinel the lexer reads beyond its window: matches no class.
constexpr char32_t kEnd = 0xFFFFFFFFu;

// Java's Character.isDigit for the scripts the tables cover (ASCII, Arabic, Indic, Thai, ...,
// fullwidth).
bool is_digit(char32_t c);
// JFlex's [:letter:] as PTBLexer 3.4.1 saw it (Java's isLetter minus PTB's extras, minus digits).
bool is_letter(char32_t c);
// PTBLexer's LETTER: [:letter:] plus the soft hyphen, spacing modifiers and combining marks.
bool is_ptb_letter(char32_t c);
// PTBLexer 3.4.1's MISCSYMBOL plus its one-character symbol rules (+ % & ~ ^ | \ per mille).
bool is_misc_symbol(char32_t c);

inline bool is_alnum(char32_t c) { return is_letter(c) || is_digit(c); }
inline bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }
inline bool is_ascii_alnum(char32_t c) { return is_ascii_letter(c) || is_ascii_digit(c); }
inline bool is_ascii_upper(char32_t c) { return c >= 'A' && c <= 'Z'; }
// PTBLexer's SPACE, NEWLINE and SPACENL.
inline bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x3000;
}
inline bool is_newline(char32_t c) {
  return c == '\r' || c == '\n' || c == 0x2028 || c == 0x2029 || c == 0x0B || c == 0x0C;
}
inline bool is_spacenl(char32_t c) { return is_space(c) || is_newline(c); }
// PTBLexer's APOS and APOSETCETERA.
inline bool is_apos(char32_t c) { return c == '\'' || c == 0x92 || c == 0x2019; }
inline bool is_apos_etc(char32_t c) {
  return is_apos(c) || c == '`' || c == 0x91 || c == 0x2018 || c == 0x201B;
}
// PTBLexer's INSENTP (in-sentence punctuation).
inline bool is_insentp(char32_t c) { return c == ',' || c == ';' || c == ':' || c == 0x3001; }
// Ensures: true iff c is ASCII and one of the (ASCII) characters of set.
inline bool one_of(char32_t c, std::string_view set) {
  return c < 0x80 && set.find(static_cast<char>(c)) != std::string_view::npos;
}
// Ensures: A-Z mapped to a-z, everything else unchanged.
inline char32_t ascii_lower(char32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

}  // namespace mrnn::tokenizer_detail
