// Referring-expression comprehension metrics: box IoU and precision@k at an IoU threshold.
// Why: the Google Refexp benchmark scores a listener by whether its top box hits the referred
// object (IoU >= 0.5); we use the Google Refexp toolbox's exact IoU formula.
//
// Conventions (Google_Refexp_toolbox common_utils.iou_bboxes / refexp_eval.py): boxes are
// [x, y, w, h] with (x, y) the top-left corner; overlap width = min(x1 + w1 - 1, x2 + w2 - 1)
// - max(x1, x2) + 1 (the -1 and +1 cancel: no extra pixel, area = w * h); a box with w <= 0 or
// h <= 0 has area 0; IoU = 0 when the union is below 1e-6. precision@k: a query counts as correct
// when the best IoU among its first k predicted boxes (0 if it has none) is >= the threshold; the
// result is the fraction (0..1) of correct queries.
#pragma once
#include <cstddef>
#include <vector>

namespace mrnn::eval {

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

// Requires nothing. Ensures: the toolbox's IoU in [0, 1] (0 for disjoint or empty boxes).
double box_iou(const Box& a, const Box& b);

// ranked[q] = predicted boxes for query q, best first; truth[q] = its ground-truth box.
// Requires ranked.size() == truth.size() > 0, k >= 1. Ensures: the fraction of queries whose
// best IoU over ranked[q][0 .. min(k, size)) is >= iou_threshold; else throws mrnn::Error.
double precision_at_k(const std::vector<std::vector<Box>>& ranked, const std::vector<Box>& truth,
                      size_t k = 1, double iou_threshold = 0.5);

// precision@1 with one predicted box per query. Requires predicted.size() == truth.size() > 0.
double precision_at_1(const std::vector<Box>& predicted, const std::vector<Box>& truth,
                      double iou_threshold = 0.5);

}  // namespace mrnn::eval
