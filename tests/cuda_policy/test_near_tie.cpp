// The near-tie comparisons the GPU decoding tests use (tests/support/near_tie.h): they must accept
// exactly the differences rounding can explain and catch every other one.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <vector>

#include "tests/support/near_tie.h"

using namespace mrnn::testing;

TEST_CASE("near ties: ranked choices compare scores within eps and ids only where no rival is near", "[near_tie]") {
  const double eps = 1e-6;
  const Ranked want{{4, 7, 1}, {-1.0, -2.0, -3.0}};
  const std::vector<double> pool = {-1.0, -2.0, -3.0, -5.0};
  CHECK(compare_ranked(want, want, pool, eps).empty());
  CHECK(compare_ranked({{4, 7, 1}, {-1.0 + 9e-7, -2.0 - 9e-7, -3.0}}, want, pool, eps).empty());  // rounding
  // A score off by more than eps, and ids swapped without a tie, are caught.
  CHECK_THAT(compare_ranked({{4, 7, 1}, {-1.0, -2.0 + 3e-6, -3.0}}, want, pool, eps),
             Catch::Contains("position 1: score"));
  CHECK_THAT(compare_ranked({{7, 4, 1}, {-1.0, -2.0, -3.0}}, want, pool, eps),
             Catch::Contains("position 0: id 7, want 4"));
  CHECK_THAT(compare_ranked({{4, 7}, {-1.0, -2.0}}, want, pool, eps), Catch::Contains("lengths differ"));

  // Two candidates 1e-6 apart (within 2 eps): the device may rank them either way.
  const Ranked tied{{4, 7, 1}, {-1.0, -1.000001, -3.0}};
  const std::vector<double> tied_pool = {-1.0, -1.000001, -3.0, -5.0};
  int64_t unchecked = 0;
  CHECK(compare_ranked({{7, 4, 1}, {-1.0000005, -1.0000005, -3.0}}, tied, tied_pool, eps, &unchecked).empty());
  CHECK(unchecked == 2);
  // ...but the third, far from both, is still checked.
  CHECK_THAT(compare_ranked({{7, 4, 9}, {-1.0, -1.000001, -3.0}}, tied, tied_pool, eps),
             Catch::Contains("position 2: id 9, want 1"));
  // A rival outside the chosen list counts: the last kept candidate could be swapped for it.
  const std::vector<double> cutoff_pool = {-1.0, -2.0, -3.0, -3.0000015};
  CHECK(compare_ranked({{4, 7, 8}, {-1.0, -2.0, -3.0000008}}, want, cutoff_pool, eps).empty());
  CHECK_THAT(compare_ranked({{4, 7, 8}, {-1.0, -2.0, -3.0}}, want, pool, eps), Catch::Contains("id 8, want 1"));
  // 3 eps apart is no tie.
  CHECK_THAT(compare_ranked({{7, 4, 1}, {-1.0, -1.000003, -3.0}}, {{4, 7, 1}, {-1.0, -1.000003, -3.0}},
                            {-1.0, -1.000003, -3.0}, eps),
             Catch::Contains("position 0: id 7, want 4"));
}

TEST_CASE("near ties: infinities and NaN in ranked choices", "[near_tie]") {
  const double inf = INFINITY, eps = 1e-6;
  // Dead rows (-inf) tie each other: their ids are not compared, their scores must both be -inf.
  const Ranked want{{3, 2, 2}, {-1.0, -inf, -inf}};
  const std::vector<double> pool = {-1.0, -inf, -inf};
  CHECK(compare_ranked({{3, 5, 6}, {-1.0, -inf, -inf}}, want, pool, eps).empty());
  CHECK_THAT(compare_ranked({{3, 5, 6}, {-1.0, -1e300, -inf}}, want, pool, eps), Catch::Contains("position 1: score"));
  CHECK_THAT(compare_ranked({{3, 2, 2}, {-1.0, NAN, -inf}}, want, pool, eps), Catch::Contains("position 1: score"));
  CHECK(compare_ranked({{3}, {NAN}}, {{3}, {NAN}}, {NAN}, eps).empty());
  CHECK_THAT(compare_ranked({{3}, {1.0}}, {{3}, {NAN}}, {NAN}, eps), Catch::Contains("score"));
  CHECK(near_tie(-inf, -inf, eps));
  CHECK(!near_tie(-inf, -1e308, eps));
  CHECK(near_tie(1.0, 1.0 + 1.9e-6, eps));
  CHECK(!near_tie(1.0, 1.0 + 2.1e-6, eps));
}

TEST_CASE("near ties: a sequence may differ only after a near-tied step", "[near_tie]") {
  const double eps = 1e-5;
  // The reference's log-probabilities of each token at each position (after the common prefix).
  std::map<std::pair<size_t, int64_t>, double> lp = {{{0, 5}, -0.5}, {{1, 8}, -1.0}, {{1, 9}, -1.00001},
                                                     {{1, 4}, -2.0}, {{2, 3}, -0.1}, {{2, -1}, -0.10003}};
  auto gap = [&](size_t t, int64_t a, int64_t b) { return std::fabs(lp.at({t, a}) - lp.at({t, b})); };
  bool tied = true;
  CHECK(compare_sequence({5, 8, 3}, {5, 8, 3}, gap, eps, &tied).empty());
  CHECK(!tied);
  // 9 instead of 8 at position 1: the reference scores them 1e-5 apart (<= 2 eps), a near tie, so
  // the rest may differ.
  CHECK(compare_sequence({5, 9, 7, 7}, {5, 8, 3}, gap, eps, &tied).empty());
  CHECK(tied);
  // 4 instead of 8: a whole 1.0 apart.
  CHECK_THAT(compare_sequence({5, 4, 3}, {5, 8, 3}, gap, eps, &tied),
             Catch::Contains("position 1: id 4, want 8") && Catch::Contains("differ by 1"));
  CHECK(!tied);
  // Ending early (-1 is the end token) where the reference went on: 3e-5 apart > 2 eps.
  CHECK_THAT(compare_sequence({5, 8}, {5, 8, 3}, gap, eps), Catch::Contains("position 2: id -1, want 3"));
  CHECK(compare_sequence({5, 8}, {5, 8, 3}, gap, 2e-5).empty());
}
