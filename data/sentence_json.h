// Reading one image's "sentences" array, shared by the Karpathy split reader and the NVC reader.
// Why: both formats store captions the same way ({raw, tokens, <image id>, <sentence id>}) and
// differ only in the key names, so the checks (non-empty tokens, matching image id, unique
// sentence ids, skip_bad) live in one place.
#pragma once
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "data/json_util.h"
#include "data/karpathy.h"
#include "data/tokenizer.h"

namespace mrnn::jsonio {

// What differs between the formats: the key names of the ids, and how captions are re-tokenized.
struct SentenceFormat {
  const char* image_id_key;     // "imgid" (Karpathy), "image_id" (NVC)
  const char* sentence_id_key;  // "sentid" (Karpathy), "sentence_id" (NVC)
  bool retokenize = false;      // replace "tokens" by tokenize(raw, mode)
  TokenizerMode mode = TokenizerMode::word;
  bool skip_bad = false;        // drop a bad sentence (counted in `skip`) instead of throwing
};

// Reads image[sentences] at `at` (the image object's path) for the image with id `image_id`.
// Each sentence requires "raw" and "tokens"; its image id and sentence id are optional (the
// sentence sits inside its image, and nothing downstream needs a sentence id).
// Ensures: every returned sentence has a raw string, a non-empty token list, image_id ==
// `image_id` (a present image id must equal it) and either sentence_id -1 (absent) or an id >= 0
// not in `seen_ids` nor repeated within the image; those ids are then added to `seen_ids`. Throws mrnn::Error naming the file and JSON path when a sentence is bad (or, with
// skip_bad, counts it in `skip` and drops it), and when no valid sentence is left.
std::vector<Sentence> read_image_sentences(const Json& image, const Where& at, int64_t image_id,
                                           const SentenceFormat& format, std::unordered_set<int64_t>& seen_ids,
                                           SkipLog& skip);

}  // namespace mrnn::jsonio
