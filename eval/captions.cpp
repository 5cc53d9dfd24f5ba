#include "eval/captions.h"

#include "core/error.h"

namespace mrnn::eval {

void check_caption_inputs(const CaptionMap& refs, const CaptionMap& results, const char* metric) {
  MRNN_CHECK(!results.empty(), "{}: results are empty (expected at least one image id)", metric);
  for (const auto& [id, hyp] : results) {
    MRNN_CHECK(hyp.size() == 1,
               "{}: image id '{}' has {} result captions (expected exactly 1)", metric, id,
               hyp.size());
    const auto it = refs.find(id);
    MRNN_CHECK(it != refs.end(),
               "{}: image id '{}' is in results but not in refs (expected a reference entry)",
               metric, id);
    MRNN_CHECK(!it->second.empty(),
               "{}: image id '{}' has no reference captions (expected at least 1)", metric, id);
  }
}

}  // namespace mrnn::eval
