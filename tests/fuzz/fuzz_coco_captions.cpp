// libFuzzer target for COCO caption annotation files: any bytes either parse or throw
// mrnn::Error (or a nlohmann exception); every kept annotation points to a kept image.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/coco_captions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool skip_bad : {false, true}) {
    try {
      mrnn::CocoReadOptions o;
      o.skip_bad = skip_bad;
      const auto c = mrnn::parse_coco_captions(text, "fuzz_captions.json", o);
      std::set<int64_t> ids;
      for (const auto& img : c.images) ids.insert(img.id);
      for (const auto& a : c.annotations)
        if (!ids.count(a.image_id) || a.caption.empty()) std::abort();
    } catch (const mrnn::Error&) {
    } catch (const nlohmann::json::exception&) {
    }
  }
  return 0;
}
