// Data loading throughput: decode + resize + centre crop + normalise through the ImageLoader for
// ShapesWorld PNGs (64x64, the built-in data) and a COCO-sized JPEG (640x480 -> 64x64), with 1 and
// 2 threads; then a training step of the default m-RNN on preloaded and on streamed images
// (reporting how long each step waited for the loader), with and without length bucketing.
//   ./build/bench/bench_data                 # everything (a few minutes on 2 cores)
//   ./build/bench/bench_data --benchmark_filter=loader
// Fixture: 256 ShapesWorld images generated into a temporary folder (seed 1); the JPEG is
// bench/data/coco_like_640x480.jpg (made by bench/data/make_coco_like_jpeg.py), copied 64 times.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "core/autograd.h"
#include "data/image_loader.h"
#include "data/karpathy.h"
#include "data/shapes_world.h"
#include "models/mrnn/caption_batches.h"
#include "models/mrnn/mrnn.h"
#include "models/engine/optim.h"

using namespace mrnn;
namespace fs = std::filesystem;

namespace {

constexpr int kImages = 256, kJpegs = 64, kBatch = 64;

struct Fixture {
  fs::path dir;
  std::vector<std::string> pngs, jpegs;
  KarpathyDataset dataset;
  Fixture() {
    dir = fs::temp_directory_path() / ("mrnn_bench_data_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    ShapesWorldOptions o;
    o.n_train = kImages;
    o.n_val = o.n_test = o.n_novel = 0;
    generate_shapes_world(o, dir.string());
    KarpathyOptions ko;
    dataset = load_karpathy((dir / "dataset_shapes.json").string(), ko);
    for (const KImage& im : dataset.images) pngs.push_back((dir / "images" / im.filename).string());
    const fs::path jpeg = fs::path(__FILE__).parent_path() / "data" / "coco_like_640x480.jpg";
    for (int i = 0; i < kJpegs; ++i) {
      const fs::path p = dir / ("coco_like_" + std::to_string(i) + ".jpg");
      fs::copy_file(jpeg, p, fs::copy_options::overwrite_existing);
      jpegs.push_back(p.string());
    }
  }
  ~Fixture() { fs::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// One image decoded + preprocessed on the calling thread: CPU time per image, which the machine's
// load does not inflate the way it inflates wall time (1 / this = images/s per core).
void BM_preprocess_one(benchmark::State& st) {
  const std::vector<std::string>& paths = st.range(0) == 0 ? fixture().pngs : fixture().jpegs;
  ImagePreprocess p;
  p.size = 64;
  size_t i = 0;
  for (auto _ : st) benchmark::DoNotOptimize(preprocess_image_file(paths[i++ % paths.size()], p).data());
  st.SetLabel(st.range(0) == 0 ? "ShapesWorld PNG 64x64" : "JPEG 640x480 -> 64x64");
  st.counters["images/s/core"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_preprocess_one)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// Decodes every image of `paths` once per iteration through an ImageLoader (batches of 64
// distinct images), with st.range(0) threads.
void run_loader(benchmark::State& st, const std::vector<std::string>& paths) {
  std::vector<int64_t> caption_image(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) caption_image[i] = static_cast<int64_t>(i);
  ImageLoaderOptions o;
  o.threads = static_cast<int>(st.range(0));
  o.preprocess.size = 64;
  for (auto _ : st) {
    std::vector<std::vector<int64_t>> batches;
    for (size_t at = 0; at < paths.size(); at += kBatch) {
      batches.emplace_back();
      for (size_t i = at; i < std::min(paths.size(), at + kBatch); ++i) batches.back().push_back(static_cast<int64_t>(i));
    }
    ImageLoader loader(paths, caption_image, std::move(batches), o);
    LoadedBatch b;
    while (loader.next(b)) benchmark::DoNotOptimize(b.pixels.raw_data());
  }
  st.counters["images/s"] =
      benchmark::Counter(static_cast<double>(paths.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_loader_shapes_png64(benchmark::State& st) { run_loader(st, fixture().pngs); }
BENCHMARK(BM_loader_shapes_png64)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_loader_jpeg640x480(benchmark::State& st) { run_loader(st, fixture().jpegs); }
BENCHMARK(BM_loader_jpeg640x480)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// One training step of the default m-RNN (128/256/256/512, batch 64 captions) per iteration.
// range(0): 0 = CNN (16/32/64 on 64x64) on preloaded images, n > 0 = the same streamed with n
// loader threads, -1 = precomputed 4096-d features (no CNN); range(1): bucketing window (batches).
void BM_train_step(benchmark::State& st) {
  Fixture& f = fixture();
  std::vector<std::vector<std::string>> sents;
  for (const KImage& im : f.dataset.images)
    for (const Sentence& s : im.sentences) sents.push_back(s.tokens);
  Vocab vocab = Vocab::build(sents, 1);
  const bool features = st.range(0) < 0;
  CaptionDataOptions dopt;
  dopt.images_dir = (f.dir / "images").string();
  dopt.stream_images = st.range(0) > 0;
  CaptionSplit split = load_caption_split(f.dataset, Split::train, vocab, dopt, "dataset_shapes.json");
  MrnnConfig c;
  c.vocab = vocab.size();
  Generator g(1);
  if (features) {
    c.image_input = "features";
    c.image_dim = 4096;
    split.images = Tensor::randn({split.num_images(), 4096}, g);
  }
  Mrnn model(c, g);
  model.train();
  Adam opt(model.parameters());
  CaptionBatchOptions bo;
  bo.plan.batch_size = kBatch;
  bo.plan.bucket_batches = st.range(1);
  bo.loader_threads = static_cast<int>(std::max<int64_t>(st.range(0), 0));
  CaptionBatches batches(split, bo);
  const int64_t n = static_cast<int64_t>(split.captions.size());
  int64_t epoch = 0, pos = 0, steps = 0, images = 0, slots = 0;
  for (auto _ : st) {
    CaptionTrainBatch b = batches.fetch(epoch, pos);
    Tensor tokens = caption_batch(split, b.captions);
    Tensor loss = model.loss(tokens, model.encode_images(b.images, b.rows));
    opt.zero_grad();
    loss.backward();
    opt.step(1e-3);
    images += b.images.size(0);
    slots += tokens.numel();
    steps++;
    pos += b.planned;
    if (pos == n) {
      epoch++;
      pos = 0;
    }
  }
  const double per = 1.0 / static_cast<double>(std::max<int64_t>(steps, 1));
  st.counters["loader_wait_ms/step"] = 1e3 * batches.wait_seconds() * per;
  st.counters["distinct_images/step"] = static_cast<double>(images) * per;
  st.counters["token_slots/step"] = static_cast<double>(slots) * per;
}
BENCHMARK(BM_train_step)
    ->Args({0, 0})->Args({1, 0})->Args({2, 0})->Args({0, 8})->Args({-1, 0})->Args({-1, 8})
    ->Iterations(16)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
