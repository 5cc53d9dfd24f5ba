#include "data/refexp_resolve.h"

#include <algorithm>

namespace mrnn {

namespace {

enum class Extreme { none, left, right, top, bottom };

bool beyond(Extreme e, const SceneObject& a, const SceneObject& b) {
  switch (e) {
    case Extreme::left: return a.x + a.w <= b.x;
    case Extreme::right: return b.x + b.w <= a.x;
    case Extreme::top: return a.y + a.h <= b.y;
    case Extreme::bottom: return b.y + b.h <= a.y;
    case Extreme::none: return true;
  }
  return false;
}

bool contains(const std::vector<std::string>& v, const std::string& w) { return std::find(v.begin(), v.end(), w) != v.end(); }

}  // namespace

ReferentResolution resolve_expression(const std::vector<std::string>& words, const SceneImage& scene,
                                      const SceneVocabulary& vocab) {
  ReferentResolution out;
  size_t i = 0;
  auto at = [&](size_t k) -> const std::string& {
    static const std::string none;
    return k < words.size() ? words[k] : none;
  };
  if (at(i) == "the" || at(i) == "a" || at(i) == "an") ++i;
  std::string size, colour, shape;
  if (contains(vocab.sizes, at(i))) size = words[i++];
  if (contains(vocab.colors, at(i))) colour = words[i++];
  if (vocab.shapes.count(at(i))) {
    shape = words[i++];
  } else if (at(i) == "object" || at(i) == "shape") {
    ++i;
  } else {
    return out;
  }
  Extreme e = Extreme::none;
  if (at(i) == "on" && at(i + 1) == "the" && (at(i + 2) == "left" || at(i + 2) == "right")) {
    e = at(i + 2) == "left" ? Extreme::left : Extreme::right;
    i += 3;
  } else if (at(i) == "at" && at(i + 1) == "the" && (at(i + 2) == "top" || at(i + 2) == "bottom")) {
    e = at(i + 2) == "top" ? Extreme::top : Extreme::bottom;
    i += 3;
  }
  if (i != words.size()) return out;
  out.parsed = true;
  std::vector<int> match;
  for (int k = 0; k < static_cast<int>(scene.objects.size()); ++k) {
    const SceneObject& o = scene.objects[k];
    if ((!size.empty() && o.size != size) || (!colour.empty() && o.color != colour) || (!shape.empty() && o.shape != shape))
      continue;
    match.push_back(k);
  }
  for (int a : match) {
    bool ok = true;
    for (int b : match)
      if (b != a && !beyond(e, scene.objects[a], scene.objects[b])) ok = false;
    if (ok) out.objects.push_back(a);
  }
  return out;
}

}  // namespace mrnn
