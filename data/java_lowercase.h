// Java's String.toLowerCase (root locale) for the scripts captions use (internal to data/). Why:
// pycocoevalcap lowercases with the Stanford tokenizer in Java, so matching its tokens means
// matching Java's case mapping, including its final-sigma rule.
#pragma once
#include <string>

namespace mrnn::tokenizer_detail {

// One code point's lowercase form (Latin, Greek, Cyrillic, Armenian, Georgian, Roman numerals,
// circled and fullwidth letters). Ensures: c itself when it has no lowercase mapping.
char32_t lower_one(char32_t c);

// The whole string lowercased as Java does it.
// Ensures: U+0130 becomes "i" + U+0307 (so the result may be longer); capital sigma becomes final
// sigma when a cased letter precedes it and none follows within the same word (Java's word
// BreakIterator rules); every other code point maps through lower_one.
std::u32string java_lower(const std::u32string& s);

}  // namespace mrnn::tokenizer_detail
