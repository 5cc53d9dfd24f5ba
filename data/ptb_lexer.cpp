// The PTB lexer emulation (data/ptb_lexer.h), part one: the main loop, the sub-patterns, the
// rule dispatch (scan) and the matchers from SGML through THING3. data/ptb_lexer_rules.cpp has the
// abbreviation, punctuation and THING matchers and the token text of each rule.
#include <algorithm>

#include "data/ptb_lexer.h"

namespace mrnn::tokenizer_detail {

using namespace std::string_view_literals;

void PtbLexer::run(std::vector<U32>& out) {
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

// WORD = LETTER (LETTER|DIGIT)* ([.!?] LETTER (LETTER|DIGIT)*)*
std::size_t PtbLexer::word(std::size_t i) const {
  if (!is_ptb_letter(at(i))) return 0;
  std::size_t j = i + 1;
  for (;;) {
    while (is_ptb_letter(at(j)) || is_digit(at(j))) ++j;
    if (one_of(at(j), ".!?") && is_ptb_letter(at(j + 1))) { j += 2; continue; }
    return j - i;
  }
}

// REDAUX = APOS (m|s|d|re|ve|ll)
std::size_t PtbLexer::redaux(std::size_t i) const {
  if (!is_apos(at(i))) return 0;
  if (lit(i + 1, "re") || lit(i + 1, "ve") || lit(i + 1, "ll")) return 3;
  return one_of(at(i + 1), "msdMSD") ? 2 : 0;
}

// SREDAUX = n APOSETCETERA t
std::size_t PtbLexer::sredaux(std::size_t i) const {
  return (lit(i, "n") && is_apos_etc(at(i + 1)) && lit(i + 2, "t")) ? 3 : 0;
}

// ACRO = [A-Za-z](\.[A-Za-z])*: the longest match, or 0. Shorter matches are 2, 4, ... less.
std::size_t PtbLexer::acro(std::size_t i) const {
  if (!is_ascii_letter(at(i))) return 0;
  std::size_t j = i + 1;
  while (at(j) == '.' && is_ascii_letter(at(j + 1))) j += 2;
  return j - i;
}

// Length of the longest ACRO (at least min_letters letters) directly followed by '.', plus 1.
std::size_t PtbLexer::acro_dot(std::size_t i, std::size_t min_letters) const {
  for (std::size_t a = acro(i); a >= 2 * min_letters - 1 && a > 0; a = a > 2 ? a - 2 : 0)
    if (at(i + a) == '.') return a + 1;
  return 0;
}

// ([dDoOlL] APOSETCETERA alnum)? alnum+ : a THING part such as "o'clock" or "2014".
std::size_t PtbLexer::thing_part(std::size_t i) const {
  std::size_t best = run_of(i, is_alnum);
  if (one_of(at(i), "dDoOlL") && is_apos_etc(at(i + 1)) && is_alnum(at(i + 2))) {
    const std::size_t more = run_of(i + 3, is_alnum);
    if (more) best = std::max(best, 3 + more);
  }
  return best;
}

// "/" followed by URL path characters, not ending in punctuation; 0 if absent.
std::size_t PtbLexer::url_path(std::size_t i) const {
  if (at(i) != '/') return 0;
  const std::size_t k = i + 1 + run_of(i + 1, [](char32_t c) {
    return !one_of(c, " \t\n\f\r\"<>|()");
  });
  std::size_t e = k;
  while (e >= i + 3 && one_of(at(e - 1), " \t\n\f\r\"<>|.!?(){},-")) --e;
  return e >= i + 3 ? e - i : 0;
}

std::size_t PtbLexer::sgml_name(std::size_t i) const {
  return is_ascii_letter(at(i)) ? 1 + run_of(i + 1, sgml_name_char) : 0;
}

void PtbLexer::scan(std::size_t i) {
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

std::size_t PtbLexer::sgml(std::size_t i) const {
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

std::size_t PtbLexer::sp_punc(std::size_t i) const {
  for (std::string_view e : {"&HT;"sv, "&TL;"sv, "&UR;"sv, "&LR;"sv, "&QC;"sv, "&QL;"sv, "&QR;"sv, "&odq;"sv,
                        "&cdq;"sv})
    if (lit(i, e)) return std::string_view(e).size();
  if (at(i + 1) == '#') {
    const std::size_t d = run_of(i + 2, is_ascii_digit);
    if (d && at(i + 2 + d) == ';') return d + 3;
  }
  return 0;
}

void PtbLexer::sword_sredaux(std::size_t i) {
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

std::size_t PtbLexer::apo_word(std::size_t i) const {
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

std::size_t PtbLexer::full_url(std::size_t i) const {
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

std::size_t PtbLexer::likely_url(std::size_t i) const {
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
std::size_t PtbLexer::email(std::size_t i) const {
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

std::size_t PtbLexer::twitter(std::size_t i) const {
  if (at(i) == '@' && (is_ascii_letter(at(i + 1)) || at(i + 1) == '_'))
    return 2 + run_of(i + 2, [](char32_t x) { return is_ascii_alnum(x) || x == '_'; });
  if (at(i) == '#') {
    const std::size_t n = run_of(i + 1, is_ptb_letter);
    return n ? n + 1 : 0;
  }
  return 0;
}

std::size_t PtbLexer::date(std::size_t i) const {
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

std::size_t PtbLexer::number(std::size_t i) const {
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

std::size_t PtbLexer::sub_sup_num(std::size_t i) const {
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
std::size_t PtbLexer::frac_core(std::size_t p) const {
  const std::size_t a = run_of(p, is_digit);
  if (a < 1 || a > 4) return 0;
  std::size_t q = p + a;
  if (at(q) == '\\' && at(q + 1) == '/') q += 2;
  else if (at(q) == '/' || at(q) == 0x2044) q += 1;
  else return 0;
  const std::size_t b = std::min<std::size_t>(4, run_of(q, is_digit));
  return b ? q + b - p : 0;
}

std::size_t PtbLexer::frac(std::size_t i) const {
  std::size_t best = frac_core(i);
  const std::size_t a = run_of(i, is_digit);
  if (a >= 1 && a <= 4 && (at(i + a) == '-' || at(i + a) == ' ' || at(i + a) == 0xA0)) {
    if (const std::size_t core = frac_core(i + a + 1)) best = std::max(best, a + 1 + core);
  }
  return best;
}

std::size_t PtbLexer::tb_spec(std::size_t i) const {
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
std::size_t PtbLexer::thing3_segment(std::size_t p) const {
  std::size_t q = p + run_of(p, is_ascii_alnum);
  if (q == p) return 0;
  for (int k = 0; k < 2 && at(q) == '-'; ++k) {
    const std::size_t a = run_of(q + 1, is_ascii_letter);
    if (!a) break;
    q += 1 + a;
  }
  return q - p;
}

std::size_t PtbLexer::thing3(std::size_t i) const {
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

}  // namespace mrnn::tokenizer_detail
