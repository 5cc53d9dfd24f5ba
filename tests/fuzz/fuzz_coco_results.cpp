// libFuzzer target for COCO results files: any bytes either parse or throw mrnn::Error (or a
// nlohmann exception); what parses survives format_coco_results -> parse_coco_results unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/coco_captions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mrnn::CocoResultsOptions o;
  o.skip_bad = true;
  o.allow_empty_captions = true;
  mrnn::CocoResults r;
  try {
    r = mrnn::parse_coco_results(text, "fuzz_results.json", o);
  } catch (const mrnn::Error&) {
    return 0;
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  std::vector<mrnn::CocoResult> valid;
  for (const auto& x : r.results)
    if (x.image_id >= 0) valid.push_back(x);
  const auto again = mrnn::parse_coco_results(mrnn::format_coco_results(valid), "again.json", o);
  if (again.results.size() != valid.size()) std::abort();
  for (std::size_t i = 0; i < valid.size(); ++i)
    if (again.results[i].image_id != valid[i].image_id || again.results[i].caption != valid[i].caption)
      std::abort();
  return 0;
}
