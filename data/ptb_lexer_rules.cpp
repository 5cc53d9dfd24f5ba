// The PTB lexer emulation (data/ptb_lexer.h), part two: the abbreviation lists and matchers, the
// phone, smiley, punctuation and THING matchers, and the token text of the winning rule.
#include <algorithm>

#include "data/ptb_lexer.h"

namespace mrnn::tokenizer_detail {
namespace {

using namespace std::string_view_literals;

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

}  // namespace

// ACRO '.' SPACENLS <sentence starter> SPACENL: a likely sentence end after an acronym.
void PtbLexer::acronym(std::size_t i) {
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

void PtbLexer::abbrev3(std::size_t i) {
  for (std::string_view w : kNumberAbbreviations) {
    const std::size_t n = lit(i, w);
    if (!n || at(i + n) != '.') continue;
    std::size_t p = i + n + 1;
    if (is_spacenl(at(p))) ++p;
    if (is_digit(at(p))) offer(kAbbrev3, p + 1 - i, n + 1);
  }
}

void PtbLexer::abbrev_sn(std::size_t i) {
  if (!(lit(i, "so.") || lit(i, "no."))) return;
  const std::size_t sp = run_of(i + 3, is_spacenl);
  if (!sp) return;
  for (std::string_view place : {"Africa"sv, "Korea"sv, "Cal"sv})
    if (const std::size_t n = lit(i + 3 + sp, place)) offer(kAbbrevSN, 3 + sp + n, 3);
}

void PtbLexer::pty_ltd(std::size_t i) {
  std::size_t n = 0;
  if (lit(i, "pt") && one_of(at(i + 2), "eyEY")) n = 3;
  else if (lit(i, "co")) n = 2;
  if (!n || at(i + n) != '.' || !is_space(at(i + n + 1))) return;
  if (lit(i + n + 2, "ltd") || lit(i + n + 2, "lim")) offer(kPtyLtd, n + 5, n + 1);
}

void PtbLexer::abbrev1(std::size_t i) {
  for (std::string_view stem : kAbbrev1) {
    const std::size_t n = pattern(i, stem);
    if (!n || at(i + n) != '.') continue;
    offer(kAbbrev1Rule, i + n + 3 <= limit_ ? n + 3 : n + 1, n + 1);
  }
}

std::size_t PtbLexer::abbrev2(std::size_t i) const {
  std::size_t best = acro_dot(i, 1);
  for (std::string_view stem : kAbbrev2) {
    const std::size_t n = pattern(i, stem);
    if (n && at(i + n) == '.') best = std::max(best, n + 1);
  }
  return best;
}

std::size_t PtbLexer::phone(std::size_t i) const {
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

void PtbLexer::smiley(std::size_t i) {
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

std::size_t PtbLexer::asian_smiley(std::size_t i) const {
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

std::size_t PtbLexer::ldots(std::size_t i) const {
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

std::size_t PtbLexer::hthing(std::size_t i) const {
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

std::size_t PtbLexer::thing(std::size_t i) const {
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

std::size_t PtbLexer::thinga(std::size_t i) const {
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

std::size_t PtbLexer::quotes(std::size_t i) const {
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

U32 PtbLexer::replace_all(U32 s, char32_t from, const U32& to) {
  U32 out;
  for (char32_t c : s) {
    if (c == from) out += to;
    else out.push_back(c);
  }
  return out;
}

U32 PtbLexer::without_soft_hyphens(U32 s) {
  s.erase(std::remove(s.begin(), s.end(), char32_t{0xAD}), s.end());
  return s;
}

U32 PtbLexer::normalize_amp(const U32& s) {
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
U32 PtbLexer::latex_quotes(const U32& s, bool probably_left) {
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

U32 PtbLexer::brackets_to_ptb(const U32& s) {
  U32 out;
  for (char32_t c : s) {
    if (c == '(') out += U"-LRB-";
    else if (c == ')') out += U"-RRB-";
    else out.push_back(c);
  }
  return out;
}

U32 PtbLexer::output(std::size_t i, std::size_t len, std::size_t* next) const {
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

}  // namespace mrnn::tokenizer_detail
