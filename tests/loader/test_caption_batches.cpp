// Training batches from a preloaded and from a streamed split are the same batches with the same
// pixels; the trainer gives bit-identical weights either way; a run resumes mid-epoch; encoding
// each distinct image once equals encoding one copy per caption (forward bit for bit).
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "loader_helpers.h"
#include "models/mrnn/caption_batches.h"
#include "models/mrnn/caption_trainer.h"

using namespace mrnn;
using namespace loader_test;
using Catch::Matchers::Contains;

namespace {

Vocab vocab_of(const KarpathyDataset& ds) {
  std::vector<std::vector<std::string>> sents;
  for (const KImage& im : ds.images)
    for (const Sentence& s : im.sentences) sents.push_back(s.tokens);
  return Vocab::build(sents, 1);
}

struct Fixture {
  std::filesystem::path dir;
  KarpathyDataset ds;
  Vocab vocab;
  CaptionDataOptions opt;
};

Fixture make_fixture(const std::string& name, int n_train = 10, int n_val = 3) {
  Fixture f;
  f.dir = scratch_dir(name);
  write_images(f.dir, n_train + n_val);
  f.ds = tiny_dataset(n_train, n_val, 3);
  f.vocab = vocab_of(f.ds);
  f.opt.images_dir = f.dir.string();
  f.opt.image_size = 32;
  return f;
}

MrnnConfig cnn_config(int64_t vocab) {
  MrnnConfig c;
  c.vocab = vocab;
  c.embed1 = 8;
  c.embed2 = 12;
  c.rnn = 12;
  c.multimodal = 16;
  c.image_input = "cnn";
  c.image_size = 32;
  c.cnn_channels = {4, 8};
  c.image_dim = 16;
  c.dropout = 0.25;
  return c;
}

}  // namespace

TEST_CASE("a streamed split records its files instead of pixels", "[loader][split]") {
  Fixture f = make_fixture("split");
  CaptionSplit mem = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  f.opt.stream_images = true;
  CaptionSplit str = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  CHECK_FALSE(mem.streamed);
  CHECK(mem.images.shape() == Shape{10, 3, 32, 32});
  CHECK(str.streamed);
  CHECK_FALSE(str.images.defined());
  CHECK(str.captions == mem.captions);
  CHECK(str.caption_image == mem.caption_image);
  CHECK(str.image_paths == mem.image_paths);
  CHECK(str.image_paths[3] == f.dir.string() + "/img3.png");
  CHECK(str.image_size == 32);
  // Automatic: 10 images of 3 x 32 x 32 floats are 122,880 bytes.
  f.opt.stream_images = false;
  f.opt.preload_limit_bytes = 122880;
  CHECK_FALSE(load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json").streamed);
  f.opt.preload_limit_bytes = 122879;
  CHECK(load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json").streamed);
  // A missing file is found at load time even when streaming.
  std::filesystem::remove(f.dir / "img4.png");
  f.opt.stream_images = true;
  CHECK_THROWS_WITH(load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json"), Contains("img4.png"));
  f.opt.skip_bad = true;
  CaptionSplit skipped = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  CHECK(skipped.skipped_images == 1);
  CHECK(skipped.num_images() == 9);
  CHECK(skipped.image_paths.size() == 9);
}

TEST_CASE("streamed and preloaded splits give the same batches and pixels, across epochs", "[loader][split]") {
  Fixture f = make_fixture("same");
  CaptionSplit mem = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  f.opt.stream_images = true;
  CaptionSplit str = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  CaptionBatchOptions o;
  o.plan.batch_size = 8;  // 30 captions: batches of 8, 8, 8, 6
  o.plan.seed = 9;
  o.plan.bucket_batches = 2;
  o.loader_threads = 2;
  o.prefetch_batches = 3;  // runs ahead into the next epoch
  CaptionBatches a(mem, o), b(str, o);
  int64_t epoch = 0, pos = 0, duplicates = 0;
  for (int step = 0; step < 9; ++step) {
    INFO("epoch " << epoch << " pos " << pos);
    CaptionTrainBatch x = a.fetch(epoch, pos), y = b.fetch(epoch, pos);
    CHECK(x.captions == y.captions);
    CHECK(x.planned == y.planned);
    CHECK(x.rows.to_vector<int64_t>() == y.rows.to_vector<int64_t>());
    REQUIRE(x.images.shape() == y.images.shape());
    CHECK(x.images.to_vector<float>() == y.images.to_vector<float>());
    CHECK(x.captions == a.plan(epoch)[batch_at(a.plan(epoch), pos)]);
    duplicates += static_cast<int64_t>(x.captions.size()) - x.images.size(0);
    pos += x.planned;
    if (pos == 30) {
      epoch++;
      pos = 0;
    }
  }
  CHECK(duplicates > 0);  // several captions of one image share a row
  CHECK(b.skipped_images() == 0);
  // Resume: a fresh object started mid-epoch gives what the sequential one gives next.
  CaptionBatches c(str, o);
  CaptionTrainBatch r = c.fetch(epoch, pos), s = b.fetch(epoch, pos);
  CHECK(r.captions == s.captions);
  CHECK(r.images.to_vector<float>() == s.images.to_vector<float>());
  CHECK_THROWS_WITH(c.fetch(epoch, pos + 1), Contains("not a batch boundary"));
}

namespace {

struct Encoded {
  std::vector<float> features;
  std::map<std::string, std::vector<float>> grads;
};

// Features and the parameters' gradients of sum(features^2), with dropout drawing from the same
// generator state: deduplicated (encode_images(images, rows)) or one copy per row.
Encoded encode(Mrnn& model, const Tensor& images, const Tensor& rows, bool dedup) {
  for (auto& p : model.parameters()) p.zero_grad();
  model.dropout_generator().set_state(77, 0);
  Tensor f = dedup ? model.encode_images(images, rows) : model.encode_images(index_select(images, rows));
  sum(mul(f, f)).backward();
  Encoded e;
  e.features = f.to_vector<float>();
  for (auto& [name, p] : model.named_parameters())
    if (p.grad().defined()) e.grads[name] = p.grad().to_vector<float>();
  return e;
}

}  // namespace

TEST_CASE("encoding each distinct image once equals encoding one copy per caption", "[loader][dedup]") {
  Generator g(4);
  Mrnn model(cnn_config(10), g);
  model.train();  // dropout on: the mask must be drawn per caption row either way
  Tensor images = Tensor::randn({3, 3, 32, 32}, g);
  // Repeated images: equal up to float rounding (OpenBLAS's GEMM rounds a row differently
  // depending on how many rows the matrix has, and the gradient sums duplicates first).
  Tensor rows = Tensor::from_vector(std::vector<int64_t>{2, 0, 2, 1, 0, 2});
  Encoded once = encode(model, images, rows, true), copies = encode(model, images, rows, false);
  REQUIRE(once.features.size() == 6 * 16);
  for (size_t i = 0; i < once.features.size(); ++i)
    CHECK(once.features[i] == Approx(copies.features[i]).epsilon(1e-5).margin(1e-6));
  REQUIRE(once.grads.size() == copies.grads.size());
  REQUIRE(once.grads.count("cnn.conv1.weight"));
  for (auto& [name, want] : copies.grads) {
    INFO(name);
    for (size_t i = 0; i < want.size(); ++i) CHECK(once.grads[name][i] == Approx(want[i]).epsilon(1e-4).margin(1e-5));
  }
  // No repeated image (rows 0..B-1, the usual batch of a large split): bit-identical, forward and
  // backward, so training without repeats is exactly what it was before deduplication.
  Tensor distinct = Tensor::from_vector(std::vector<int64_t>{0, 1, 2});
  Encoded a = encode(model, images, distinct, true), b = encode(model, images, distinct, false);
  CHECK(a.features == b.features);
  CHECK(a.grads == b.grads);
}

TEST_CASE("training on a streamed split ends bit-identical to the preloaded split", "[loader][train]") {
  Fixture f = make_fixture("train");
  CaptionSplit mem = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  CaptionSplit val = load_caption_split(f.ds, Split::val, f.vocab, f.opt, "tiny.json");
  f.opt.stream_images = true;
  CaptionSplit str = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  TrainOptions o;
  o.batch_size = 8;
  o.epochs = 2;
  o.val_every = 100;
  o.val_images = 3;
  o.progress = false;
  o.seed = 3;
  o.bucket = 2;
  o.loader_threads = 2;
  o.prefetch_batches = 2;
  std::map<std::string, std::vector<float>> weights[2];
  for (int run = 0; run < 2; ++run) {
    Generator g(5);
    Mrnn model(cnn_config(f.vocab.size()), g);
    o.out_dir = (f.dir / ("out" + std::to_string(run))).string();
    TrainResult r = train_captioner(model, f.vocab, run == 0 ? mem : str, val, o);
    CHECK(r.steps == 8);
    CHECK(r.skipped_images == 0);
    for (auto& [name, t] : model.state_dict()) weights[run][name] = t.to_vector<float>();
  }
  for (auto& [name, w] : weights[0]) {
    INFO(name);
    CHECK(w == weights[1][name]);
  }
}

TEST_CASE("a truncated image met while streaming fails naming it, or is skipped and counted", "[loader][train]") {
  Fixture f = make_fixture("truncated");
  {  // exists at load time, fails to decode during training
    std::ofstream out(f.dir / "img2.png", std::ios::binary | std::ios::trunc);
    out << "\x89PNG\r\n\x1a\n";
  }
  f.opt.stream_images = true;
  CaptionSplit str = load_caption_split(f.ds, Split::train, f.vocab, f.opt, "tiny.json");
  f.opt.stream_images = false;
  CaptionSplit val = load_caption_split(f.ds, Split::val, f.vocab, f.opt, "tiny.json");
  TrainOptions o;
  o.batch_size = 8;
  o.epochs = 2;
  o.val_every = 100;
  o.val_images = 3;
  o.progress = false;
  o.loader_threads = 2;
  Generator g(5);
  Mrnn model(cnn_config(f.vocab.size()), g);
  o.out_dir = (f.dir / "out_fail").string();
  CHECK_THROWS_WITH(train_captioner(model, f.vocab, str, val, o), Contains("img2.png"));
  o.skip_bad_images = true;
  o.out_dir = (f.dir / "out_skip").string();
  TrainResult r = train_captioner(model, f.vocab, str, val, o);
  CHECK(r.skipped_images == 1);
  CHECK(r.steps == 8);
}
