// Hand-computed BLEU / ROUGE-L / CIDEr-D cases, input errors, and the helpers that make the
// scores match pycocoevalcap (Python's split semantics, numpy's summation order).
#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.h"
#include "eval/bleu.h"
#include "eval/caption_eval.h"
#include "eval/cider.h"
#include "eval/pairwise_sum.h"
#include "eval/rouge.h"
#include "eval/split.h"

using namespace mrnn::eval;
using Catch::Matchers::Contains;

TEST_CASE("perfect match: BLEU ~1, ROUGE-L 1, CIDEr-D 0 for a one-image corpus", "[eval][bleu]") {
  const CaptionMap refs = {{"1", {"a man rides a horse"}}};
  const CaptionMap res = {{"1", {"a man rides a horse"}}};
  const BleuScore b = bleu(refs, res);
  // (c + 1e-15) / (c + 1e-9) per order and a brevity ratio of 5 / (5 + 1e-9): 1 up to ~1e-9.
  for (int k = 0; k < 4; ++k) {
    CHECK(b.corpus[k] == Approx(1.0).margin(1e-9));
    CHECK(b.per_image[0][k] == Approx(1.0).margin(1e-9));
    CHECK(b.corpus[k] < 1.0);
  }
  CHECK(rouge_l(refs, res).corpus == 1.0);
  // With one image every reference n-gram has df = #images, so every tf-idf weight is 0.
  CHECK(cider_d(refs, res).corpus == 0.0);
}

TEST_CASE("disjoint hypothesis scores ~0", "[eval][bleu][rouge]") {
  const CaptionMap refs = {{"x", {"a b c d"}}};
  const CaptionMap res = {{"x", {"p q r"}}};
  const BleuScore b = bleu(refs, res);
  // BLEU-1 = (1e-15 / 3) * exp(1 - 4/3); higher orders are tiny but not 0.
  CHECK(b.corpus[0] == Approx(1e-15 / (3 + 1e-9) * std::exp(1.0 - 4.0 / 3.0)).epsilon(1e-9));
  for (int k = 0; k < 4; ++k) CHECK(b.corpus[k] < 1e-12);
  CHECK(rouge_l(refs, res).corpus == 0.0);
}

TEST_CASE("BLEU by hand: clipping, n-gram matches, closest length", "[eval][bleu]") {
  // hyp: the cat sat on the mat (6 words). Clipped matches: 1-grams the x2, cat, on, mat = 5/6;
  // 2-grams "the cat", "on the", "the mat" = 3/5; 3-grams "on the mat" = 1/4; 4-grams 0/3.
  // Closest reference length 6 (ratio (6 + 1e-15) / (6 + 1e-9), a penalty of ~1 - 1.7e-10).
  const CaptionMap refs = {{"7", {"the cat is on the mat", "there is a cat on the mat"}}};
  const CaptionMap res = {{"7", {"the cat sat on the mat"}}};
  const BleuScore b = bleu(refs, res);
  CHECK(b.corpus[0] == Approx(5.0 / 6).epsilon(1e-9));
  CHECK(b.corpus[1] == Approx(std::sqrt(0.5)).epsilon(1e-9));
  CHECK(b.corpus[2] == Approx(0.5).epsilon(1e-9));
  CHECK(b.corpus[3] == Approx(std::pow(0.125 * 1e-15 / 3, 0.25)).epsilon(1e-6));
  for (int k = 0; k < 4; ++k) CHECK(b.per_image[0][k] == b.corpus[k]);

  // Repeated words are clipped at the reference maximum: "the the the" vs "the cat": 1/3.
  const BleuScore clipped = bleu({{"c", {"the cat"}}}, {{"c", {"the the the"}}});
  CHECK(clipped.corpus[0] == Approx(1.0 / 3).epsilon(1e-9));
}

TEST_CASE("BLEU 'closest' picks the shorter reference length on a tie", "[eval][bleu]") {
  // Hypothesis of 4 words, references of 3 and 5: closest = 3, so no brevity penalty
  // (picking 5 would give BLEU-1 = exp(1 - 5/4) = 0.7788).
  const BleuScore b = bleu({{"t", {"a b c", "a b c d e"}}}, {{"t", {"a b c d"}}});
  CHECK(b.corpus[0] == Approx(1.0).margin(1e-9));
}

TEST_CASE("BLEU corpus score pools counts, per-image scores do not", "[eval][bleu]") {
  // Image 1: "a b" vs "a b": correct (2,1,0,0), guess (2,1,0,0), lengths 2/2.
  // Image 2: "c" vs "d e f": correct 0, guess (1,0,0,0), lengths 1/3.
  // Corpus: BLEU-1 = 2/3 * exp(1 - 5/3), BLEU-2 = sqrt(2/3 * 1/1) * exp(1 - 5/3).
  const CaptionMap refs = {{"1", {"a b"}}, {"2", {"d e f"}}};
  const CaptionMap res = {{"1", {"a b"}}, {"2", {"c"}}};
  const BleuScore b = bleu(refs, res);
  const double bp = std::exp(1.0 - 5.0 / 3.0);
  CHECK(b.corpus[0] == Approx(2.0 / 3 * bp).epsilon(1e-9));
  CHECK(b.corpus[1] == Approx(std::sqrt(2.0 / 3) * bp).epsilon(1e-9));
  CHECK(b.per_image[0][0] == Approx(1.0).margin(1e-9));
  CHECK(b.per_image[0][1] == Approx(1.0).margin(1e-9));
  CHECK(b.per_image[1][0] < 1e-12);
  REQUIRE(b.image_ids == std::vector<std::string>{"1", "2"});
}

TEST_CASE("ROUGE-L by hand, with independent precision and recall maxima", "[eval][rouge]") {
  // LCS("the cat sat on the mat", "the cat is on the mat") = 5: P = R = 5/6, so F = 5/6.
  CHECK(rouge_l_sentence("the cat sat on the mat", {"the cat is on the mat", "there is a cat on the mat"}) ==
        Approx(5.0 / 6).epsilon(1e-12));
  // Best precision (1, from the long reference) and best recall (1, from the short one) come
  // from different references; pycocoevalcap combines the maxima, giving 1.
  CHECK(rouge_l_sentence("a b c d", {"a b", "a b c d e f g h"}) == Approx(1.0).epsilon(1e-12));
  // P = 2/4, R = 2/3 -> (1 + 1.44) P R / (R + 1.44 P) = 0.5932...
  const double p = 0.5, r = 2.0 / 3;
  CHECK(rouge_l_sentence("a x b y", {"a b z"}) == Approx(2.44 * p * r / (r + 1.44 * p)).epsilon(1e-12));
  // split(" ") semantics: "" is one empty word (no match), a double space adds an empty word.
  CHECK(rouge_l_sentence("", {"a b"}) == 0.0);
  const double p2 = 2.0 / 3, r2 = 1.0;
  CHECK(rouge_l_sentence("a  b", {"a b"}) == Approx(2.44 * p2 * r2 / (r2 + 1.44 * p2)).epsilon(1e-12));
}

TEST_CASE("CIDEr-D by hand on a two-image corpus", "[eval][cider]") {
  // #images = 2 and every reference n-gram occurs in one image: weight = tf * (log 2 - log 1).
  // Image "b": hyp = ref = "d e": 1-gram cosine 1, 2-gram cosine 1, no 3/4-grams -> 10 * 2/4 = 5.
  // Image "a": hyp "a b" vs ref "a b c": 1-gram 2/(sqrt2 sqrt3), 2-gram 1/sqrt2, 3-gram 0 (hyp
  // has none), bigram counts 1 vs 2 -> penalty e^(-1/72): 10/4 * (2/sqrt6 + 1/sqrt2) e^(-1/72).
  const CaptionMap refs = {{"a", {"a b c"}}, {"b", {"d e"}}};
  const CaptionMap res = {{"a", {"a b"}}, {"b", {"d e"}}};
  const CiderScore c = cider_d(refs, res);
  const double a = 10.0 / 4 * (2 / std::sqrt(6.0) + 1 / std::sqrt(2.0)) * std::exp(-1.0 / 72);
  CHECK(c.per_image[0] == Approx(a).epsilon(1e-12));
  CHECK(c.per_image[1] == Approx(5.0).epsilon(1e-12));
  CHECK(c.corpus == Approx((a + 5.0) / 2).epsilon(1e-12));

  // A word absent from every reference gets weight log 2 (df clamped to 1) in the hypothesis
  // norm only: hyp "d e q" vs "d e": 1-gram 2/(sqrt3 sqrt2), 2-gram ("d e" vs "d e","e q")
  // 1/sqrt2, bigram counts 2 vs 1 -> e^(-1/72).
  const CiderScore oov = cider_d(refs, {{"a", {"a b"}}, {"b", {"d e q"}}});
  CHECK(oov.per_image[1] == Approx(10.0 / 4 * (2 / std::sqrt(6.0) + 1 / std::sqrt(2.0)) * std::exp(-1.0 / 72)).epsilon(1e-12));

  // sigma enters the length penalty: sigma = 1 gives e^(-1/2) for image "a".
  CHECK(cider_d(refs, res, 1.0).per_image[0] ==
        Approx(10.0 / 4 * (2 / std::sqrt(6.0) + 1 / std::sqrt(2.0)) * std::exp(-0.5)).epsilon(1e-12));
}

TEST_CASE("CIDEr-D document frequency uses only the evaluated images", "[eval][cider]") {
  const CaptionMap refs = {{"a", {"a b c"}}, {"b", {"d e"}}, {"unused", {"a b c", "x y"}}};
  const CaptionMap res = {{"a", {"a b"}}, {"b", {"d e"}}};
  CHECK(cider_d(refs, res).corpus == cider_d({{"a", {"a b c"}}, {"b", {"d e"}}}, res).corpus);
}

TEST_CASE("bad caption inputs give errors that name the image id", "[eval][errors]") {
  const CaptionMap refs = {{"img1", {"a b"}}, {"img2", {}}};
  CHECK_THROWS_WITH(bleu(refs, {{"img9", {"a"}}}), Contains("img9") && Contains("not in refs"));
  CHECK_THROWS_WITH(cider_d(refs, {{"img1", {"a", "b"}}}), Contains("img1") && Contains("2 result captions"));
  CHECK_THROWS_WITH(rouge_l(refs, {{"img1", {}}}), Contains("img1") && Contains("expected exactly 1"));
  CHECK_THROWS_WITH(evaluate_captions(refs, {{"img2", {"a"}}}), Contains("img2") && Contains("no reference"));
  CHECK_THROWS_AS(bleu(refs, {}), mrnn::Error);
}

TEST_CASE("evaluate_captions equals the single metrics", "[eval]") {
  const CaptionMap refs = {{"1", {"a man rides a horse", "a person on a horse"}},
                           {"2", {"two dogs play in the snow", "dogs in snow"}},
                           {"3", {"a red bus on the street"}}};
  const CaptionMap res = {{"1", {"a man riding a horse"}}, {"2", {"dogs playing in snow"}}, {"3", {"a bus"}}};
  const CaptionScores all = evaluate_captions(refs, res);
  const BleuScore b = bleu(refs, res);
  for (int k = 0; k < 4; ++k) CHECK(all.bleu.corpus[k] == b.corpus[k]);
  CHECK(all.cider_d.per_image == cider_d(refs, res).per_image);
  CHECK(all.rouge_l.per_image == rouge_l(refs, res).per_image);
  CHECK_FALSE(all.meteor.computed);
  CHECK(all.meteor.status == "METEOR not computed (no --meteor-jar given)");
}

TEST_CASE("split helpers follow Python's str.split() and str.split(\" \")", "[eval][split]") {
  std::vector<std::string_view> w;
  split_whitespace("  a \t b\n\nc ", w);
  CHECK(w == std::vector<std::string_view>{"a", "b", "c"});
  split_whitespace("", w);
  CHECK(w.empty());
  split_spaces("", w);
  CHECK(w == std::vector<std::string_view>{""});
  split_spaces("a  b ", w);
  CHECK(w == std::vector<std::string_view>{"a", "", "b", ""});
}

TEST_CASE("pairwise_sum reproduces numpy's summation order", "[eval][numpy]") {
  // np.sum([1.0] + [1e-16] * 300) == 1.000000000000029, while a left-to-right sum gives 1.0.
  std::vector<double> x(301, 1e-16);
  x[0] = 1.0;
  CHECK(pairwise_sum(x.data(), x.size()) == 1.000000000000029);
  double naive = 0;
  for (double v : x) naive += v;
  CHECK(naive == 1.0);
  CHECK(numpy_mean({1.0, 2.0, 4.0}) == 7.0 / 3);
}
