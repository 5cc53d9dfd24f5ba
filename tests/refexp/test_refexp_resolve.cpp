// resolve_expression (data/refexp_resolve.h): attribute matches, extremes, vocabulary words from
// the scene file, and expressions outside the language.
#include <catch2/catch.hpp>

#include "data/refexp_resolve.h"
#include "data/tokenizer.h"

using namespace mrnn;

namespace {

SceneImage scene() {
  SceneImage s;
  s.width = s.height = 64;
  s.objects = {{"circle", "red", "small", 2, 2, 10, 10},
               {"circle", "blue", "large", 30, 2, 20, 20},
               {"square", "blue", "small", 40, 40, 8, 8}};
  return s;
}

SceneVocabulary vocab() {
  SceneVocabulary v;
  v.shapes = {{"circle", "circles"}, {"square", "squares"}, {"kreis", "kreise"}};
  v.colors = {"red", "blue"};
  v.sizes = {"small", "large"};
  return v;
}

std::vector<int> picks(const std::string& text) {
  const ReferentResolution r = resolve_expression(tokenize(text, TokenizerMode::word), scene(), vocab());
  REQUIRE(r.parsed);
  return r.objects;
}

}  // namespace

TEST_CASE("refexp resolve: attributes and extremes", "[refexp]") {
  CHECK(picks("the red circle") == std::vector<int>{0});
  CHECK(picks("the circle") == std::vector<int>{0, 1});
  CHECK(picks("the blue object") == std::vector<int>{1, 2});
  CHECK(picks("the circle on the left") == std::vector<int>{0});
  CHECK(picks("the circle on the right") == std::vector<int>{1});
  CHECK(picks("the blue shape at the bottom") == std::vector<int>{2});
  CHECK(picks("the small object").size() == 2);
  CHECK(picks("the large object") == std::vector<int>{1});
  CHECK(picks("the kreis").empty());  // a vocabulary word with no such object: resolves to none
  // Overlapping in x: neither circle lies strictly above the other, so "at the top" picks none.
  CHECK(picks("the circle at the top").empty());
  CHECK(resolve_expression({"the", "red", "circle"}, scene(), vocab()).unambiguous());
  CHECK_FALSE(resolve_expression({"the", "circle"}, scene(), vocab()).unambiguous());
}

TEST_CASE("refexp resolve: outside the language", "[refexp]") {
  for (const char* t : {"", "the", "red", "the circle circle", "the triangle", "the circle on the", "circle red"}) {
    const ReferentResolution r = resolve_expression(tokenize(t, TokenizerMode::word), scene(), vocab());
    CHECK_FALSE(r.parsed);
    CHECK(r.objects.empty());
    CHECK_FALSE(r.unambiguous());
  }
}
