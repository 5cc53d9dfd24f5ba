// UTF-8 decoding and encoding for the tokenizers (internal to data/). Why: the tokenizers work on
// code points, captions arrive and leave as UTF-8, and invalid input must be rejected with its
// byte offset, never repaired.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace mrnn::tokenizer_detail {

using U32 = std::u32string;  // decoded text: one element per code point

// Decodes one code point at text[i].
// Requires: i < text.size().
// Ensures: returns its byte length (1-4) and sets *out, or returns 0 (and leaves *out alone) if the
// sequence is invalid: a bad lead or continuation byte, truncated, overlong, a surrogate, or above
// U+10FFFF.
std::size_t decode_one(std::string_view text, std::size_t i, char32_t* out);

// Requires: text is valid UTF-8; otherwise throws mrnn::Error ("tokenize: invalid UTF-8 at byte
// offset N ...").
// Ensures: one element per code point, in order.
std::u32string decode_utf8(std::string_view text);

// Requires: cp <= U+10FFFF. Ensures: cp's 1-4 byte UTF-8 form is appended to out.
void append_utf8(std::string& out, char32_t cp);

// Ensures: the UTF-8 form of every code point of s, in order.
std::string encode_utf8(const std::u32string& s);

}  // namespace mrnn::tokenizer_detail
