// libFuzzer target for vocabulary files: any bytes either parse or throw mrnn::Error; what parses
// starts with the four special tokens and maps every token back to its own id.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "data/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const mrnn::Vocab v = mrnn::Vocab::parse(text, "fuzz_vocab.txt");
    if (v.size() < mrnn::Vocab::kNumSpecials || v.token(mrnn::Vocab::kEos) != "<eos>") std::abort();
    for (int32_t i = 0; i < v.size(); ++i)
      if (v.id(v.token(i)) != i) std::abort();
  } catch (const mrnn::Error&) {
  }
  return 0;
}
