#include "eval/refexp.h"

#include <algorithm>

#include "core/error.h"

namespace mrnn::eval {
namespace {
double area(double w, double h) { return w <= 0 || h <= 0 ? 0.0 : w * h; }
}  // namespace

double box_iou(const Box& a, const Box& b) {
  const double ov_x = std::max(a.x, b.x);
  const double ov_y = std::max(a.y, b.y);
  const double ov_w = std::min(a.x + a.w - 1, b.x + b.w - 1) - ov_x + 1;
  const double ov_h = std::min(a.y + a.h - 1, b.y + b.h - 1) - ov_y + 1;
  const double area_o = area(ov_w, ov_h);
  const double area_u = area(a.w, a.h) + area(b.w, b.h) - area_o;
  if (area_u < 0.000001) return 0.0;
  return area_o / area_u;
}

double precision_at_k(const std::vector<std::vector<Box>>& ranked, const std::vector<Box>& truth,
                      size_t k, double iou_threshold) {
  MRNN_CHECK(!truth.empty(), "refexp: no queries (expected at least one ground-truth box)");
  MRNN_CHECK(ranked.size() == truth.size(),
             "refexp: {} predicted box lists for {} ground-truth boxes (expected one per query)",
             ranked.size(), truth.size());
  MRNN_CHECK(k >= 1, "refexp: k = {} (expected >= 1)", k);
  size_t correct = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    double best = 0.0;
    for (size_t j = 0; j < std::min(k, ranked[q].size()); ++j)
      best = std::max(best, box_iou(ranked[q][j], truth[q]));
    correct += best >= iou_threshold;
  }
  return static_cast<double>(correct) / static_cast<double>(truth.size());
}

double precision_at_1(const std::vector<Box>& predicted, const std::vector<Box>& truth,
                      double iou_threshold) {
  MRNN_CHECK(predicted.size() == truth.size(),
             "refexp: {} predicted boxes for {} ground-truth boxes (expected one per query)",
             predicted.size(), truth.size());
  std::vector<std::vector<Box>> ranked(predicted.size());
  for (size_t q = 0; q < predicted.size(); ++q) ranked[q] = {predicted[q]};
  return precision_at_k(ranked, truth, 1, iou_threshold);
}

}  // namespace mrnn::eval
