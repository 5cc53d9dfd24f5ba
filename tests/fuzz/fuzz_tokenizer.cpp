// libFuzzer target for the caption tokenizer: any bytes either tokenize or throw mrnn::Error
// (invalid UTF-8); every token must be non-empty valid UTF-8, and word-mode tokens hold no space.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "data/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (mrnn::TokenizerMode mode : {mrnn::TokenizerMode::word, mrnn::TokenizerMode::character}) {
    try {
      for (const std::string& t : mrnn::tokenize(text, mode)) {
        if (t.empty() || mrnn::find_invalid_utf8(t) != std::string_view::npos) std::abort();
        if (mode == mrnn::TokenizerMode::word && t.find_first_of(" \t\n\r") != std::string::npos)
          std::abort();
      }
    } catch (const mrnn::Error&) {
      if (mrnn::find_invalid_utf8(text) == std::string_view::npos) std::abort();  // valid input
    }
  }
  return 0;
}
