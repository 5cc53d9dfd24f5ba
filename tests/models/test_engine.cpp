// The engine (models/engine): a Task that is not captioning trains on the one Trainer with best by
// a minimised metric, JSON-lines logs and exact resume; parameter groups (lr scale, frozen groups,
// frozen rows) leave what they freeze bit-identical; buffers ride in the state_dict; a vocabulary
// grows with the old rows kept bit for bit.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/engine/checkpoint.h"
#include "layers/embedding.h"
#include "layers/linear.h"
#include "models/engine/trainer.h"
#include "models/mrnn/mrnn.h"
#include "models/engine/training_checkpoints.h"

using namespace mrnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mrnn_test_engine_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

// y = embed(id) . w + b, with a running-mean buffer the loss does not use.
class ToyModel : public Module {
 public:
  explicit ToyModel(Generator& g) {
    embed = register_module("embed", std::make_shared<Embedding>(10, 4, g));
    head = register_module("head", std::make_shared<Linear>(4, 1, g));
    mean = register_buffer("mean", Tensor::full({4}, 0.5));
  }
  Tensor forward(const Tensor& ids) const { return reshape(head->forward(embed->forward(ids)), {-1}); }
  std::shared_ptr<Embedding> embed;
  std::shared_ptr<Linear> head;
  Tensor mean;
};

struct ToyBatch : Batch {
  Tensor ids, y;
};

// 24 examples (id = i % 10, y = sin(id)), batches of 4 in a per-epoch shuffled order, and dropout
// on the embeddings from the task's own generator (saved in the checkpoint's task state).
class ToyTask : public Task {
 public:
  explicit ToyTask(ToyModel& m) : m_(m) {}
  Module& model() override { return m_; }
  int64_t epoch_size() const override { return 24; }
  int64_t batches_per_epoch() const override { return 6; }
  std::unique_ptr<Batch> next_batch(int64_t epoch, int64_t pos) override {
    std::vector<int64_t> order(24);
    for (int64_t i = 0; i < 24; ++i) order[i] = i;
    Generator g(100 + static_cast<uint64_t>(epoch));
    for (int64_t i = 23; i > 0; --i) std::swap(order[i], order[g.randint(static_cast<uint64_t>(i + 1))]);
    auto b = std::make_unique<ToyBatch>();
    std::vector<int64_t> ids;
    std::vector<float> y;
    for (int64_t k = pos; k < pos + 4; ++k) {
      ids.push_back(order[k] % 10);
      y.push_back(static_cast<float>(std::sin(static_cast<double>(order[k] % 10))));
    }
    b->ids = Tensor::from_vector(ids);
    b->y = Tensor::from_vector(y);
    b->consumed = 4;
    return b;
  }
  Tensor loss(Batch& batch) override {
    auto& b = static_cast<ToyBatch&>(batch);
    batch.units = 4;
    Tensor e = dropout(m_.embed->forward(b.ids), 0.2, true, drop_);
    Tensor pred = reshape(m_.head->forward(e), {-1});
    return mean(square(sub(pred, b.y)));
  }
  std::vector<Metric> validate() override {
    std::vector<int64_t> ids;
    std::vector<float> y;
    for (int64_t i = 0; i < 10; ++i) {
      ids.push_back(i);
      y.push_back(static_cast<float>(std::sin(static_cast<double>(i))));
    }
    const double mse = mean(square(sub(m_.forward(Tensor::from_vector(ids)), Tensor::from_vector(y)))).item();
    validations.push_back(mse);
    return {{"mse", "MSE", mse}, {"calls", "calls", static_cast<double>(validations.size())}};
  }
  BestBy best_by() const override { return {"mse", Goal::Minimize}; }
  std::string state_json() const override {
    return nlohmann::json{{"seed", drop_.seed()}, {"offset", drop_.offset()}}.dump();
  }
  void load_state_json(const std::string& text, const std::string& what) override {
    const auto j = nlohmann::json::parse(text);
    drop_.set_state(j.at("seed").get<uint64_t>(), j.at("offset").get<uint64_t>());
  }
  std::vector<double> validations;

 private:
  ToyModel& m_;
  Generator drop_{77};
};

TrainerOptions toy_options(const fs::path& dir) {
  TrainerOptions o;
  o.out_dir = dir.string();
  o.epochs = 4;  // 24 steps
  o.val_every = 4;
  o.progress = false;
  o.warmup = 0;
  o.lr = 0.05;
  o.clip = 1;
  return o;
}

std::vector<std::vector<float>> weights(const Module& m) {
  std::vector<std::vector<float>> w;
  for (auto& [n, t] : m.named_parameters()) w.push_back(t.to_vector<float>());
  return w;
}

std::vector<nlohmann::json> log_events(const fs::path& dir, const std::string& event) {
  std::ifstream in(dir / "log.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == event) out.push_back(j);
  }
  return out;
}

}  // namespace

TEST_CASE("engine: a non-captioning task trains, keeps the best by a minimised metric, logs JSON lines",
          "[engine]") {
  const fs::path dir = temp_dir("best");
  Generator g(3);
  ToyModel model(g);
  ToyTask task(model);
  const FitResult r = fit(task, toy_options(dir));
  CHECK(r.steps == 24);
  REQUIRE(task.validations.size() == 6);  // steps 4, 8, ..., 24
  const double best = *std::min_element(task.validations.begin(), task.validations.end());
  CHECK(r.has_best);
  CHECK(r.best_metric == "mse");
  CHECK(r.best_value == best);
  CHECK(task.validations.back() < task.validations.front());  // it learned

  // model.safetensors holds the weights of the best validation: its MSE is the best one.
  Generator g2(99);
  ToyModel reloaded(g2);
  load_module((dir / "model.safetensors").string(), reloaded);
  ToyTask probe(reloaded);
  CHECK(probe.validate()[0].value == best);

  const auto vals = log_events(dir, "val");
  REQUIRE(vals.size() == 6);
  int bests = 0;
  for (const auto& v : vals) {
    CHECK(v.contains("mse"));
    bests += v["best"].get<bool>() ? 1 : 0;
  }
  CHECK(bests >= 1);
  CHECK(vals.front()["best"].get<bool>());
  CHECK(log_events(dir, "train").size() == 3);  // steps 10, 20 and the last (24)
  CHECK(log_events(dir, "train").back().contains("examples_per_s"));
  fs::remove_all(dir);
}

TEST_CASE("engine: stop and resume is bit-identical, task state and buffers included", "[engine][resume]") {
  const fs::path a = temp_dir("straight"), b = temp_dir("resumed");
  Generator g1(3), g2(3), g3(3);
  ToyModel straight(g1), first(g2), second(g3);
  ToyTask t1(straight), t2(first), t3(second);
  fit(t1, toy_options(a));
  TrainerOptions o = toy_options(b);
  o.stop_after_steps = 7;  // not a validation step: the stop writes its own checkpoint
  CHECK(fit(t2, o).steps == 7);
  o.stop_after_steps = 0;
  o.resume = true;
  const FitResult r = fit(t3, o);
  CHECK(r.steps == 24);
  CHECK(weights(second) == weights(straight));
  CHECK(second.mean.to_vector<float>() == straight.mean.to_vector<float>());
  CHECK(log_events(b, "resume").size() == 1);
  // The best so far was restored with the checkpoint: the resumed run's best equals the straight one's.
  CHECK(r.best_value == *std::min_element(t1.validations.begin(), t1.validations.end()));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("engine: parameter groups: frozen groups and frozen rows stay bit-identical, lr scale 0 too",
          "[engine][groups]") {
  const fs::path dir = temp_dir("groups");
  Generator g(4);
  ToyModel model(g);
  const std::vector<float> head_w = model.head->weight.to_vector<float>();
  const std::vector<float> head_b = model.head->bias.to_vector<float>();
  const std::vector<float> emb0 = model.embed->weight.to_vector<float>();
  ToyTask task(model);
  TrainerOptions o = toy_options(dir);
  o.optimizer = "adamw";
  o.weight_decay = 0.1;  // decay must not touch frozen rows either
  ParamGroupSpec frozen{"head", {"head.weight"}, 1.0, -1, true, {}};
  ParamGroupSpec still{"bias", {"head.bias"}, 0.0, -1, false, {}};
  ParamGroupSpec rows{"new_words", {"embed."}, 2.0, -1, false, {{"embed.weight", 6}}};
  o.groups = {frozen, still, rows};
  fit(task, o);
  CHECK(model.head->weight.to_vector<float>() == head_w);
  CHECK_FALSE(model.head->weight.requires_grad());
  CHECK(model.head->bias.to_vector<float>() == head_b);
  const std::vector<float> emb1 = model.embed->weight.to_vector<float>();
  CHECK(std::vector<float>(emb1.begin(), emb1.begin() + 24) == std::vector<float>(emb0.begin(), emb0.begin() + 24));
  CHECK(std::vector<float>(emb1.begin() + 24, emb1.end()) != std::vector<float>(emb0.begin() + 24, emb0.end()));

  ParamGroupSpec typo{"x", {"embed."}, 1.0, -1, false, {{"embed.wieght", 2}}};
  o.groups = {typo};
  CHECK_THROWS_WITH(fit(task, o), Contains("freezes rows of 'embed.wieght'"));
  fs::remove_all(dir);
}

TEST_CASE("engine: a best metric the task does not report is an error naming it", "[engine]") {
  const fs::path dir = temp_dir("nometric");
  Generator g(4);
  ToyModel model(g);
  ToyTask task(model);
  TrainerOptions o = toy_options(dir);
  o.best_metric = "accuracy";
  CHECK_THROWS_WITH(fit(task, o), Contains("metric 'accuracy', which validate() does not return"));
  o.best_metric = "calls";  // maximised: the last validation is the best
  o.best_goal = Goal::Maximize;
  ToyTask fresh(model);
  CHECK(fit(fresh, o).best_value == 6);
  fs::remove_all(dir);
}

TEST_CASE("modules: buffers are saved and loaded with the parameters but never trained", "[engine][buffers]") {
  Generator g(1);
  ToyModel a(g), b(g);
  CHECK(a.named_buffers().size() == 1);
  CHECK(a.named_buffers()[0].first == "mean");
  CHECK_FALSE(a.mean.requires_grad());
  for (auto& [n, t] : a.named_parameters()) CHECK(n != "mean");
  REQUIRE(a.state_dict().count("mean"));
  {
    NoGradGuard ng;
    a.mean.copy_(Tensor::from_vector(std::vector<float>{1, 2, 3, 4}));
  }
  b.load_state_dict(a.state_dict());
  CHECK(b.mean.to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  auto partial = a.state_dict();
  partial.erase("mean");
  CHECK_THROWS_WITH(b.load_state_dict(partial), Contains("'mean'"));
}

TEST_CASE("growing a vocabulary keeps every old value bit for bit (tied and untied m-RNN)", "[engine][grow]") {
  for (bool tws : {true, false}) {
    MrnnConfig c;
    c.vocab = 12;
    c.embed1 = 8;
    c.embed2 = 8;
    c.rnn = 8;
    c.multimodal = 10;
    c.image_input = "features";
    c.image_dim = 6;
    c.tws = tws;
    Generator g(7);
    Mrnn m(c, g);
    std::map<std::string, std::vector<float>> before;
    for (auto& [n, t] : m.named_parameters()) before[n] = t.to_vector<float>();
    Generator gg(8);
    m.grow_vocab(3, -1.5, gg);
    CHECK(m.config().vocab == 15);
    for (auto& [n, t] : m.named_parameters()) {
      const std::vector<float> now = t.to_vector<float>();
      const std::vector<float>& old = before[n];
      REQUIRE(now.size() >= old.size());
      CHECK(std::vector<float>(now.begin(), now.begin() + static_cast<int64_t>(old.size())) == old);
      if (n == "output.bias") {
        REQUIRE(now.size() == 15);
        CHECK(now[12] == -1.5f);
        CHECK(now[14] == -1.5f);
      }
      if (n == "embed.weight") CHECK(now.size() == 15 * 8);
    }
    // The grown model runs: logits cover the new words.
    Tensor tokens = Tensor::from_vector(std::vector<int64_t>{2, 13, 14, 3}, {1, 4});
    Tensor feats = Tensor::randn({1, 6}, g);
    CHECK(m.logits(narrow(tokens, 1, 0, 3), feats).size(2) == 15);
  }
}
