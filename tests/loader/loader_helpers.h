// Helpers shared by the loader tests: a scratch folder, small synthetic images on disk, a tiny
// Karpathy-style dataset over them, and a watchdog that fails a test instead of letting it hang.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/image.h"
#include "data/karpathy.h"

namespace loader_test {

// A fresh folder under the build tree for files a test writes.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(MRNN_BINARY_DIR) / "loader_scratch" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A w x h RGB image whose pixels depend on (x, y, seed), so every image and every crop differs.
inline mrnn::Image pattern_image(int w, int h, int seed) {
  mrnn::Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(3 * w * h));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.rgb[static_cast<size_t>((y * w + x) * 3 + c)] =
            static_cast<uint8_t>((x * (7 + c) + y * (3 + 2 * c) + seed * 41) % 256);
  return img;
}

// Writes n PNG images (sizes cycle through 32x32, 40x36 and 36x48, so both the same-size path and
// resize + centre crop to 32 are used) and returns their paths.
inline std::vector<std::string> write_images(const std::filesystem::path& dir, int n) {
  const int sizes[3][2] = {{32, 32}, {40, 36}, {36, 48}};
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    const std::string p = (dir / ("img" + std::to_string(i) + ".png")).string();
    mrnn::save_png(p, pattern_image(sizes[i % 3][0], sizes[i % 3][1], i));
    paths.push_back(p);
  }
  return paths;
}

// A Karpathy dataset of n_train + n_val images named img<i>.png, each with `per_image` captions
// of 1..6 words drawn from a 6-word vocabulary (lengths vary so bucketing has something to do).
inline mrnn::KarpathyDataset tiny_dataset(int n_train, int n_val, int per_image) {
  static const char* words[] = {"red", "blue", "circle", "square", "left", "small"};
  mrnn::KarpathyDataset ds;
  for (int i = 0; i < n_train + n_val; ++i) {
    mrnn::KImage im;
    im.filename = "img" + std::to_string(i) + ".png";
    im.split = i < n_train ? mrnn::Split::train : mrnn::Split::val;
    im.imgid = i;
    for (int s = 0; s < per_image; ++s) {
      mrnn::Sentence sent;
      const int len = 1 + (i * 5 + s * 3) % 6;
      for (int w = 0; w < len; ++w) sent.tokens.push_back(words[(i + s + w) % 6]);
      sent.raw = "caption";
      sent.image_id = i;
      sent.sentence_id = i * per_image + s;
      im.sentences.push_back(sent);
    }
    ds.images.push_back(im);
  }
  return ds;
}

// Runs f on another thread; if it has not finished after `seconds`, prints what hung and aborts
// the test program (CTest then reports the failure) instead of hanging CI.
inline void within_seconds(double seconds, const char* what, const std::function<void()>& f) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr err;
  std::thread t([&] {
    try {
      f();
    } catch (...) {
      err = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return done; })) {
      std::fprintf(stderr, "TIMEOUT: %s did not finish within %.0f s\n", what, seconds);
      std::fflush(stderr);
      std::abort();
    }
  }
  t.join();
  if (err) std::rethrow_exception(err);
}

}  // namespace loader_test
