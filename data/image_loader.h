// A prefetching image loader: worker threads decode, resize, crop and normalise the distinct images
// of the next batches while the trainer works on the current one. Why: COCO does not fit in memory
// as float pixels (123k x 3x64x64 floats = 6 GB), and decoding on the training thread would stall it.
#pragma once
#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

// What every image goes through: decode, resize the shorter side to `size`, centre-crop
// size x size (both skipped when the image already is size x size), (p / 255 - mean) / std.
struct ImagePreprocess {
  int64_t size = 64;
  std::array<float, 3> mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> std{0.25f, 0.25f, 0.25f};
};

// Requires: p.size >= 1, std[c] != 0.
// Ensures: the [3, size, size] CHW floats of the image file at path (load_image, then
// resize_shorter_side + center_crop, then to_chw_float). Throws Error naming path when the file
// is missing, unreadable or not a decodable image.
std::vector<float> preprocess_image_file(const std::string& path, const ImagePreprocess& p);

struct ImageLoaderOptions {
  ImagePreprocess preprocess;
  int threads = 0;               // decoding threads; 0 = std::thread::hardware_concurrency()
  int64_t prefetch_batches = 4;  // batches decoded ahead of the consumer (>= 1)
  bool skip_bad = false;         // drop unreadable images (and their captions) instead of failing
};

// One batch as the consumer receives it.
struct LoadedBatch {
  int64_t index = 0;              // 0, 1, 2, ...: position in the sequence of batches
  std::vector<int64_t> planned;   // the caption indices the batch source gave
  std::vector<int64_t> captions;  // those whose image decoded (all of them unless skip_bad dropped some)
  std::vector<int64_t> images;    // image index of each row of pixels, distinct, in first-use order
  Tensor pixels;                  // f32 [images.size(), 3, S, S]
  Tensor rows;                    // i64 [captions.size()]: the row of pixels holding each caption's image
  int64_t bad_images = 0;         // images of this batch dropped by skip_bad
};

class ImageLoader {
 public:
  // Called on the consumer's thread (inside the constructor and next()) to get the captions of
  // the next batch; returns false when there are no more batches.
  using BatchSource = std::function<bool(std::vector<int64_t>& captions)>;

  // Requires: every caption index the source gives is in [0, caption_image.size()) and
  // caption_image's values index image_paths; options.prefetch_batches >= 1, threads >= 0.
  // Ensures: decoding of the first prefetch_batches batches has started on the worker threads.
  // Throws Error naming the bad option.
  ImageLoader(std::vector<std::string> image_paths, std::vector<int64_t> caption_image, BatchSource source,
              const ImageLoaderOptions& options);
  // Convenience: a fixed list of batches.
  ImageLoader(std::vector<std::string> image_paths, std::vector<int64_t> caption_image,
              std::vector<std::vector<int64_t>> batches, const ImageLoaderOptions& options);
  // Stops the workers (each finishes at most the image it is decoding) and joins them; never
  // blocks on batches nobody consumed.
  ~ImageLoader();
  ImageLoader(const ImageLoader&) = delete;
  ImageLoader& operator=(const ImageLoader&) = delete;

  // Ensures: true and the next batch in source order in *out, or false when the source is done.
  // An image that failed to decode throws here, on the consumer's thread, an Error naming its
  // file (the first failing image of the batch, in row order); with skip_bad the image and its
  // captions are left out of the batch instead and counted (a batch may then hold no captions).
  // After a throw every later call throws the same error.
  bool next(LoadedBatch& out);

  // Distinct images dropped so far by skip_bad (each bad image is decoded once, then remembered).
  int64_t skipped_images() const { return static_cast<int64_t>(bad_.size()); }
  // Seconds next() has spent waiting for workers (the time loading stalled the consumer).
  double wait_seconds() const { return wait_seconds_; }
  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  struct Slot;
  struct Task {
    Slot* slot = nullptr;
    int64_t row = 0;
  };
  void fill();
  void worker();
  void shutdown();

  std::vector<std::string> paths_;
  std::vector<int64_t> caption_image_;
  BatchSource source_;
  ImageLoaderOptions opt_;
  bool source_done_ = false;
  int64_t scheduled_ = 0;
  std::deque<std::unique_ptr<Slot>> window_;  // scheduled batches, oldest first (consumer-owned)
  std::unordered_set<int64_t> bad_;           // images known to fail (skip_bad)
  std::exception_ptr failed_;
  double wait_seconds_ = 0;

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Task> tasks_;  // guarded by mu_
  bool stop_ = false;       // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace mrnn
