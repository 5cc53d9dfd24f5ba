// Checking a caption against the scene it describes: every claim a sentence makes about objects,
// their attributes, counts, positions and relations is parsed and judged true or false from the
// scene's annotations (data/scene_file.h).
// Why: a generated caption can score well on n-gram metrics and still be false ("a blue triangle
// above a blue diamond" for an image with neither); when the dataset knows its scenes, truth can be
// measured directly.
//
// The language understood is the attribute–object–relation language of a scene file's vocabulary:
//   sentence := [prefix] item {["and" | ","] item}
//   prefix   := "there is" | "there are" | "an image with" | "a picture of" | "only"
//   item     := np [["is" | "are"] (relation np | location)]
//   np       := det [size] [colour] noun          det := a | an | one..four | no | only one
//   noun     := shape word, its plural, "shape(s)" or "object(s)"
//   relation := "to the left of" | "left of" | "to the right of" | "right of" | "above" | "below"
//   location := "at the top" | "at the bottom" | "on the left" | "on the right" | "in the middle"
//               | "in the (top|bottom) (left|right) corner"
// Words come from the scene file (shape, plural, colour and size words), so a dataset with other
// objects or another language's words only needs another vocabulary; the structure words above are
// English.
//
// Meaning. "a/an" claims that at least one object matches; a number word claims that exactly that
// many match ("no" = none); "only one" exactly one. A relation claims a matching object A and a
// different matching object B with the relation between their boxes (strict, as holds() in
// data/shapes_world.h). A location claims a matching object whose box centre lies in that band.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "data/scene_file.h"

namespace mrnn {

enum class ClaimKind { object, count, relation, location };
inline constexpr int kNumClaimKinds = 4;
// Ensures: "object", "count", "relation" or "location".
const char* claim_kind_name(ClaimKind k);

// One claim of a sentence, over words [word_begin, word_end) of the checked token list.
struct Claim {
  ClaimKind kind = ClaimKind::object;
  size_t word_begin = 0, word_end = 0;
  bool holds = false;
};

struct CaptionCheck {
  bool parsed = false;        // the whole sentence was understood (else claims may be partial)
  std::vector<Claim> claims;  // in sentence order
  // Ensures: parsed, at least one claim, and every claim holds.
  bool correct() const;
};

// Requires: `words` lowercase tokens of one sentence (punctuation as separate tokens or absent).
// Ensures: the claims of the sentence judged against `scene`; parsed=false (and the claims read
// before the first word not understood) when the sentence is outside the language above.
CaptionCheck check_caption(const std::vector<std::string>& words, const SceneImage& scene,
                           const SceneVocabulary& vocab);

// Totals over many captions, for a metrics table.
struct SceneCheckSummary {
  size_t captions = 0, parsed = 0, correct = 0;
  size_t claims[kNumClaimKinds] = {}, true_claims[kNumClaimKinds] = {};
  // Ensures: 100 * correct / captions (0 when empty).
  double correct_percent() const;
  // Ensures: 100 * true claims / claims of kind k (0 when none).
  double precision_percent(ClaimKind k) const;
};
void add(SceneCheckSummary& s, const CaptionCheck& c);

}  // namespace mrnn
