#include "models/mrnn/caption_batches.h"

#include <unordered_map>

#include "kernels/ops.h"

namespace mrnn {

std::vector<int64_t> caption_lengths(const CaptionSplit& split) {
  std::vector<int64_t> out;
  out.reserve(split.captions.size());
  for (const auto& c : split.captions) out.push_back(static_cast<int64_t>(c.size()));
  return out;
}

CaptionTrainBatch in_memory_batch(const CaptionSplit& split, const std::vector<int64_t>& captions) {
  MRNN_CHECK(split.images.defined(), "caption batch: the split's images are not in memory (streamed split)");
  std::unordered_map<int64_t, int64_t> row_of;
  std::vector<int64_t> distinct, rows;
  for (int64_t c : captions) {
    MRNN_CHECK(c >= 0 && c < static_cast<int64_t>(split.caption_image.size()), "caption batch: caption {} is out "
               "of range (the split has {} captions)", c, split.caption_image.size());
    const int64_t im = split.caption_image[static_cast<size_t>(c)];
    auto [it, fresh] = row_of.emplace(im, static_cast<int64_t>(distinct.size()));
    if (fresh) distinct.push_back(im);
    rows.push_back(it->second);
  }
  CaptionTrainBatch out;
  out.captions = captions;
  out.planned = static_cast<int64_t>(captions.size());
  out.images = index_select(split.images, Tensor::from_vector(distinct));
  out.rows = Tensor::from_vector(rows);
  return out;
}

void keep_captions(CaptionTrainBatch& b, int64_t lo, int64_t hi) {
  MRNN_CHECK(0 <= lo && lo <= hi && hi <= static_cast<int64_t>(b.captions.size()), "caption batch: keep captions "
             "[{}, {}) of {}", lo, hi, b.captions.size());
  const std::vector<int64_t> old_rows = b.rows.defined() ? b.rows.to_vector<int64_t>() : std::vector<int64_t>();
  MRNN_CHECK(old_rows.size() == b.captions.size(), "caption batch: {} rows for {} captions", old_rows.size(),
             b.captions.size());
  std::unordered_map<int64_t, int64_t> row_of;
  std::vector<int64_t> distinct, rows;
  for (int64_t i = lo; i < hi; ++i) {
    auto [it, fresh] = row_of.emplace(old_rows[i], static_cast<int64_t>(distinct.size()));
    if (fresh) distinct.push_back(old_rows[i]);
    rows.push_back(it->second);
  }
  b.captions = std::vector<int64_t>(b.captions.begin() + lo, b.captions.begin() + hi);
  if (rows.empty()) {
    b.images = Tensor();
    b.rows = Tensor();
    return;
  }
  b.images = index_select(b.images, Tensor::from_vector(distinct));
  b.rows = Tensor::from_vector(rows);
}

CaptionBatches::CaptionBatches(const CaptionSplit& split, const CaptionBatchOptions& options)
    : split_(split), opt_(options), lengths_(caption_lengths(split)) {
  MRNN_CHECK(!split.captions.empty(), "caption batches: the split has no captions");
  MRNN_CHECK(split.caption_image.size() == split.captions.size(), "caption batches: {} captions but {} caption -> "
             "image entries", split.captions.size(), split.caption_image.size());
  MRNN_CHECK(options.plan.batch_size >= 1, "caption batches: batch size must be >= 1, got {}", options.plan.batch_size);
  MRNN_CHECK(options.plan.bucket_batches >= 0, "caption batches: bucketing window must be >= 0 batches (0 = off), got {}",
             options.plan.bucket_batches);
  if (split.streamed) {
    MRNN_CHECK(split.image_paths.size() == static_cast<size_t>(split.num_images()) && split.image_size >= 1,
               "caption batches: a streamed split needs one image path per image ({} paths, {} images) and an "
               "image size (got {})", split.image_paths.size(), split.num_images(), split.image_size);
    MRNN_CHECK(options.prefetch_batches >= 1, "caption batches: prefetch must be >= 1 batch, got {}",
               options.prefetch_batches);
    MRNN_CHECK(options.loader_threads >= 0, "caption batches: loader threads must be >= 0 (0 = hardware threads), "
               "got {}", options.loader_threads);
  } else {
    MRNN_CHECK(split.images.defined(), "caption batches: the split has neither images in memory nor streamed "
               "image files");
  }
}

const BatchPlan& CaptionBatches::plan(int64_t epoch) {
  auto it = plans_.find(epoch);
  if (it == plans_.end()) {
    // Forget plans two or more epochs old: the consumer and the loader (which runs ahead into the
    // next epoch) only ever ask for this epoch or the one before.
    plans_.erase(plans_.begin(), plans_.lower_bound(epoch - 1));
    it = plans_.emplace(epoch, plan_epoch(lengths_, epoch, opt_.plan)).first;
  }
  return it->second;
}

bool CaptionBatches::next_for_loader(std::vector<int64_t>& captions) {
  for (;;) {
    const BatchPlan& p = plan(source_epoch_);
    if (p.empty()) return false;
    if (source_batch_ < static_cast<int64_t>(p.size())) {
      captions = p[static_cast<size_t>(source_batch_)];
      queued_.emplace_back(source_epoch_, source_batch_);
      ++source_batch_;
      return true;
    }
    ++source_epoch_;
    source_batch_ = 0;
  }
}

void CaptionBatches::restart_loader(int64_t epoch, int64_t batch) {
  if (loader_) {
    skipped_before_ += loader_->skipped_images();
    wait_before_ += loader_->wait_seconds();
    loader_.reset();  // joins its workers
  }
  queued_.clear();
  source_epoch_ = epoch;
  source_batch_ = batch;
  ImageLoaderOptions lo;
  lo.preprocess = caption_image_preprocess(split_.image_size);
  lo.threads = opt_.loader_threads;
  lo.prefetch_batches = opt_.prefetch_batches;
  lo.skip_bad = opt_.skip_bad;
  loader_ = std::make_unique<ImageLoader>(
      split_.image_paths, split_.caption_image,
      [this](std::vector<int64_t>& captions) { return next_for_loader(captions); }, lo);
}

CaptionTrainBatch CaptionBatches::fetch(int64_t epoch, int64_t pos) {
  MRNN_CHECK(epoch >= 0 && pos >= 0, "caption batches: epoch {} and position {} must be >= 0", epoch, pos);
  const int64_t b = epoch == cursor_epoch_ && pos == cursor_pos_ ? cursor_batch_ : batch_at(plan(epoch), pos);
  const BatchPlan& p = plan(epoch);
  MRNN_CHECK(b < static_cast<int64_t>(p.size()), "caption batches: position {} is the end of epoch {} ({} batches)",
             pos, epoch, p.size());
  const std::vector<int64_t>& captions = p[static_cast<size_t>(b)];
  const int64_t planned = static_cast<int64_t>(captions.size());
  if (b + 1 < static_cast<int64_t>(p.size())) {
    cursor_epoch_ = epoch;
    cursor_pos_ = pos + planned;
    cursor_batch_ = b + 1;
  } else {
    cursor_epoch_ = epoch + 1;
    cursor_pos_ = 0;
    cursor_batch_ = 0;
  }

  if (!split_.streamed) return in_memory_batch(split_, captions);
  CaptionTrainBatch out;
  out.planned = planned;
  if (!loader_ || queued_.empty() || queued_.front() != std::make_pair(epoch, b)) restart_loader(epoch, b);
  LoadedBatch lb;
  MRNN_CHECK(loader_->next(lb), "caption batches: the image loader ended before epoch {} batch {}", epoch, b);
  queued_.pop_front();
  out.captions = std::move(lb.captions);
  out.images = lb.pixels;
  out.rows = lb.rows;
  return out;
}

int64_t CaptionBatches::skipped_images() const {
  return skipped_before_ + (loader_ ? loader_->skipped_images() : 0);
}

double CaptionBatches::wait_seconds() const { return wait_before_ + (loader_ ? loader_->wait_seconds() : 0.0); }

}  // namespace mrnn
