// The PTB lexer emulation behind word-mode tokenization (internal to data/).
// It emulates the JFlex lexer inside Stanford CoreNLP 3.4.1 (edu.stanford.nlp.process.PTBLexer,
// default options plus lowerCase), the jar pycocoevalcap ships. Only its behaviour is reproduced,
// rule by rule, with the same conflict resolution as JFlex: at each position the rule with the
// longest match (counting trailing context) wins; ties go to the earlier rule. The rules and
// lists were checked against the jar (tests/fixtures/datatext/tokenizer_golden.json). Why its own
// class: pycocoevalcap scores the tokens this lexer yields, so training must see the same ones.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "data/unicode_tables.h"
#include "data/utf8.h"

namespace mrnn::tokenizer_detail {

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

// Lexes one text. Requires: the text outlives the lexer and is already in UTF-16 code units
// (code points above U+FFFF as surrogate pairs), as Java would see it.
// Ensures (run): the raw PTB tokens, before -lowerCase; whitespace and untokenizable characters
// yield none. Each position looks at most kWindow characters ahead.
class PtbLexer {
 public:
  explicit PtbLexer(const U32& text) : s_(text) {}

  // Appends the raw (not yet lowercased) PTB tokens of the whole text to out.
  void run(std::vector<U32>& out);

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

  std::size_t word(std::size_t i) const;
  std::size_t redaux(std::size_t i) const;
  std::size_t sredaux(std::size_t i) const;
  std::size_t acro(std::size_t i) const;
  std::size_t acro_dot(std::size_t i, std::size_t min_letters) const;
  std::size_t thing_part(std::size_t i) const;
  std::size_t url_path(std::size_t i) const;
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
  std::size_t sgml_name(std::size_t i) const;

  // ---- rule matchers, in PTBLexer order ----
  // Each either offers its rule's match at i (void) or returns its length (0: no match).
  // Defined in data/ptb_lexer.cpp (through thing3) and data/ptb_lexer_rules.cpp (the rest).

  void scan(std::size_t i);
  std::size_t sgml(std::size_t i) const;
  std::size_t sp_punc(std::size_t i) const;
  void sword_sredaux(std::size_t i);
  std::size_t apo_word(std::size_t i) const;
  std::size_t full_url(std::size_t i) const;
  std::size_t likely_url(std::size_t i) const;
  std::size_t email(std::size_t i) const;
  std::size_t twitter(std::size_t i) const;
  std::size_t date(std::size_t i) const;
  std::size_t number(std::size_t i) const;
  std::size_t sub_sup_num(std::size_t i) const;
  std::size_t frac_core(std::size_t p) const;
  std::size_t frac(std::size_t i) const;
  std::size_t tb_spec(std::size_t i) const;
  std::size_t thing3_segment(std::size_t p) const;
  std::size_t thing3(std::size_t i) const;
  void acronym(std::size_t i);
  void abbrev3(std::size_t i);
  void abbrev_sn(std::size_t i);
  void pty_ltd(std::size_t i);
  void abbrev1(std::size_t i);
  std::size_t abbrev2(std::size_t i) const;
  std::size_t phone(std::size_t i) const;
  void smiley(std::size_t i);
  std::size_t asian_smiley(std::size_t i) const;
  std::size_t ldots(std::size_t i) const;
  std::size_t hthing(std::size_t i) const;
  std::size_t thing(std::size_t i) const;
  std::size_t thinga(std::size_t i) const;
  std::size_t quotes(std::size_t i) const;

  // ---- token text for the winning rule ----

  static U32 replace_all(U32 s, char32_t from, const U32& to);
  static U32 without_soft_hyphens(U32 s);
  static U32 normalize_amp(const U32& s);
  static U32 latex_quotes(const U32& s, bool probably_left);
  static U32 brackets_to_ptb(const U32& s);
  U32 output(std::size_t i, std::size_t len, std::size_t* next) const;
};

}  // namespace mrnn::tokenizer_detail
