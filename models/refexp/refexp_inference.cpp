#include "models/refexp/refexp_inference.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "core/autograd.h"
#include "core/error.h"
#include "eval/refexp.h"
#include "kernels/ops.h"
#include "models/refexp/listener.h"

namespace mrnn {

namespace {

Tensor rows_of(const Tensor& x, int64_t begin, int64_t end) {
  std::vector<int64_t> idx(static_cast<size_t>(end - begin));
  std::iota(idx.begin(), idx.end(), begin);
  return index_select(x, Tensor::from_vector(idx));
}

Tensor encode_all(const Speaker& speaker, const Tensor& x, int64_t chunk) {
  if (x.size(0) == 0) return Tensor::zeros({0, speaker.config().feature_dim});
  std::vector<Tensor> parts;
  const Device dev = speaker.device();
  for (int64_t b = 0; b < x.size(0); b += chunk)
    parts.push_back(speaker.encode(rows_of(x, b, std::min(x.size(0), b + chunk)).to(dev)).to(Device::cpu()));
  return parts.size() == 1 ? parts[0] : concat(parts, 0);
}

const std::vector<Box>& candidates(const RefexpSplit& s, int64_t u, bool proposals) {
  return proposals ? s.images.at(u).proposals : s.images.at(u).gt_boxes;
}

}  // namespace

SplitFeatures encode_split_features(const Speaker& speaker, const RefexpSplit& split, int64_t chunk) {
  MRNN_CHECK(split.has_pixels(), "{}: no images were read (give --images)", split.name);
  NoGradGuard ng;
  return {encode_all(speaker, split.crops, chunk), encode_all(speaker, split.whole, chunk)};
}

std::vector<std::vector<int64_t>> rank_candidates(const Speaker& speaker, const RefexpSplit& split,
                                                  const SplitFeatures& f, const std::vector<int64_t>& rows,
                                                  bool proposals, const std::vector<std::vector<int32_t>>& tokens,
                                                  int64_t max_pairs, const InferenceProgress& progress) {
  MRNN_CHECK(tokens.empty() || tokens.size() == rows.size(), "rank_candidates: {} token lists for {} rows",
             tokens.size(), rows.size());
  NoGradGuard ng;
  std::vector<std::vector<int64_t>> out(rows.size());
  std::map<int64_t, std::vector<size_t>> by_image;  // image -> positions in rows
  for (size_t i = 0; i < rows.size(); ++i) by_image[split.image_index.at(rows[i])].push_back(i);
  int64_t done = 0;
  const int64_t total = static_cast<int64_t>(rows.size());
  for (const auto& [u, pos] : by_image) {
    const std::vector<Box>& boxes = candidates(split, u, proposals);
    const int64_t R = static_cast<int64_t>(boxes.size());
    done += static_cast<int64_t>(pos.size());
    if (R == 0) continue;
    const RefexpImageEntry& im = split.images[u];
    const std::vector<int64_t> crow = candidate_rows(split, u, proposals);
    RegionQuery q;
    const Device dev = speaker.device();
    q.region = index_select(f.crops, Tensor::from_vector(crow)).to(dev);
    q.image = index_select(f.whole, Tensor::from_vector(std::vector<int64_t>{u})).to(dev);
    q.location = location_tensor(boxes, im.width, im.height).to(dev);
    const size_t per_call = static_cast<size_t>(std::max<int64_t>(1, max_pairs / R));
    for (size_t b = 0; b < pos.size(); b += per_call) {
      const size_t e = std::min(pos.size(), b + per_call);
      std::vector<std::vector<int32_t>> t;
      for (size_t i = b; i < e; ++i) t.push_back(tokens.empty() ? split.tokens.at(rows[pos[i]]) : tokens[pos[i]]);
      teacher_tensors(t, &q.inputs, &q.targets);
      const Comprehension c = comprehend(speaker, q);
      const auto s = c.scores.contiguous().to(DType::F64).to_vector<double>();
      for (size_t i = b; i < e; ++i) {
        std::vector<int64_t> order(static_cast<size_t>(R));
        std::iota(order.begin(), order.end(), 0);
        const double* row = s.data() + (i - b) * R;
        std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return row[x] > row[y]; });
        out[pos[i]] = std::move(order);
      }
    }
    if (progress) progress(done, total);
  }
  return out;
}

std::vector<Box> ranked_boxes(const RefexpSplit& split, int64_t row, const std::vector<int64_t>& order, bool proposals) {
  const std::vector<Box>& boxes = candidates(split, split.image_index.at(row), proposals);
  std::vector<Box> out;
  for (int64_t k : order) out.push_back(boxes.at(k));
  return out;
}

std::vector<std::vector<int64_t>> generate_expressions(const Speaker& speaker, const RefexpSplit& split,
                                                       const SplitFeatures& f, const std::vector<int64_t>& rows,
                                                       const DecodeOptions& options, int64_t chunk,
                                                       const InferenceProgress& progress) {
  NoGradGuard ng;
  std::vector<std::vector<int64_t>> out;
  for (size_t b = 0; b < rows.size(); b += static_cast<size_t>(chunk)) {
    const size_t e = std::min(rows.size(), b + static_cast<size_t>(chunk));
    std::vector<int64_t> crop, img;
    std::vector<float> loc;
    for (size_t i = b; i < e; ++i) {
      const int64_t r = rows[i], u = split.image_index.at(r);
      const RefexpImageEntry& im = split.images[u];
      crop.push_back(im.gt_row + split.gt_index.at(r));
      img.push_back(u);
      for (double v : location_features(split.boxes.at(r), im.width, im.height)) loc.push_back(static_cast<float>(v));
    }
    const int64_t n = static_cast<int64_t>(e - b);
    const Device dev = speaker.device();
    SpeakerStepModel m(speaker, index_select(f.crops, Tensor::from_vector(crop)).to(dev),
                       index_select(f.whole, Tensor::from_vector(img)).to(dev), Tensor::from_vector(loc, {n, 5}).to(dev));
    const std::vector<Hypothesis> h = options.beam_size <= 1 ? greedy_decode(m, options) : beam_decode(m, options);
    for (const Hypothesis& x : h) out.push_back(x.ids);
    if (progress) progress(static_cast<int64_t>(e), static_cast<int64_t>(rows.size()));
  }
  return out;
}

double gt_precision_at_1(const Speaker& speaker, const RefexpSplit& split, const SplitFeatures& f,
                         const std::vector<int64_t>& rows) {
  MRNN_CHECK(!rows.empty(), "{}: no expressions to comprehend", split.name);
  const auto ranked = rank_candidates(speaker, split, f, rows, false);
  std::vector<eval::Box> pred, truth;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Box p = split.images[split.image_index[rows[i]]].gt_boxes.at(ranked[i].at(0));
    const Box& t = split.boxes[rows[i]];
    pred.push_back({p[0], p[1], p[2], p[3]});
    truth.push_back({t[0], t[1], t[2], t[3]});
  }
  return eval::precision_at_1(pred, truth);
}

std::vector<int64_t> first_row_per_annotation(const RefexpSplit& split) {
  std::vector<int64_t> rows;
  std::set<int64_t> seen;
  for (int64_t r = 0; r < split.size(); ++r)
    if (seen.insert(split.annotation_ids[r]).second) rows.push_back(r);
  return rows;
}

}  // namespace mrnn
