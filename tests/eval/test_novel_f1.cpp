// Novel-word F1 (eval/novel_f1.h) against counts worked out by hand.
#include <catch2/catch.hpp>

#include "eval/novel_f1.h"

using namespace mrnn::eval;

TEST_CASE("novel F1: mentions follow the DCC normalisation", "[novel_f1]") {
  CHECK(mention_tokens("A Star, left of 2 hexagons!") ==
        std::vector<std::string>{"a", "star", "left", "of", "2", "hexagons"});
  CHECK(mentions("a red STAR.", {"star"}));
  CHECK_FALSE(mentions("a red starfish", {"star"}));  // whole words only
  CHECK(mentions("two stars", {"star", "stars"}));
  CHECK(mentions("a t rex roars", {"t-rex"}));
  CHECK(mentions("the T-Rex", {"t-rex"}));
  CHECK_FALSE(mentions("a rex", {"t-rex"}));
  CHECK_FALSE(mentions("", {"star"}));
}

TEST_CASE("novel F1: tp, fp, fn, precision, recall and F1 from hand-counted captions", "[novel_f1]") {
  // 4 positives: 3 mention the word (one by its plural); 5 negatives: 1 mentions it.
  const std::vector<std::string> pos = {"a red star", "two stars", "a blue square", "the star is left"};
  const std::vector<std::string> neg = {"a circle", "a star", "red square", "blue circle", "starfish"};
  const NovelF1 r = novel_word_f1({"star", "stars"}, pos, neg);
  CHECK(r.tp == 3);
  CHECK(r.fn == 1);
  CHECK(r.fp == 1);
  CHECK(r.precision == Approx(0.75));
  CHECK(r.recall == Approx(0.75));
  CHECK(r.f1 == Approx(0.75));
  // Singular only: "two stars" no longer counts. P = 2/3, R = 2/4, F1 = 2PR/(P+R) = 4/7.
  const NovelF1 s = novel_word_f1({"star"}, pos, neg);
  CHECK(s.tp == 2);
  CHECK(s.fn == 2);
  CHECK(s.f1 == Approx(4.0 / 7.0));
  // Never said where it should be: F1 0 (no division by zero), however many false positives.
  const NovelF1 z = novel_word_f1({"hexagon"}, pos, {"a hexagon"});
  CHECK(z.tp == 0);
  CHECK(z.fp == 1);
  CHECK(z.fn == 4);
  CHECK(z.f1 == 0);
  CHECK(z.precision == 0);
}
