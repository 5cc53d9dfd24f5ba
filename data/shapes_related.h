// ShapesWorld's related-phrase test (eval/related_pairs.h format), with the truth taken from the
// rendered world rather than from the captions: colours are related by their distance in rendered
// RGB, shapes by the overlap (soft IoU) of their rendered masks, and "size shape" phrases by the
// rendered area. Why: in ShapesWorld every colour word appears in the same sentence contexts, so
// only a model that looked at the images can know that orange looks more like red than like blue.
// How the items are made is in docs/embeddings.md.
#pragma once
#include <string>
#include <vector>

namespace mrnn {
namespace shapes {

struct RelatedItem {
  std::string query, a, b;  // phrases (words separated by spaces)
  bool a_related = true;
  std::string category;     // "color", "shape" or "size"
  double dist_a = 0, dist_b = 0;  // the rendered-world distances the answer comes from
};

// The margin a triple must clear: the farther candidate is at least this many times as far.
inline constexpr double kRelatedMargin = 1.5;

// Requires: 32 <= image_size <= 1024. Ensures: for every query and every unordered pair of other
// candidates of a category whose distances differ by kRelatedMargin, one item naming the nearer as
// related; candidate order alternates A/B item by item (balanced answers). Base shapes only (the
// novel shapes are not in the Karpathy captions). Deterministic: depends on image_size alone.
std::vector<RelatedItem> related_items(int image_size);

// The items as a ranking TSV file with a '#' header saying how they were made.
std::string related_items_tsv(int image_size);

}  // namespace shapes
}  // namespace mrnn
