// Regression for a report of a garbage "unreadable images skipped" count (then a crash) from
// caption_train --stream-images: whatever the loader threads and prefetch depth (up to several
// epochs ahead of the consumer), with broken images and skip_bad, the batches, pixels and skip
// counts equal those of the simplest setting (one thread, no read-ahead), and the count is exactly
// the number of broken images. Stopping mid-epoch with batches still queued is clean.
#include <catch2/catch.hpp>

#include <fstream>

#include "loader_helpers.h"
#include "models/mrnn/caption_batches.h"

using namespace mrnn;
using namespace loader_test;

namespace {

struct Batch {
  std::vector<int64_t> captions;
  int64_t planned = 0;
  std::vector<int64_t> rows;
  std::vector<float> pixels;
};

// The first `steps` batches in trainer order (epochs of `n` captions) and the final skip count.
std::vector<Batch> run(const CaptionSplit& split, int threads, int64_t prefetch, int steps, int64_t* skipped) {
  CaptionBatchOptions o;
  o.plan.batch_size = 4;  // 24 captions: 6 batches per epoch
  o.plan.seed = 4;
  o.plan.bucket_batches = 2;
  o.loader_threads = threads;
  o.prefetch_batches = prefetch;
  o.skip_bad = true;
  CaptionBatches batches(split, o);
  const int64_t n = static_cast<int64_t>(split.captions.size());
  std::vector<Batch> out;
  int64_t epoch = 0, pos = 0;
  for (int s = 0; s < steps; ++s) {
    CaptionTrainBatch b = batches.fetch(epoch, pos);
    out.push_back({b.captions, b.planned, b.rows.to_vector<int64_t>(),
                   b.captions.empty() ? std::vector<float>{} : b.images.to_vector<float>()});
    pos += b.planned;
    if (pos == n) {
      ++epoch;
      pos = 0;
    }
  }
  *skipped = batches.skipped_images();
  return out;  // batches (and its loader, with prefetched batches) destroyed mid-epoch
}

}  // namespace

TEST_CASE("streaming with broken images: same batches and skip count for any threads and prefetch",
          "[loader][stress]") {
  auto dir = scratch_dir("stress");
  std::vector<std::string> paths = write_images(dir, 8);
  for (int bad : {2, 5}) {  // present at load time, undecodable when streamed
    std::ofstream f(paths[static_cast<size_t>(bad)], std::ios::binary | std::ios::trunc);
    f << (bad == 2 ? std::string("\x89PNG\r\n\x1a\n", 8) : std::string("not an image"));
  }
  CaptionSplit split;
  split.streamed = true;
  split.image_size = 32;
  split.image_paths = paths;
  for (int i = 0; i < 8; ++i) {
    split.file_names.push_back("img" + std::to_string(i) + ".png");
    split.image_ids.push_back(i);
    split.references.push_back({"red"});
    for (int c = 0; c < 3; ++c) {
      split.captions.push_back(std::vector<int32_t>(static_cast<size_t>(1 + (i + c) % 4), 4));
      split.caption_image.push_back(i);
    }
  }
  const int steps = 21;  // 3.5 epochs
  int64_t ref_skipped = -1;
  const std::vector<Batch> ref = run(split, 1, 1, steps, &ref_skipped);
  CHECK(ref_skipped == 2);
  int64_t dropped = 0;
  for (const Batch& b : ref) dropped += b.planned - static_cast<int64_t>(b.captions.size());
  // 3 whole epochs drop the 6 captions of the 2 bad images each; half of the 4th drops 0 to 6 more.
  CHECK(dropped >= 18);
  CHECK(dropped <= 24);
  within_seconds(60, "the loader stress runs", [&] {
    for (int rep = 0; rep < 3; ++rep)
      for (int threads : {2, 4})
        for (int64_t prefetch : {2, 16}) {  // 16 batches: more than two epochs ahead
          INFO("threads " << threads << " prefetch " << prefetch << " rep " << rep);
          int64_t skipped = -1;
          const std::vector<Batch> got = run(split, threads, prefetch, steps, &skipped);
          CHECK(skipped == 2);
          REQUIRE(got.size() == ref.size());
          for (size_t i = 0; i < got.size(); ++i) {
            INFO("batch " << i);
            CHECK(got[i].captions == ref[i].captions);
            CHECK(got[i].planned == ref[i].planned);
            CHECK(got[i].rows == ref[i].rows);
            CHECK(got[i].pixels == ref[i].pixels);
          }
        }
  });
}
