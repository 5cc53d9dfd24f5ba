// libFuzzer target for NVC-Dataset files: any bytes either parse or throw mrnn::Error (or a
// nlohmann exception); every kept image names a listed concept and has non-empty sentences.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/nvc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool skip_bad : {false, true}) {
    try {
      mrnn::NvcOptions o;
      o.skip_bad = skip_bad;
      o.retokenize = skip_bad;
      o.mode = mrnn::TokenizerMode::character;
      const auto d = mrnn::parse_nvc(text, "fuzz_nvc.json", o);
      for (const auto& img : d.images) {
        if (std::find(d.concepts.begin(), d.concepts.end(), img.concept_name) == d.concepts.end())
          std::abort();
        if (img.sentences.empty() || img.split == mrnn::Split::restval) std::abort();
        for (const auto& s : img.sentences)
          if (s.tokens.empty()) std::abort();
      }
    } catch (const mrnn::Error&) {
    } catch (const nlohmann::json::exception&) {
    }
  }
  return 0;
}
