// Reliability of training (issue 7): NaN/Inf injected into the gradients is caught within the step
// (stop names the parameter and the checkpoint that really exists; skip leaves the weights alone
// and counts the skips in log.jsonl); a 1,000-step loop holds the allocator's bytes steady; the
// optimizer state, config.json bounds and the recorded --bucket are validated on load.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/allocator.h"
#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/mrnn/caption_task.h"
#include "models/mrnn/caption_trainer.h"
#include "models/mrnn/model_dir.h"
#include "models/engine/optim.h"
#include "models/engine/training_checkpoints.h"

using namespace mrnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// 4 feature "images" with 2 captions each, all 3 words long: every batch of 8 has the same shapes.
CaptionSplit tiny_split() {
  CaptionSplit s;
  Generator g(5);
  s.images = Tensor::randn({4, 6}, g);
  const std::vector<std::vector<int32_t>> caps = {{4, 5, 6}, {4, 5, 7}, {7, 8, 9}, {7, 8, 4},
                                                  {9, 5, 6}, {9, 4, 6}, {8, 5, 4}, {8, 5, 9}};
  for (size_t c = 0; c < caps.size(); ++c) {
    s.captions.push_back(caps[c]);
    s.caption_image.push_back(static_cast<int64_t>(c / 2));
  }
  for (int i = 0; i < 4; ++i) {
    s.file_names.push_back("img" + std::to_string(i));
    s.image_ids.push_back(i);
    s.references.push_back({"w4 w5 w6", "w7 w8 w9"});
  }
  return s;
}

Vocab tiny_vocab() {
  std::vector<std::string> words;
  for (int w = 4; w <= 9; ++w) words.push_back("w" + std::to_string(w));
  return Vocab::build({words}, 1);
}

MrnnConfig tiny_config() {
  MrnnConfig c;
  c.vocab = 10;
  c.embed1 = 8;
  c.embed2 = 8;
  c.rnn = 8;
  c.multimodal = 12;
  c.image_input = "features";
  c.image_dim = 6;
  c.dropout = 0.2;
  return c;
}

TrainOptions tiny_options(const fs::path& dir) {
  TrainOptions o;
  o.out_dir = dir.string();
  o.batch_size = 8;
  o.epochs = 1000;
  o.val_images = 1;
  o.progress = false;
  o.warmup = 0;
  return o;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mrnn_test_rel_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::vector<nlohmann::json> read_log(const fs::path& dir) {
  std::vector<nlohmann::json> out;
  std::ifstream f(dir / "log.jsonl");
  for (std::string line; std::getline(f, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Poisons one element of parameter `name`'s gradient with `value` at the given steps.
std::function<void(int64_t, const std::vector<std::pair<std::string, Tensor>>&)> poison(
    const std::string& name, std::vector<int64_t> steps, float value) {
  return [=](int64_t step, const std::vector<std::pair<std::string, Tensor>>& params) {
    if (std::find(steps.begin(), steps.end(), step) == steps.end()) return;
    for (const auto& [n, p] : params)
      if (n == name) p.grad().data<float>()[1] = value;
  };
}

std::map<std::string, std::vector<float>> weights_of(const Mrnn& m) {
  std::map<std::string, std::vector<float>> w;
  for (const auto& [k, t] : m.state_dict()) w[k] = t.to_vector<float>();
  return w;
}

}  // namespace

TEST_CASE("nan policy stop: an injected NaN gradient stops the step, naming the parameter", "[train][nan]") {
  const CaptionSplit data = tiny_split();
  const fs::path dir = temp_dir("stop");
  Generator g(3);
  Mrnn model(tiny_config(), g);
  TrainOptions o = tiny_options(dir);
  o.max_steps = 20;
  o.val_every = 4;  // checkpoints at steps 4 and 8 before the fault
  o.after_backward = poison("multimodal.Vr", {9}, std::numeric_limits<float>::quiet_NaN());
  std::map<std::string, std::vector<float>> before;
  auto inject = o.after_backward;
  o.after_backward = [&](int64_t step, const std::vector<std::pair<std::string, Tensor>>& p) {
    if (step == 9) before = weights_of(model);  // the weights the failed step must leave alone
    inject(step, p);
  };
  CHECK_THROWS_WITH(train_captioner(model, tiny_vocab(), data, data, o),
                    Contains("non-finite gradient of multimodal.Vr at step 9") &&
                        Contains("non-finite gradients: multimodal.Vr)") &&
                        Contains("the last good checkpoint is " + (dir / "checkpoint-8.safetensors").string()));
  CHECK(fs::exists(dir / "checkpoint-8.safetensors"));
  CHECK(weights_of(model) == before);
  const std::vector<nlohmann::json> log = read_log(dir);
  REQUIRE(!log.empty());
  CHECK(log.back()["event"] == "nonfinite");
  CHECK(log.back()["what"] == "gradient of multimodal.Vr");
  CHECK(log.back()["action"] == "stop");

  // Before the first checkpoint the message says so instead of naming a file that does not exist;
  // an infinity in the loss path is reported as the loss.
  const fs::path dir2 = temp_dir("stop2");
  Generator g2(3);
  Mrnn model2(tiny_config(), g2);
  TrainOptions o2 = tiny_options(dir2);
  o2.max_steps = 20;
  o2.val_every = 10;
  o2.after_backward = poison("embed.weight", {2}, std::numeric_limits<float>::infinity());
  CHECK_THROWS_WITH(train_captioner(model2, tiny_vocab(), data, data, o2),
                    Contains("non-finite gradient of embed.weight at step 2") &&
                        Contains("no checkpoint has been written yet (the first comes at step 10)"));
  CHECK(!fs::exists(dir2 / "checkpoint.safetensors"));
  // A NaN weight makes the loss itself non-finite.
  Generator g3(3);
  Mrnn model3(tiny_config(), g3);
  for (auto& [n, p] : model3.named_parameters())
    if (n == "multimodal.bias") p.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  o2.after_backward = nullptr;
  CHECK_THROWS_WITH(train_captioner(model3, tiny_vocab(), data, data, o2), Contains("non-finite loss at step 0"));
  fs::remove_all(dir);
  fs::remove_all(dir2);
}

TEST_CASE("nan policy skip: poisoned steps are skipped without an update and counted", "[train][nan]") {
  const CaptionSplit data = tiny_split();
  const fs::path dir = temp_dir("skip"), ref_dir = temp_dir("skip_ref");
  TrainOptions o = tiny_options(dir);
  o.max_steps = 20;
  o.val_every = 20;
  o.nan_policy = "skip";
  o.optimizer = "sgd";  // the update depends on the step count only through the schedule
  o.schedule = "constant";
  o.after_backward = poison("rnn.weight_hh_l0", {3, 4, 11}, std::numeric_limits<float>::quiet_NaN());
  Generator g(3);
  Mrnn model(tiny_config(), g);
  std::vector<std::map<std::string, std::vector<float>>> at;  // weights seen at each step's backward
  auto inject = o.after_backward;
  o.after_backward = [&](int64_t step, const std::vector<std::pair<std::string, Tensor>>& p) {
    at.push_back(weights_of(model));
    inject(step, p);
  };
  const TrainResult r = train_captioner(model, tiny_vocab(), data, data, o);
  CHECK(r.steps == 20);
  CHECK(r.skipped_steps == 3);
  REQUIRE(at.size() == 20);
  CHECK(at[4] == at[3]);  // step 3 skipped: no update
  CHECK(at[5] == at[4]);  // step 4 skipped
  CHECK(at[12] == at[11]);
  CHECK(at[3] != at[2]);  // a normal step updates
  for (const auto& [k, w] : weights_of(model))
    for (float x : w) REQUIRE(std::isfinite(x));

  int nonfinite = 0;
  int64_t last_count = -1;
  for (const nlohmann::json& j : read_log(dir)) {
    if (j["event"] == "nonfinite") {
      ++nonfinite;
      CHECK(j["what"] == "gradient of rnn.weight_hh_l0");
      CHECK(j["action"] == "skip");
    }
    if (j["event"] == "train") last_count = j["skipped_steps"].get<int64_t>();
  }
  CHECK(nonfinite == 3);
  CHECK(last_count == 3);  // the train event of step 20

  // Without the fault, the same run updates at every step, so its final weights differ.
  Generator g2(3);
  Mrnn ref(tiny_config(), g2);
  TrainOptions ro = o;
  ro.out_dir = ref_dir.string();
  ro.after_backward = nullptr;
  CHECK(train_captioner(ref, tiny_vocab(), data, data, ro).skipped_steps == 0);
  CHECK(weights_of(ref) != weights_of(model));
  fs::remove_all(dir);
  fs::remove_all(ref_dir);
}

TEST_CASE("memory: a 1,000-step training loop holds the allocator's bytes steady", "[train][memory]") {
  // Every batch holds all 8 captions (same lengths), so each step allocates the same tensors. Sampled
  // at the same point of the step (after backward: graph and gradients alive), the bytes handed to
  // live tensors must be equal at steps 100 and 999, and no step after the warm-up may need memory
  // from the system (every block comes from the cache): a leaked tensor per step would grow both.
  const CaptionSplit data = tiny_split();
  const fs::path dir = temp_dir("memory");
  Generator g(3);
  Mrnn model(tiny_config(), g);
  TrainOptions o = tiny_options(dir);
  o.max_steps = 1000;
  o.val_every = 1000;
  AllocatorStats at100, at999;
  std::vector<size_t> in_use;
  o.after_backward = [&](int64_t step, const std::vector<std::pair<std::string, Tensor>>&) {
    const AllocatorStats s = cpu_allocator::stats();
    in_use.push_back(s.bytes_in_use);
    if (step == 100) at100 = s;
    if (step == 999) at999 = s;
  };
  REQUIRE(train_captioner(model, tiny_vocab(), data, data, o).steps == 1000);
  CHECK(at999.bytes_in_use == at100.bytes_in_use);
  CHECK(at999.bytes_reserved == at100.bytes_reserved);
  CHECK(at999.system_allocs == at100.system_allocs);
  CHECK(at999.requests > at100.requests);  // the loop did allocate: the counters are live
  size_t lo = in_use[100], hi = in_use[100];
  for (size_t i = 100; i < in_use.size(); ++i) {
    lo = std::min(lo, in_use[i]);
    hi = std::max(hi, in_use[i]);
  }
  CHECK(lo == hi);
  fs::remove_all(dir);
}

TEST_CASE("optimizer state: step and every tensor are validated, naming the tensor", "[optim]") {
  Tensor w = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector(std::vector<float>{1, 2});
  Adam adam({w, b});
  auto good = adam.state();
  good["exp_avg.0"] = Tensor::full({2, 3}, 0.5);
  good["step"] = Tensor::from_vector(std::vector<int64_t>{7});
  auto with = [&](const std::string& k, const Tensor& t) {
    auto s = good;
    s[k] = t;
    return s;
  };
  auto without = [&](const std::string& k) {
    auto s = good;
    s.erase(k);
    return s;
  };
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  for (double bad : {nan, inf, -inf, -1.0, 2.5, 1e19}) {
    INFO(bad);
    CHECK_THROWS_WITH(adam.load_state(with("step", Tensor::from_vector(std::vector<double>{bad}))),
                      Contains("tensor 'step' is") && Contains("expected a finite integral count >= 0"));
  }
  CHECK_THROWS_WITH(adam.load_state(with("step", Tensor::from_vector(std::vector<int64_t>{-3}))),
                    Contains("tensor 'step' is -3, expected a count >= 0"));
  CHECK_THROWS_WITH(adam.load_state(with("step", Tensor::from_vector(std::vector<int64_t>{}))),
                    Contains("tensor 'step' must hold one value"));
  CHECK_THROWS_WITH(adam.load_state(without("step")), Contains("tensor 'step' is missing"));
  CHECK_THROWS_WITH(adam.load_state(with("exp_avg_sq.1", Tensor::zeros({3}))),
                    Contains("tensor 'exp_avg_sq.1' has shape [3], but its parameter has shape [2]"));
  CHECK_THROWS_WITH(adam.load_state(with("exp_avg.0", Tensor::zeros({2, 3}, DType::F64))),
                    Contains("tensor 'exp_avg.0' must be f32"));
  CHECK_THROWS_WITH(adam.load_state(without("exp_avg.1")), Contains("tensor 'exp_avg.1' is missing"));
  CHECK(adam.steps() == 0);  // nothing of a rejected state was taken
  CHECK(adam.state().at("exp_avg.0").to_vector<float>() == std::vector<float>(6, 0.f));

  adam.load_state(with("step", Tensor::from_vector(std::vector<double>{12.0})));  // an integral float is fine
  CHECK(adam.steps() == 12);
  CHECK(adam.state().at("exp_avg.0").to_vector<float>() == std::vector<float>(6, 0.5f));
  SGD sgd({w});
  CHECK_THROWS_WITH(sgd.load_state({{"step", Tensor::from_vector(std::vector<int64_t>{1})},
                                    {"velocity.0", Tensor::zeros({3, 2})}}),
                    Contains("tensor 'velocity.0' has shape [3, 2], but its parameter has shape [2, 3]"));
}

TEST_CASE("config.json bounds live in MrnnConfig::from_json", "[mrnn]") {
  auto cfg = [](const std::string& extra) { return "{\"vocab\": 20" + extra + "}"; };
  CHECK_THROWS_WITH(MrnnConfig::from_json(cfg(", \"image_size\": 4000000000000"), "m/config.json"),
                    Contains("m/config.json: field 'image_size' is 4000000000000, at most 8192 is supported"));
  CHECK_THROWS_WITH(MrnnConfig::from_json(cfg(", \"embed1\": 65537"), "c.json"),
                    Contains("field 'embed1' is 65537, at most 65536 is supported"));
  CHECK_THROWS_WITH(MrnnConfig::from_json(cfg(", \"rnn\": 18446744073709551615"), "c.json"),
                    Contains("field 'rnn' is 18446744073709551615, at most 65536"));
  CHECK_THROWS_WITH(MrnnConfig::from_json("{\"vocab\": 16777217}", "c.json"),
                    Contains("field 'vocab' is 16777217, at most 16777216"));
  CHECK_THROWS_WITH(MrnnConfig::from_json(cfg(", \"cnn_channels\": [1,1,1,1,1,1,1,1,1]"), "c.json"),
                    Contains("field 'cnn_channels' has 9 entries, at most 8"));
  CHECK_THROWS_WITH(MrnnConfig::from_json(cfg(", \"cnn_channels\": [8, 70000]"), "c.json"),
                    Contains("field 'cnn_channels' is 70000, at most 65536"));
  CHECK_THROWS_WITH(MrnnConfig::from_json(cfg(", \"cnn_channels\": [8, 0]"), "c.json"),
                    Contains("field 'cnn_channels' must be an integer >= 1"));
  CHECK_THROWS_WITH(MrnnConfig::from_json(cfg(", \"multimodal\": -2"), "c.json"),
                    Contains("field 'multimodal' must be an integer >= 1"));
  // The largest allowed values parse (8 blocks, 65536 units, 8192 pixels), and parse_model_config
  // reports the same bound through from_json.
  const MrnnConfig c = MrnnConfig::from_json(
      cfg(", \"embed1\": 65536, \"image_size\": 8192, \"cnn_channels\": [1,2,3,4,5,6,7,65536]"), "c.json");
  CHECK(c.embed1 == 65536);
  CHECK(c.image_size == 8192);
  CHECK(c.cnn_channels.size() == 8);
  CHECK_THROWS_WITH(parse_model_config(cfg(", \"image_dim\": 65537"), "d/config.json"),
                    Contains("d/config.json: field 'image_dim' is 65537, at most 65536 is supported"));
}

TEST_CASE("the bucketing window and image grouping are recorded in the checkpoint and a resume with others is refused",
          "[train][resume]") {
  // The caption task validates the recorded options (untrusted checkpoint text) and compares them.
  {
    const CaptionSplit d = tiny_split();
    const Vocab v = tiny_vocab();
    Generator g0(3);
    Mrnn m(tiny_config(), g0);
    CaptionTaskOptions co;
    co.batch_size = 8;
    co.seed = 3;
    co.bucket = 4;
    CaptionTask task(m, v, d, d, co);
    task.check_order(task.order_json(), "x");
    task.check_order(R"({"batch":8,"seed":3})", "old");  // older checkpoints: no bucket recorded
    CHECK_THROWS_WITH(task.check_order(R"({"batch":8,"seed":3,"bucket":-2})", "f.st"),
                      Contains("f.st: training state field 'bucket' must be an integer >= 0"));
    CHECK_THROWS_WITH(task.check_order(R"({"batch":0,"seed":1})", "a.st"),
                      Contains("field 'batch' must be an integer >= 1, got 0"));
    CHECK_THROWS_WITH(task.check_order(R"({"batch":4,"seed":-1})", "a.st"),
                      Contains("field 'seed' must be an unsigned integer, got -1"));
    CHECK_THROWS_WITH(task.load_state_json(R"({"dropout_seed":-1,"dropout_offset":0})", "a.st"),
                      Contains("a.st: training state field 'dropout_seed' must be an unsigned integer"));
    CHECK_THROWS_WITH(task.check_order(R"({"batch":8,"seed":3,"bucket":4,"group_by_image":true})", "g.st"),
                      Contains("g.st was written with --group-by-image, but this run is without it"));
    CaptionTaskOptions go;
    go.batch_size = 8;
    go.group_by_image = true;
    CaptionTask grouped(m, v, d, d, go);
    grouped.check_order(grouped.order_json(), "x");
    CHECK_THROWS_WITH(grouped.check_order(R"({"batch":8,"seed":1})", "old.st"),  // before the option: not grouped
                      Contains("old.st was written without --group-by-image, but this run is with it"));
    CHECK_THROWS_WITH(grouped.check_order(R"({"batch":8,"seed":1,"group_by_image":3})", "g.st"),
                      Contains("group_by_image"));
    go.bucket = 2;
    CHECK_THROWS_WITH(CaptionTask(m, v, d, d, go), Contains("--group-by-image and --bucket 2 cannot be combined"));
  }

  const CaptionSplit data = tiny_split();
  const fs::path dir = temp_dir("bucket");
  Generator g(3);
  Mrnn model(tiny_config(), g);
  TrainOptions o = tiny_options(dir);
  o.batch_size = 2;
  o.max_steps = 6;
  o.val_every = 2;
  o.bucket = 2;
  o.stop_after_steps = 3;
  train_captioner(model, tiny_vocab(), data, data, o);
  o.resume = true;
  o.stop_after_steps = 0;
  o.bucket = 0;
  CHECK_THROWS_WITH(train_captioner(model, tiny_vocab(), data, data, o),
                    Contains("checkpoint-3.safetensors was written with --bucket 2, but this run has --bucket 0"));
  o.bucket = 2;
  CHECK(train_captioner(model, tiny_vocab(), data, data, o).steps == 6);
  fs::remove_all(dir);
}
