#include "data/sentence_json.h"

#include <fmt/format.h>

#include "core/error.h"

namespace mrnn::jsonio {

namespace {

Sentence read_sentence(const Json& value, const Where& at, int64_t image_id, const SentenceFormat& f) {
  const Json& js = object(value, at);
  Sentence s;
  s.raw = string(member(js, "raw", at), at.key("raw"));
  s.tokens = string_array(member(js, "tokens", at), at.key("tokens"));
  for (std::size_t k = 0; k < s.tokens.size(); ++k)
    if (s.tokens[k].empty()) fail(at.key("tokens").index(k), "empty token");
  // Both ids are redundant (the sentence sits inside its image); when present they are checked.
  s.image_id = image_id;
  if (const Json* v = find(js, f.image_id_key)) {
    const int64_t id = integer(*v, at.key(f.image_id_key));
    if (id != image_id)
      fail(at.key(f.image_id_key),
           fmt::format("expected the image's {} {}, found {}", f.image_id_key, image_id, id));
  }
  if (const Json* v = find(js, f.sentence_id_key)) {
    s.sentence_id = integer(*v, at.key(f.sentence_id_key));
    if (s.sentence_id < 0)
      fail(at.key(f.sentence_id_key), fmt::format("expected an id >= 0, found {}", s.sentence_id));
  }
  if (f.retokenize) s.tokens = tokenize(s.raw, f.mode);
  if (s.tokens.empty()) fail(at.key(f.retokenize ? "raw" : "tokens"), "empty caption: expected at least one token");
  return s;
}

}  // namespace

std::vector<Sentence> read_image_sentences(const Json& image, const Where& at, int64_t image_id,
                                           const SentenceFormat& format, std::unordered_set<int64_t>& seen_ids,
                                           SkipLog& skip) {
  const Where sents_at = at.key("sentences");
  const Json& sents = array(member(image, "sentences", at), sents_at);
  std::vector<Sentence> out;
  std::unordered_set<int64_t> local_ids;
  for (std::size_t j = 0; j < sents.size(); ++j) {
    const Where sat = sents_at.index(j);
    try {
      Sentence s = read_sentence(sents[j], sat, image_id, format);
      if (s.sentence_id >= 0 && (seen_ids.count(s.sentence_id) || !local_ids.insert(s.sentence_id).second))
        fail(sat.key(format.sentence_id_key), fmt::format("duplicate {} {}", format.sentence_id_key, s.sentence_id));
      out.push_back(std::move(s));
    } catch (const Error& e) {
      if (!format.skip_bad) throw;
      skip.add(e.what());
    }
  }
  if (out.empty()) fail(sents_at, "expected at least one valid sentence, found none");
  seen_ids.insert(local_ids.begin(), local_ids.end());
  return out;
}

}  // namespace mrnn::jsonio
