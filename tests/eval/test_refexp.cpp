// Box IoU with the Google Refexp toolbox convention and precision@k, on hand-computed boxes.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "eval/refexp.h"

using namespace mrnn::eval;

TEST_CASE("IoU of [x, y, w, h] boxes, toolbox convention", "[eval][refexp]") {
  CHECK(box_iou({10, 10, 20, 20}, {10, 10, 20, 20}) == 1.0);
  // Overlap 5 x 10 = 50, union 150.
  CHECK(box_iou({0, 0, 10, 10}, {5, 0, 10, 10}) == Approx(1.0 / 3).epsilon(1e-15));
  CHECK(box_iou({0, 0, 10, 10}, {0, 0, 5, 5}) == 0.25);
  CHECK(box_iou({0, 0, 10, 10}, {20, 20, 5, 5}) == 0.0);
  // Touching boxes do not overlap (no "+1 pixel": that convention would give 10 / 190).
  CHECK(box_iou({0, 0, 10, 10}, {10, 0, 10, 10}) == 0.0);
  // Fractional coordinates: overlap 1 x 1, union 4 + 4 - 1.
  CHECK(box_iou({0.5, 0.5, 2, 2}, {1.5, 1.5, 2, 2}) == Approx(1.0 / 7).epsilon(1e-15));
  // Empty boxes: union below 1e-6 -> 0.
  CHECK(box_iou({0, 0, 0, 0}, {0, 0, 0, 0}) == 0.0);
  CHECK(box_iou({3, 3, -2, 4}, {0, 0, 10, 10}) == 0.0);
}

TEST_CASE("precision@1 and precision@k at IoU >= 0.5", "[eval][refexp]") {
  const std::vector<Box> truth = {{0, 0, 10, 10}, {0, 0, 10, 10}, {0, 0, 10, 20}, {0, 0, 10, 10}};
  // IoUs 1, 1/3, exactly 0.5 (counts: >=), 0.
  const std::vector<Box> top = {{0, 0, 10, 10}, {5, 0, 10, 10}, {0, 0, 10, 10}, {50, 50, 5, 5}};
  CHECK(precision_at_1(top, truth) == 0.5);
  CHECK(precision_at_1(top, truth, 0.3) == 0.75);

  // Query 1's second box hits: counted at k = 2, not at k = 1. Query 3 has no boxes.
  const std::vector<std::vector<Box>> ranked = {
      {{0, 0, 10, 10}}, {{5, 0, 10, 10}, {1, 0, 10, 10}}, {{0, 0, 10, 20}}, {}};
  CHECK(precision_at_k(ranked, truth, 1) == 0.5);
  CHECK(precision_at_k(ranked, truth, 2) == 0.75);
  // As in the toolbox, a query without boxes has best IoU 0, which passes a threshold of 0.
  CHECK(precision_at_k(ranked, truth, 1, 0.0) == 1.0);

  CHECK_THROWS_AS(precision_at_1({{0, 0, 1, 1}}, truth), mrnn::Error);
  CHECK_THROWS_AS(precision_at_k(ranked, truth, 0), mrnn::Error);
}
