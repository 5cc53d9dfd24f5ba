// Data-parallel building blocks (docs/distributed.md): the one-process communicator, the shard
// split, the per-rank dropout streams, caption-batch shards, the autograd "gradient final" hook the
// gradient buckets start from, the bucketed reducer on one process, and the per-rank task states in
// the training-state JSON. The N-rank runs themselves are tests/programs/distributed.sh (mpirun).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>
#include <set>

#include "core/autograd.h"
#include "core/error.h"
#include "kernels/ops.h"
#include "models/engine/comm.h"
#include "models/engine/grad_reducer.h"
#include "models/engine/task.h"
#include "models/engine/training_checkpoints.h"
#include "models/mrnn/caption_batches.h"
#include "models/mrnn/caption_task.h"

using namespace mrnn;

TEST_CASE("local communicator: rank 0 of 1, sums are the identity, all_gather returns the payload") {
  auto c = make_local_comm();
  CHECK(c->rank() == 0);
  CHECK(c->size() == 1);
  std::vector<float> v = {1.5f, -2.f};
  const int64_t r = c->start_sum(v.data(), 2);
  c->wait(r, 1, "test");
  CHECK(c->test(r));
  CHECK(v == std::vector<float>{1.5f, -2.f});
  CHECK(c->all_gather("abc", 1, "test") == std::vector<std::string>{"abc"});
  // A plain process (no launcher variables) gets the local communicator.
  CHECK(world_comm().size() == 1);
}

TEST_CASE("pack_doubles round-trips and a ragged payload is an error") {
  const std::vector<double> v = {0.0, -1.25, 1e300, 3};
  CHECK(unpack_doubles(pack_doubles(v)) == v);
  CHECK(unpack_doubles(pack_doubles({})).empty());
  CHECK_THROWS_AS(unpack_doubles(std::string(9, 'x')), Error);
}

TEST_CASE("shard_range: the ranks' parts are contiguous, in order, cover the batch and differ by at most one") {
  for (int64_t n = 0; n <= 17; ++n)
    for (int size = 1; size <= 5; ++size) {
      int64_t next = 0, lo_count = n, hi_count = 0;
      for (int r = 0; r < size; ++r) {
        const auto [a, b] = shard_range(n, r, size);
        CHECK(a == next);
        CHECK(b >= a);
        next = b;
        lo_count = std::min(lo_count, b - a);
        hi_count = std::max(hi_count, b - a);
      }
      CHECK(next == n);
      CHECK(hi_count - lo_count <= 1);
    }
  CHECK_THROWS_AS(shard_range(4, 2, 2), Error);
}

TEST_CASE("rank_stream: a pure function of seed and rank, distinct per rank, offset kept") {
  Generator g(42);
  g.advance(100);
  std::set<uint64_t> seeds = {g.seed()};
  for (int r = 1; r <= 8; ++r) {
    const Generator a = rank_stream(g, r), b = rank_stream(g, r);
    CHECK(a.seed() == b.seed());
    CHECK(a.offset() == 100);
    seeds.insert(a.seed());
  }
  CHECK(seeds.size() == 9);
  CHECK(rank_stream(Generator(43), 1).seed() != rank_stream(Generator(42), 1).seed());
}

TEST_CASE("keep_captions: a shard keeps its captions and exactly the images they use, re-indexed") {
  // 3 images (rows filled with their index), 5 captions on images 0 0 1 2 1.
  CaptionSplit split;
  split.images = Tensor::zeros({3, 2});
  float* p = split.images.data<float>();
  for (int i = 0; i < 6; ++i) p[i] = static_cast<float>(i / 2);
  split.captions = {{4}, {5}, {6}, {7}, {8}};
  split.caption_image = {0, 0, 1, 2, 1};
  split.file_names = {"a", "b", "c"};
  CaptionTrainBatch b = in_memory_batch(split, {0, 1, 2, 3, 4});
  CaptionTrainBatch second = b;
  keep_captions(second, 2, 5);  // captions 2, 3, 4: images 1, 2, 1
  CHECK(second.captions == std::vector<int64_t>{2, 3, 4});
  CHECK(second.planned == 5);
  REQUIRE(second.images.size(0) == 2);
  CHECK(second.images.to_vector<float>() == std::vector<float>{1, 1, 2, 2});
  CHECK(second.rows.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0});
  CaptionTrainBatch none = b;
  keep_captions(none, 5, 5);
  CHECK(none.captions.empty());
  CHECK_FALSE(none.images.defined());
  CHECK_THROWS_AS(keep_captions(b, 3, 6), Error);
}

TEST_CASE("LeafGradHook: each leaf that wants a gradient is named once, when its gradient is final") {
  Tensor w = Tensor::from_vector(std::vector<float>{1, 2, 3}).requires_grad_();
  Tensor v = Tensor::from_vector(std::vector<float>{4, 5, 6}).requires_grad_();
  Tensor x = Tensor::from_vector(std::vector<float>{1, 1, 1});  // no grad: never named
  // w feeds two nodes (used twice), v one: loss = sum(w*x) + sum(w*v) + sum(v).
  Tensor loss = add(add(sum(mul(w, x)), sum(mul(w, v))), sum(v));
  std::vector<std::pair<const TensorImpl*, std::vector<float>>> seen;
  {
    LeafGradHook hook([&](const Tensor& leaf) { seen.emplace_back(&leaf.impl(), leaf.grad().to_vector<float>()); });
    loss.backward();
  }
  REQUIRE(seen.size() == 2);
  for (const auto& [impl, grad_then] : seen) {
    const Tensor& t = impl == &w.impl() ? w : v;
    CHECK((impl == &w.impl() || impl == &v.impl()));
    CHECK(grad_then == t.grad().to_vector<float>());  // already final when named
  }
  CHECK(w.grad().to_vector<float>() == std::vector<float>{5, 6, 7});
  CHECK(v.grad().to_vector<float>() == std::vector<float>{2, 3, 4});
}

TEST_CASE("GradReducer on one process: buckets in reverse model order, grad = sum * scale, undefined kept") {
  auto comm = make_local_comm();
  Tensor a = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}).requires_grad_();
  Tensor b = Tensor::from_vector(std::vector<float>{5, 6}).requires_grad_();
  Tensor c = Tensor::from_vector(std::vector<float>{7}).requires_grad_();
  GradReducer r(*comm, {a, b, c}, 4 * 4, true, 1);  // 4 floats a bucket: {c, b}, {a}
  CHECK(r.buckets() == 2);
  r.begin_step();
  Tensor loss = add(sum(mul(a, a)), sum(b));  // c gets no gradient
  loss.backward();
  r.finish(0.5f, {true, true, false}, "test");
  CHECK(a.grad().to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  CHECK(b.grad().to_vector<float>() == std::vector<float>{0.5f, 0.5f});
  CHECK_FALSE(c.grad().defined());
  CHECK_THROWS_AS(GradReducer(*comm, {a}, 2, true, 1), Error);
}

TEST_CASE("training state: rank_tasks and world_size round-trip, and one process writes neither") {
  TrainState s;
  s.step = 3;
  s.task = R"({"dropout_seed":1,"dropout_offset":2})";
  const std::string one = train_state_json(s);
  CHECK(one.find("rank_tasks") == std::string::npos);
  CHECK(parse_train_state(one, "x").rank_tasks.empty());
  s.rank_tasks = {R"({"dropout_seed":9,"dropout_offset":2})"};
  const std::string two = train_state_json(s);
  CHECK(two.find(R"("world_size":2)") != std::string::npos);
  const TrainState back = parse_train_state(two, "x");
  REQUIRE(back.rank_tasks.size() == 1);
  CHECK(nlohmann::json::parse(back.rank_tasks[0])["dropout_seed"] == 9);
  CHECK(nlohmann::json::parse(back.task)["dropout_seed"] == 1);
  CHECK_THROWS_WITH(parse_train_state(R"({"step":1,"epoch":0,"pos":0,"rank_tasks":[3]})", "ck.safetensors"),
                    Catch::Contains("ck.safetensors") && Catch::Contains("rank_tasks[0]"));
}

namespace {
// Two "ranks" that hold the same gradients: a sum doubles the buffer. Records the order and size
// of the sums it was asked for, and whether backward was still running then.
class TwinComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string backend() const override { return "twin"; }
  int64_t start_sum(float* data, int64_t n) override {
    for (int64_t i = 0; i < n; ++i) data[i] *= 2;
    sizes.push_back(n);
    during_backward.push_back(in_backward);
    return static_cast<int64_t>(sizes.size());
  }
  bool test(int64_t) override { return true; }
  void wait(int64_t, double, const std::string&) override {}
  std::vector<std::string> all_gather(const std::string& mine, double, const std::string&) override {
    return {mine, mine};
  }
  [[noreturn]] void abort(int code) override { std::exit(code); }
  std::vector<int64_t> sizes;
  std::vector<bool> during_backward;
  bool in_backward = false;
};
}  // namespace

TEST_CASE("GradReducer overlapped: buckets start in order while backward runs, the last ones after") {
  TwinComm comm;
  // A chain: the last parameters' gradients are final first. Buckets of 2 floats, reverse order:
  // {p3}, {p2}, {p1}, {p0} (each 2 floats).
  std::vector<Tensor> p;
  for (int i = 0; i < 4; ++i) p.push_back(Tensor::from_vector(std::vector<float>{1.f + i, 2.f + i}).requires_grad_());
  GradReducer r(comm, p, 2 * 4, true, 1);
  REQUIRE(r.buckets() == 4);
  r.begin_step();
  Tensor h = p[0];
  for (int i = 1; i < 4; ++i) h = mul(h, p[i]);
  Tensor loss = sum(h);
  {
    std::unique_ptr<LeafGradHook> hook = r.hook();
    REQUIRE(hook);
    comm.in_backward = true;
    loss.backward();
    comm.in_backward = false;
  }
  std::vector<std::vector<float>> local;
  for (const Tensor& t : p) local.push_back(t.grad().to_vector<float>());
  r.finish(0.25f, {true, true, true, true}, "test");
  CHECK(comm.sizes == std::vector<int64_t>{2, 2, 2, 2});
  CHECK(r.started_early() >= 1);  // at least the first bucket went during backward
  CHECK(comm.during_backward[0]);
  for (size_t k = 0; k < p.size(); ++k) {
    const std::vector<float> g = p[k].grad().to_vector<float>();
    for (size_t j = 0; j < g.size(); ++j) CHECK(g[j] == local[k][j] * 2 * 0.25f);  // sum of 2 ranks * scale
  }
  // No overlap: nothing starts before finish().
  TwinComm late;
  GradReducer r2(late, p, 8, false, 1);
  CHECK_FALSE(r2.hook());
}

TEST_CASE("map_chunks on one process: every chunk, in order") {
  auto comm = make_local_comm();
  const std::vector<std::string> out =
      map_chunks(*comm, 5, [](int64_t c) { return std::string(static_cast<size_t>(c), 'x'); }, 1, "test");
  REQUIRE(out.size() == 5);
  for (size_t c = 0; c < out.size(); ++c) CHECK(out[c] == std::string(c, 'x'));
  CHECK(map_chunks(*comm, 0, [](int64_t) { return std::string("never"); }, 1, "test").empty());
}

TEST_CASE("CaptionTask::validate_sharded merges its chunks into validate()'s numbers, bit for bit") {
  // 300 images (3 decoding chunks of up to 128), 600 captions (5 perplexity chunks of 128).
  CaptionSplit s;
  Generator g(3);
  s.images = Tensor::randn({300, 8}, g);
  for (int i = 0; i < 300; ++i) {
    s.file_names.push_back("img" + std::to_string(i));
    s.image_ids.push_back(i);
    std::vector<std::string> refs;
    for (int k = 0; k < 2; ++k) {
      std::vector<int32_t> cap;
      std::string ref;
      for (int w = 0; w < 2 + (i + k) % 4; ++w) {
        cap.push_back(4 + (i * 7 + k * 3 + w) % 10);
        ref += (ref.empty() ? "" : " ") + std::string("w") + std::to_string(cap.back());
      }
      s.captions.push_back(cap);
      s.caption_image.push_back(i);
      refs.push_back(ref);
    }
    s.references.push_back(refs);
  }
  std::vector<std::string> words;
  for (int w = 4; w <= 13; ++w) words.push_back("w" + std::to_string(w));
  const Vocab vocab = Vocab::build({words}, 1);
  MrnnConfig c;
  c.vocab = vocab.size();
  c.embed1 = 8;
  c.embed2 = 8;
  c.rnn = 8;
  c.multimodal = 8;
  c.image_input = "features";
  c.image_dim = 8;
  c.dropout = 0;
  Generator init(7);
  Mrnn model(c, init);
  model.eval();
  CaptionTaskOptions o;
  o.val_images = 0;
  CaptionTask task(model, vocab, s, s, o);
  NoGradGuard ng;
  const std::vector<Metric> one = task.validate();
  auto comm = make_local_comm();
  const std::vector<Metric> sharded = task.validate_sharded(*comm, 10);
  REQUIRE(one.size() == sharded.size());
  for (size_t i = 0; i < one.size(); ++i) {
    CHECK(one[i].key == sharded[i].key);
    CHECK(one[i].value == sharded[i].value);  // exact
  }
}
