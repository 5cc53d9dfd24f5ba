// libFuzzer target for Karpathy split files: any bytes either parse or throw mrnn::Error (or a
// nlohmann exception); what parses keeps the reader's promises (sentences and tokens non-empty).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/karpathy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mrnn::KarpathyOptions strict, lenient;
  lenient.skip_bad = true;
  lenient.retokenize = true;
  lenient.restval_into_train = true;
  for (const auto* opts : {&strict, &lenient}) {
    try {
      const auto d = mrnn::parse_karpathy(text, "fuzz_dataset.json", *opts);
      for (const auto& img : d.images) {
        if (img.sentences.empty()) std::abort();
        if (opts == &lenient && img.split == mrnn::Split::restval) std::abort();
        for (const auto& s : img.sentences)
          if (s.tokens.empty() || s.image_id != img.imgid) std::abort();
      }
      if (d.skip_reasons.size() > static_cast<std::size_t>(d.skipped)) std::abort();
    } catch (const mrnn::Error&) {
    } catch (const nlohmann::json::exception&) {
    }
  }
  return 0;
}
