// Caption inputs shared by the caption metrics: image id -> already-tokenized captions.
// Why: the metrics take exactly what pycocoevalcap's scorers receive after its PTBTokenizer
// (tokens joined by single spaces), so our scores can be compared with the reference bit for bit.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace mrnn::eval {

// image id -> tokenized captions. Iteration (and so per-image score) order is the map's key order.
using CaptionMap = std::map<std::string, std::vector<std::string>>;

// Validates a (refs, results) pair the way every caption metric needs it.
// Requires nothing. Ensures: returns only if results is non-empty and every id in results has
// exactly one caption and is a key of refs with at least one caption; otherwise throws
// mrnn::Error naming `metric`, the offending image id and what was expected.
// Ids that are only in refs are allowed and ignored (as COCOEvalCap restricts the references
// to the images of the result file).
void check_caption_inputs(const CaptionMap& refs, const CaptionMap& results, const char* metric);

}  // namespace mrnn::eval
