// The prefetching image loader: the tensors it returns are exactly load_image_chw's, images are
// deduplicated within a batch, results do not depend on the thread count, a bad image surfaces on
// the consumer's thread naming its file (or is skipped and counted), and stopping early, or
// throwing in the consumer, never hangs.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>

#include "data/batching.h"
#include "data/image_loader.h"
#include "loader_helpers.h"
#include "models/mrnn/caption_data.h"

using namespace mrnn;
using namespace loader_test;
using Catch::Matchers::Contains;

namespace {

std::vector<float> row_of(const Tensor& pixels, int64_t r) {
  const int64_t per = pixels.numel() / pixels.size(0);
  const float* p = pixels.data<float>() + r * per;
  return std::vector<float>(p, p + per);
}

ImageLoaderOptions options32(int threads) {
  ImageLoaderOptions o;
  o.preprocess = caption_image_preprocess(32);
  o.threads = threads;
  o.prefetch_batches = 2;
  return o;
}

}  // namespace

TEST_CASE("the loader returns load_image_chw's pixels, one row per distinct image", "[loader]") {
  auto dir = scratch_dir("pixels");
  std::vector<std::string> paths = write_images(dir, 5);
  paths.push_back(std::string(MRNN_TEST_DATA_DIR) + "/databin/images/smooth.jpg");  // a JPEG too
  // 9 captions: image of caption c.
  const std::vector<int64_t> caption_image = {0, 0, 1, 2, 3, 3, 4, 5, 5};
  const std::vector<std::vector<int64_t>> batches = {{1, 0, 3, 2}, {5, 4, 6, 3}, {7, 8}, {2}};
  for (int threads : {1, 2, 4}) {
    INFO(threads << " threads");
    ImageLoader loader(paths, caption_image, batches, options32(threads));
    CHECK(loader.threads() == threads);
    LoadedBatch b;
    std::vector<LoadedBatch> got;
    while (loader.next(b)) got.push_back(b);
    REQUIRE(got.size() == 4);
    // Batch 0: captions 1, 0 share image 0; caption 3 is image 2, caption 2 image 1.
    CHECK(got[0].index == 0);
    CHECK(got[0].images == std::vector<int64_t>{0, 2, 1});
    CHECK(got[0].captions == std::vector<int64_t>{1, 0, 3, 2});
    CHECK(got[0].rows.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 1, 2});
    CHECK(got[0].pixels.shape() == Shape{3, 3, 32, 32});
    CHECK(got[1].images == std::vector<int64_t>{3, 4, 2});
    CHECK(got[1].rows.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 1, 2});
    CHECK(got[2].images == std::vector<int64_t>{5});
    CHECK(got[2].rows.to_vector<int64_t>() == std::vector<int64_t>{0, 0});
    CHECK(got[3].index == 3);
    for (const LoadedBatch& lb : got) {
      CHECK(lb.bad_images == 0);
      CHECK(lb.planned == lb.captions);
      for (size_t r = 0; r < lb.images.size(); ++r)
        CHECK(row_of(lb.pixels, static_cast<int64_t>(r)) == load_image_chw(paths[lb.images[r]], 32));
    }
    CHECK(loader.wait_seconds() >= 0);
    CHECK_FALSE(loader.next(b));  // stays done
  }
}

TEST_CASE("preprocessing normalises with the caption mean and std", "[loader]") {
  auto dir = scratch_dir("solid");
  Image img;
  img.width = 32;
  img.height = 32;
  for (int i = 0; i < 32 * 32; ++i) img.rgb.insert(img.rgb.end(), {255, 0, 128});
  save_png((dir / "solid.png").string(), img);
  std::vector<float> px = preprocess_image_file((dir / "solid.png").string(), caption_image_preprocess(32));
  REQUIRE(px.size() == 3 * 32 * 32);
  CHECK(px[0] == Approx((1.0 - 0.5) / 0.25));              // R plane: 255
  CHECK(px[32 * 32] == Approx((0.0 - 0.5) / 0.25));        // G plane: 0
  CHECK(px[2 * 32 * 32 + 77] == Approx((128.0 / 255.0 - 0.5) / 0.25).margin(1e-6));  // B plane: 128
}

TEST_CASE("a missing or truncated image fails on the consumer's thread naming the file", "[loader]") {
  auto dir = scratch_dir("bad");
  std::vector<std::string> paths = write_images(dir, 3);
  {  // truncate img1.png to half its bytes
    std::ifstream in(paths[1], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(paths[1], std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() / 2);
  }
  paths.push_back((dir / "missing.png").string());
  const std::vector<int64_t> caption_image = {0, 1, 2, 3};
  {
    ImageLoader loader(paths, caption_image, {{0}, {2, 1}, {0}}, options32(2));
    LoadedBatch b;
    REQUIRE(loader.next(b));
    CHECK(b.captions == std::vector<int64_t>{0});
    CHECK_THROWS_WITH(loader.next(b), Contains("img1.png"));
    CHECK_THROWS_WITH(loader.next(b), Contains("img1.png"));  // the loader stays failed
  }
  {
    ImageLoader loader(paths, caption_image, {{3, 0}}, options32(1));
    LoadedBatch b;
    CHECK_THROWS_WITH(loader.next(b), Contains("missing.png"));
  }
}

TEST_CASE("skip_bad drops bad images and their captions and counts each image once", "[loader]") {
  auto dir = scratch_dir("skip");
  std::vector<std::string> paths = write_images(dir, 2);
  paths.push_back((dir / "missing.png").string());
  const std::vector<int64_t> caption_image = {0, 2, 1, 2, 2};
  ImageLoaderOptions o = options32(2);
  o.skip_bad = true;
  ImageLoader loader(paths, caption_image, {{0, 1, 2, 3}, {4, 1}, {0}}, o);
  LoadedBatch b;
  REQUIRE(loader.next(b));
  CHECK(b.planned == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(b.captions == std::vector<int64_t>{0, 2});
  CHECK(b.images == std::vector<int64_t>{0, 1});
  CHECK(b.rows.to_vector<int64_t>() == std::vector<int64_t>{0, 1});
  CHECK(b.bad_images == 1);
  CHECK(row_of(b.pixels, 1) == load_image_chw(paths[1], 32));
  REQUIRE(loader.next(b));  // only the bad image: an empty batch
  CHECK(b.captions.empty());
  CHECK(b.pixels.size(0) == 0);
  CHECK(b.bad_images == 1);
  REQUIRE(loader.next(b));
  CHECK(b.captions == std::vector<int64_t>{0});
  CHECK(loader.skipped_images() == 1);
  CHECK_FALSE(loader.next(b));
}

TEST_CASE("stopping early or throwing in the consumer does not hang", "[loader]") {
  auto dir = scratch_dir("stop");
  std::vector<std::string> paths = write_images(dir, 8);
  std::vector<int64_t> caption_image;
  for (int c = 0; c < 64; ++c) caption_image.push_back(c % 8);
  // An endless source: the loader must stop pulling batches and join its workers on destruction.
  int64_t pulled = 0;
  auto endless = [&](std::vector<int64_t>& caps) {
    caps.clear();
    for (int64_t i = 0; i < 16; ++i) caps.push_back((pulled * 16 + i) % 64);
    ++pulled;
    return true;
  };
  within_seconds(30, "destroying a loader after one batch", [&] {
    for (int threads : {1, 2, 8}) {
      ImageLoaderOptions o = options32(threads);
      o.prefetch_batches = 6;
      ImageLoader loader(paths, caption_image, endless, o);
      LoadedBatch b;
      REQUIRE(loader.next(b));
    }
  });
  CHECK(pulled <= 3 * 8);  // at most prefetch + 1 batches per loader
  within_seconds(30, "unwinding through a loader", [&] {
    CHECK_THROWS_WITH(([&] {
                        ImageLoader loader(paths, caption_image, endless, options32(2));
                        LoadedBatch b;
                        loader.next(b);
                        throw Error("the training step failed");
                      }()),
                      Contains("the training step failed"));
  });
  within_seconds(30, "destroying a loader that never delivered", [&] {
    ImageLoader loader(paths, caption_image, endless, options32(2));
  });
}

TEST_CASE("loader options and caption indices are checked", "[loader]") {
  auto dir = scratch_dir("opts");
  std::vector<std::string> paths = write_images(dir, 1);
  ImageLoaderOptions o = options32(1);
  o.prefetch_batches = 0;
  CHECK_THROWS_WITH(ImageLoader(paths, {0}, BatchPlan{{0}}, o), Contains("prefetch_batches must be >= 1"));
  CHECK_THROWS_WITH(ImageLoader(paths, {1}, BatchPlan{{0}}, options32(1)),
                    Contains("caption 0 refers to image 1, but there are 1 image paths"));
  CHECK_THROWS_WITH(ImageLoader(paths, {0}, BatchPlan{{5}}, options32(1)),
                    Contains("batch 0 names caption 5, but there are 1 captions"));
}
