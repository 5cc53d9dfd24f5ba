// Which objects of a scene (data/scene_file.h) a referring expression picks out, for the
// unambiguity rate of generated expressions: an expression is unambiguous when it resolves to
// exactly one object. Why here: the scene knows every object's attributes, so ambiguity can be
// measured directly instead of through a listener.
//
// Language: [det] [size] [colour] noun [extreme]
//   det     := "the" | "a" | "an"          noun := a shape word of the vocabulary, "object" or "shape"
//   extreme := "on the left" | "on the right" | "at the top" | "at the bottom"
// Size, colour and shape words come from the scene file's vocabulary; the structure words are
// English. Meaning: the objects whose annotated attributes equal the named ones; with an extreme,
// only a match that lies strictly beyond every other match in that direction (box edges, as
// data/scene_check.h's relations: "left" = its right edge <= the other's left edge).
#pragma once
#include <string>
#include <vector>

#include "data/scene_file.h"

namespace mrnn {

struct ReferentResolution {
  bool parsed = false;       // the whole expression is in the language above
  std::vector<int> objects;  // indices into scene.objects that it picks out (empty when not parsed)
  // Ensures: parsed and exactly one object.
  bool unambiguous() const { return parsed && objects.size() == 1; }
};

// Requires: words lowercase tokens. Ensures: the resolution as above.
ReferentResolution resolve_expression(const std::vector<std::string>& words, const SceneImage& scene,
                                      const SceneVocabulary& vocab);

}  // namespace mrnn
