#include "data/image_loader.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "data/image.h"
#include "data/image_transforms.h"

namespace mrnn {

std::vector<float> preprocess_image_file(const std::string& path, const ImagePreprocess& p) {
  MRNN_CHECK(p.size >= 1 && p.size <= 8192, "image preprocessing: size must be in [1, 8192], got {}", p.size);
  Image img = load_image(path);
  const int s = static_cast<int>(p.size);
  if (img.width != s || img.height != s) img = center_crop(resize_shorter_side(img, s), s, s);
  return to_chw_float(img, p.mean, p.std);
}

// One scheduled batch. Workers write disjoint rows of `dst` and update `errors` / `remaining`
// under the loader's mutex; the consumer reads them after remaining reaches 0.
struct ImageLoader::Slot {
  int64_t index = 0;
  std::vector<int64_t> planned;  // captions from the source
  std::vector<int64_t> images;   // distinct images to decode (known-bad ones excluded)
  std::vector<int64_t> known_bad;
  Tensor pixels;                 // [images.size(), 3, S, S]
  float* dst = nullptr;
  int64_t remaining = 0;
  std::vector<std::exception_ptr> errors;  // per image row
};

ImageLoader::ImageLoader(std::vector<std::string> image_paths, std::vector<int64_t> caption_image, BatchSource source,
                         const ImageLoaderOptions& options)
    : paths_(std::move(image_paths)), caption_image_(std::move(caption_image)), source_(std::move(source)),
      opt_(options) {
  MRNN_CHECK(opt_.prefetch_batches >= 1, "image loader: prefetch_batches must be >= 1, got {}", opt_.prefetch_batches);
  MRNN_CHECK(opt_.threads >= 0, "image loader: threads must be >= 0 (0 = one per hardware thread), got {}",
             opt_.threads);
  MRNN_CHECK(opt_.preprocess.size >= 1, "image loader: image size must be >= 1, got {}", opt_.preprocess.size);
  MRNN_CHECK(static_cast<bool>(source_), "image loader: no batch source");
  for (size_t c = 0; c < caption_image_.size(); ++c)
    MRNN_CHECK(caption_image_[c] >= 0 && caption_image_[c] < static_cast<int64_t>(paths_.size()),
               "image loader: caption {} refers to image {}, but there are {} image paths", c, caption_image_[c],
               paths_.size());
  fill();  // queue the first batches' images before the workers start
  int n = opt_.threads > 0 ? opt_.threads : static_cast<int>(std::thread::hardware_concurrency());
  n = std::max(n, 1);
  try {
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { worker(); });
  } catch (...) {
    shutdown();
    throw;
  }
}

ImageLoader::ImageLoader(std::vector<std::string> image_paths, std::vector<int64_t> caption_image,
                         std::vector<std::vector<int64_t>> batches, const ImageLoaderOptions& options)
    : ImageLoader(std::move(image_paths), std::move(caption_image),
                  [list = std::move(batches), at = size_t{0}](std::vector<int64_t>& out) mutable {
                    if (at >= list.size()) return false;
                    out = std::move(list[at++]);
                    return true;
                  },
                  options) {}

ImageLoader::~ImageLoader() { shutdown(); }

void ImageLoader::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    tasks_.clear();
  }
  work_cv_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

void ImageLoader::fill() {
  const int64_t S = opt_.preprocess.size;
  while (!source_done_ && static_cast<int64_t>(window_.size()) < opt_.prefetch_batches) {
    std::vector<int64_t> captions;
    if (!source_(captions)) {
      source_done_ = true;
      break;
    }
    auto slot = std::make_unique<Slot>();
    slot->index = scheduled_++;
    std::unordered_set<int64_t> seen;
    for (int64_t c : captions) {
      MRNN_CHECK(c >= 0 && c < static_cast<int64_t>(caption_image_.size()),
                 "image loader: batch {} names caption {}, but there are {} captions", slot->index, c,
                 caption_image_.size());
      const int64_t im = caption_image_[static_cast<size_t>(c)];
      if (!seen.insert(im).second) continue;
      (bad_.count(im) ? slot->known_bad : slot->images).push_back(im);
    }
    slot->planned = std::move(captions);
    const int64_t u = static_cast<int64_t>(slot->images.size());
    slot->pixels = Tensor::empty({u, 3, S, S});
    slot->dst = u > 0 ? slot->pixels.data<float>() : nullptr;
    slot->remaining = u;
    slot->errors.resize(static_cast<size_t>(u));
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int64_t r = 0; r < u; ++r) tasks_.push_back({slot.get(), r});
    }
    work_cv_.notify_all();
    window_.push_back(std::move(slot));
  }
}

void ImageLoader::worker() {
  const int64_t S = opt_.preprocess.size, per = 3 * S * S;
  for (;;) {
    Task t;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (stop_) return;
      t = tasks_.front();
      tasks_.pop_front();
    }
    std::exception_ptr err;
    try {
      const std::string& path = paths_[static_cast<size_t>(t.slot->images[static_cast<size_t>(t.row)])];
      std::vector<float> px = preprocess_image_file(path, opt_.preprocess);
      std::copy(px.begin(), px.end(), t.slot->dst + t.row * per);
    } catch (...) {
      err = std::current_exception();
    }
    bool done = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      t.slot->errors[static_cast<size_t>(t.row)] = err;
      done = --t.slot->remaining == 0;
    }
    if (done) done_cv_.notify_all();
  }
}

bool ImageLoader::next(LoadedBatch& out) {
  if (failed_) std::rethrow_exception(failed_);
  fill();
  if (window_.empty()) return false;
  Slot* head = window_.front().get();
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (head->remaining > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      done_cv_.wait(lock, [&] { return head->remaining == 0; });
      wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  }
  std::unique_ptr<Slot> slot = std::move(window_.front());
  window_.pop_front();

  // Errors: fail (naming the file, which load_image's message does) or drop the image.
  std::vector<bool> good(slot->images.size(), true);
  for (size_t r = 0; r < slot->images.size(); ++r) {
    if (!slot->errors[r]) continue;
    if (!opt_.skip_bad) {
      failed_ = slot->errors[r];
      std::rethrow_exception(failed_);
    }
    good[r] = false;
    bad_.insert(slot->images[r]);
  }
  fill();  // keep the workers busy while the consumer uses this batch

  std::unordered_map<int64_t, int64_t> row_of;
  std::vector<int64_t> keep;
  for (size_t r = 0; r < slot->images.size(); ++r)
    if (good[r]) {
      row_of[slot->images[r]] = static_cast<int64_t>(keep.size());
      keep.push_back(static_cast<int64_t>(r));
    }
  out = LoadedBatch{};
  out.index = slot->index;
  out.bad_images = static_cast<int64_t>(slot->known_bad.size() + slot->images.size() - keep.size());
  for (int64_t k : keep) out.images.push_back(slot->images[static_cast<size_t>(k)]);
  if (keep.size() == slot->images.size()) {
    out.pixels = slot->pixels;
  } else {
    const int64_t S = opt_.preprocess.size, per = 3 * S * S;
    out.pixels = Tensor::empty({static_cast<int64_t>(keep.size()), 3, S, S});
    float* dst = keep.empty() ? nullptr : out.pixels.data<float>();
    for (size_t i = 0; i < keep.size(); ++i)
      std::copy(slot->dst + keep[i] * per, slot->dst + (keep[i] + 1) * per, dst + static_cast<int64_t>(i) * per);
  }
  std::vector<int64_t> rows;
  for (int64_t c : slot->planned) {
    auto it = row_of.find(caption_image_[static_cast<size_t>(c)]);
    if (it == row_of.end()) continue;
    out.captions.push_back(c);
    rows.push_back(it->second);
  }
  out.rows = Tensor::from_vector(rows, {static_cast<int64_t>(rows.size())});
  out.planned = std::move(slot->planned);
  return true;
}

}  // namespace mrnn
