// libFuzzer target for Google Refexp (COCO-aligned) files: any bytes either parse or throw
// mrnn::Error (or a nlohmann exception); what parses is sorted and internally consistent.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/refexp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool skip_bad : {false, true}) {
    try {
      mrnn::RefexpOptions o;
      o.skip_bad = skip_bad;
      o.retokenize = skip_bad;
      const auto d = mrnn::parse_refexp(text, "fuzz_refexp.json", o);
      std::set<int64_t> images, refexps;
      for (const auto& img : d.images) images.insert(img.image_id);
      for (const auto& r : d.refexps) {
        if (r.tokens.empty()) std::abort();
        refexps.insert(r.refexp_id);
      }
      for (const auto& a : d.annotations) {
        if (!images.count(a.image_id) || a.bbox[2] < 0 || a.bbox[3] < 0) std::abort();
        for (int64_t id : a.refexp_ids)
          if (!refexps.count(id)) std::abort();
      }
    } catch (const mrnn::Error&) {
    } catch (const nlohmann::json::exception&) {
    }
  }
  return 0;
}
