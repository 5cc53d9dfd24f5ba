#include "models/refexp/refexp_task.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "core/random.h"
#include "kernels/ops.h"
#include "models/engine/json_fields.h"
#include "models/refexp/losses.h"
#include "models/refexp/refexp_inference.h"

namespace mrnn {

namespace {

struct RefexpBatch : Batch {
  int64_t epoch = 0;
  std::vector<int64_t> rows;
};

}  // namespace

RefexpTask::RefexpTask(Speaker& model, const RefexpSplit& train, const RefexpSplit& val, const RefexpTaskOptions& o)
    : model_(model), train_(train), val_(val), opt_(o) {
  MRNN_CHECK(o.mmi == "none" || o.mmi == "softmax" || o.mmi == "margin",
             "refexp: --mmi must be none, softmax or margin, got '{}'", o.mmi);
  MRNN_CHECK(o.batch_size >= 1, "refexp: --batch must be >= 1, got {}", o.batch_size);
  MRNN_CHECK(o.margin >= 0 && o.lambda >= 0, "refexp: --margin and --lambda must be >= 0, got {} and {}", o.margin,
             o.lambda);
  MRNN_CHECK(train.has_pixels() && val.has_pixels(), "refexp: the splits have no pixels (give --images)");
  MRNN_CHECK(train.tokens.size() == train.words.size() && val.tokens.size() == val.words.size(),
             "refexp: the splits are not encoded with the vocabulary");
  for (int64_t r = 0; r < train.size(); ++r) {
    if (o.mmi != "none" && train.images[train.image_index[r]].gt_boxes.size() < 2) {
      ++skipped_;
      continue;
    }
    rows_.push_back(r);
  }
  MRNN_CHECK(!rows_.empty(),
             "refexp: --mmi {}: every training image of {} has a single object, so no expression has another region "
             "to be contrasted with ({} expressions skipped); train with --mmi none",
             o.mmi, train.name, skipped_);
  MRNN_CHECK(val.size() >= 1, "refexp: the validation file {} has no expressions", val.name);
}

std::vector<int64_t> RefexpTask::epoch_order(int64_t epoch) const {
  if (cached_epoch_ != epoch) {
    Generator g(opt_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1);
    order_ = rows_;
    for (int64_t i = static_cast<int64_t>(order_.size()) - 1; i > 0; --i)
      std::swap(order_[i], order_[static_cast<int64_t>(g.randint(static_cast<uint64_t>(i + 1)))]);
    cached_epoch_ = epoch;
  }
  return order_;
}

std::unique_ptr<Batch> RefexpTask::next_batch(int64_t epoch, int64_t pos) {
  const std::vector<int64_t> order = epoch_order(epoch);
  auto b = std::make_unique<RefexpBatch>();
  const int64_t end = std::min(epoch_size(), pos + opt_.batch_size);
  b->rows.assign(order.begin() + pos, order.begin() + end);
  b->epoch = epoch;
  b->consumed = end - pos;
  return b;
}

Tensor RefexpTask::loss(Batch& batch) {
  const RefexpBatch& rb = static_cast<RefexpBatch&>(batch);
  const std::vector<int64_t>& rows = rb.rows;
  const int64_t B = static_cast<int64_t>(rows.size());
  batch.units = B;
  // Pairs (expression row, GT candidate k of its image) to score; the crops and images they need
  // are encoded once each.
  std::vector<int64_t> pair_row, pair_cand;
  auto add_pair = [&](int64_t r, int64_t k) {
    pair_row.push_back(r);
    pair_cand.push_back(k);
    return static_cast<int64_t>(pair_row.size()) - 1;
  };
  std::vector<int64_t> true_pair(B), neg_pair(B, -1);
  std::vector<int64_t> table;  // softmax: [B, C] pair indices (C = the most candidates), -1 = padding
  int64_t C = 1;
  if (opt_.mmi == "softmax")
    for (int64_t r : rows)
      C = std::max<int64_t>(C, static_cast<int64_t>(train_.images[train_.image_index[r]].gt_boxes.size()));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t r = rows[b];
    if (opt_.mmi == "softmax") {
      const int64_t n = static_cast<int64_t>(train_.images[train_.image_index[r]].gt_boxes.size());
      for (int64_t k = 0; k < C; ++k) {
        const int64_t p = k < n ? add_pair(r, k) : -1;
        table.push_back(p);
        if (k == train_.gt_index[r]) true_pair[b] = p;
      }
    } else {
      true_pair[b] = add_pair(r, train_.gt_index[r]);
      if (opt_.mmi == "margin") neg_pair[b] = add_pair(r, sample_negative(train_, r, opt_.seed, rb.epoch));
    }
  }
  std::map<int64_t, int64_t> crop_at, image_at;  // split row -> position among the encoded ones
  std::vector<int64_t> crops, images, pair_crop, pair_image;
  std::vector<float> loc;
  for (size_t p = 0; p < pair_row.size(); ++p) {
    const int64_t u = train_.image_index[pair_row[p]];
    const RefexpImageEntry& im = train_.images[u];
    const int64_t c = im.gt_row + pair_cand[p];
    auto [ci, cfresh] = crop_at.emplace(c, static_cast<int64_t>(crops.size()));
    if (cfresh) crops.push_back(c);
    auto [ii, ifresh] = image_at.emplace(u, static_cast<int64_t>(images.size()));
    if (ifresh) images.push_back(u);
    pair_crop.push_back(ci->second);
    pair_image.push_back(ii->second);
    for (double v : location_features(im.gt_boxes[pair_cand[p]], im.width, im.height)) loc.push_back(static_cast<float>(v));
  }
  // Built on the host; each tensor goes to the model's device once (pixels of the distinct crops and
  // images only). The targets stay on the host for the speaker's row check, which then reads nothing back.
  const Device dev = model_.device();
  auto on_dev = [&](const std::vector<int64_t>& v) { return Tensor::from_vector(v).to(dev); };
  const Tensor R = model_.encode(index_select(train_.crops, Tensor::from_vector(crops)).to(dev));
  const Tensor I = model_.encode(index_select(train_.whole, Tensor::from_vector(images)).to(dev));
  SpeakerBatch sb;
  expression_tensors(train_, pair_row, &sb.inputs, &sb.targets);
  sb.inputs = sb.inputs.to(dev);
  sb.region = index_select(R, on_dev(pair_crop));
  sb.image = index_select(I, on_dev(pair_image));
  sb.location = Tensor::from_vector(loc, {static_cast<int64_t>(pair_row.size()), 5}).to(dev);
  const Tensor lp = reshape(model_.sequence_log_probs(sb), {-1, 1});
  const Tensor lp_true = reshape(index_select(lp, on_dev(true_pair)), {B});
  if (opt_.mmi == "none") return ml_loss(lp_true);
  if (opt_.mmi == "margin")
    return mmi_mm_loss(lp_true, reshape(index_select(lp, on_dev(neg_pair)), {B}), opt_.margin, opt_.lambda);
  std::vector<int64_t> idx;
  std::vector<float> mask;
  std::vector<int64_t> true_col;
  for (int64_t v : table) {
    idx.push_back(v < 0 ? 0 : v);
    mask.push_back(v < 0 ? 0.f : 1.f);
  }
  for (int64_t r : rows) true_col.push_back(train_.gt_index[r]);
  const Tensor scores = reshape(index_select(lp, on_dev(idx)), {B, C});
  const Tensor mmi = mmi_softmax_loss(scores, Tensor::from_vector(true_col), Tensor::from_vector(mask, {B, C}));
  return add(ml_loss(lp_true), mul_scalar(mmi, opt_.lambda));
}

std::vector<Metric> RefexpTask::validate() {
  const int64_t n = opt_.val_count > 0 ? std::min(opt_.val_count, val_.size()) : val_.size();
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[i] = i;
  const SplitFeatures f = encode_split_features(model_, val_);
  return {{"precision_gt", "P@1 GT %", 100.0 * gt_precision_at_1(model_, val_, f, rows)}};
}

std::string RefexpTask::state_json() const { return json_fields::dropout_state(model_.dropout_generator()); }

void RefexpTask::load_state_json(const std::string& text, const std::string& what) {
  json_fields::load_dropout_state(text, what, model_.dropout_generator());
}

std::string RefexpTask::order_json() const {
  return nlohmann::json{{"batch", opt_.batch_size}, {"seed", opt_.seed}, {"mmi", opt_.mmi}}.dump();
}

}  // namespace mrnn
