// NVCS (models/nvcs): learning new words trains only their rows, every old parameter keeps its
// bits (tied and untied, bias fixed or free, centred or not); the fixed bias is the old words'
// mean; the centring buffer is saved and reloaded and changes only the new words' logits; bad
// input (untied base, known word, concept without images, too many examples) fails clearly.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/engine/checkpoint.h"
#include "models/mrnn/caption_trainer.h"
#include "models/mrnn/model_dir.h"
#include "models/nvcs/nvcs.h"
#include "support/compare.h"
#include "support/nvcs_fixtures.h"

using namespace mrnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mrnn_test_nvcs_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

const std::vector<std::string>& kBaseWords = testing::nvcs_base_words();
Vocab base_vocab() { return testing::nvcs_base_vocab(); }
MrnnConfig small_config(bool tws, int64_t vocab) { return testing::nvcs_small_config(tws, vocab, 0.25); }
CaptionSplit split_of(const Vocab& v, const std::vector<std::vector<std::string>>& caps, uint64_t seed) {
  return testing::nvcs_split(v, caps, seed);
}
NovelData star_data() { return testing::nvcs_star_data(); }

std::map<std::string, std::vector<float>> values(const Module& m) {
  std::map<std::string, std::vector<float>> out;
  for (auto& [n, t] : m.state_dict()) out[n] = t.contiguous().to_vector<float>();
  return out;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
}

}  // namespace

TEST_CASE("nvcs: training the new words keeps every old parameter bit-identical", "[nvcs]") {
  struct Case {
    bool tws, fixed_bias, centralize;
  };
  for (Case k : {Case{true, true, true}, Case{true, false, true}, Case{true, false, false}, Case{false, true, true},
                 Case{false, false, false}}) {
    INFO("tws " << k.tws << " fixed_bias " << k.fixed_bias << " centralize " << k.centralize);
    Vocab vocab = base_vocab();
    Generator g(11);
    Mrnn model(small_config(k.tws, vocab.size()), g);
    {  // distinct old biases, so the mean is not trivially 0
      NoGradGuard ng;
      std::vector<float> b(vocab.size());
      for (int32_t w = 0; w < vocab.size(); ++w) b[w] = 0.1f * static_cast<float>(w) - 0.3f;
      model.state_dict().at("output.bias").copy_(Tensor::from_vector(b));
    }
    const CaptionSplit base = split_of(vocab, {{"a", "red", "circle"}, {"a", "blue", "square", "left"},
                                               {"red", "square"}, {"a", "circle", "right"}}, 2);
    const auto before = values(model);
    const double expected_bias = [&] {
      double s = 0;
      for (int32_t w = kEosId + 1; w < vocab.size(); ++w) s += before.at("output.bias")[w];
      return s / (vocab.size() - kEosId - 1);
    }();
    Generator gg(12);
    const NovelWords nw = add_novel_words(model, vocab, star_data(), k.tws, gg, "base");
    REQUIRE(nw.words == std::vector<std::string>{"star", "stars", "hexagon"});
    REQUIRE(nw.old_vocab == static_cast<int64_t>(kBaseWords.size()) + 4);
    CHECK(nw.new_bias == Approx(expected_bias).margin(1e-6));
    if (k.centralize) model.centralize(output_input_mean(model, base, 0, 2), nw.old_vocab);
    const auto grown = values(model);
    const CaptionSplit novel = split_of(vocab, {{"a", "red", "star"}, {"two", "stars"}, {"a", "hexagon", "left"},
                                                {"blue", "hexagon"}}, 3);
    TrainOptions t;
    t.out_dir = temp_dir("train").string();
    t.max_steps = 6;
    t.batch_size = 2;
    t.warmup = 0;
    t.lr = 0.05;
    t.val_every = 3;
    t.val_images = 1;
    t.progress = false;
    t.groups = novel_param_groups(model, nw.old_vocab, k.fixed_bias);
    model.train();
    train_captioner(model, vocab, novel, novel, t);
    const auto after = values(model);
    for (auto& [name, old] : before) {
      INFO(name);
      const std::vector<float>& now = after.at(name);
      REQUIRE(now.size() >= old.size());
      CHECK(std::vector<float>(now.begin(), now.begin() + static_cast<int64_t>(old.size())) == old);
      const std::vector<float>& start = grown.at(name);
      const bool rows_train = name == "embed.weight" || (name == "output.weight" && !k.tws) ||
                              (name == "output.bias" && !k.fixed_bias);
      if (now.size() > old.size()) {
        const std::vector<float> new_now(now.begin() + static_cast<int64_t>(old.size()), now.end());
        const std::vector<float> new_start(start.begin() + static_cast<int64_t>(old.size()), start.end());
        if (rows_train) CHECK(new_now != new_start);  // the new rows did learn
        else CHECK(new_now == new_start);
      }
    }
    const std::vector<float>& bias = after.at("output.bias");
    if (k.fixed_bias)
      for (int64_t w = nw.old_vocab; w < vocab.size(); ++w) CHECK(bias[w] == static_cast<float>(nw.new_bias));
    if (k.centralize) CHECK(after.at("nvcs_center") == grown.at("nvcs_center"));  // a buffer: never trained
    fs::remove_all(t.out_dir);
  }
}

TEST_CASE("nvcs: centring changes only the new words' logits, and is saved and reloaded", "[nvcs]") {
  for (bool tws : {true, false}) {
    INFO("tws " << tws);
    Vocab vocab = base_vocab();
    Generator g(21);
    Mrnn model(small_config(tws, vocab.size()), g);
    model.eval();
    Tensor ids = Tensor::from_vector(std::vector<int64_t>{kBosId, vocab.id("a"), vocab.id("red")}, {1, 3});
    Tensor feats = Tensor::randn({1, 6}, g);
    Generator gg(22);
    const NovelWords nw = add_novel_words(model, vocab, star_data(), tws, gg, "base");
    NoGradGuard ng;
    const std::vector<float> plain = model.logits(ids, feats).contiguous().to_vector<float>();
    const Tensor mean = Tensor::randn({model.output_input_dim()}, g);
    model.centralize(mean, nw.old_vocab);
    const std::vector<float> centred = model.logits(ids, feats).contiguous().to_vector<float>();
    const int64_t V = vocab.size(), d = model.output_input_dim();
    const Tensor x = model.output_input(model.multimodal(ids, feats)).contiguous();
    const std::vector<float> xv = x.to_vector<float>(), mu = mean.to_vector<float>();
    const std::vector<float> table =
        model.state_dict().at(tws ? "embed.weight" : "output.weight").contiguous().to_vector<float>();
    const std::vector<float> bias = model.state_dict().at("output.bias").to_vector<float>();
    for (int64_t p = 0; p < 3; ++p)
      for (int64_t w = 0; w < V; ++w) {
        if (w < nw.old_vocab) {
          CHECK(std::fabs(centred[p * V + w] - plain[p * V + w]) <= 1e-5f);
          continue;
        }
        double want = bias[w];
        for (int64_t k = 0; k < d; ++k) want += (xv[p * d + k] - mu[k]) * table[w * d + k];
        CHECK(centred[p * V + w] == Approx(want).margin(1e-4));
      }
    // Saved in a model folder and reloaded: the buffer, the config field and the logits agree.
    const fs::path dir = temp_dir(tws ? "reload_tws" : "reload_untied");
    write_model_dir_meta(dir.string(), model.config(), vocab, TokenizerMode::word);
    save_module((dir / "model.safetensors").string(), model);
    const ModelDir back = load_model_dir(dir.string());
    CHECK(back.config.centralize_from == nw.old_vocab);
    CHECK(back.model->center().to_vector<float>() == mu);
    CHECK(back.model->logits(ids, feats).contiguous().to_vector<float>() == centred);
    fs::remove_all(dir);
  }
}

TEST_CASE("nvcs: config.json without centralize_from loads as before, bad values are rejected", "[nvcs]") {
  MrnnConfig c = small_config(true, 20);
  CHECK(c.to_json().find("centralize_from") == std::string::npos);
  CHECK(MrnnConfig::from_json(c.to_json(), "config.json").centralize_from == 0);
  c.centralize_from = 15;
  CHECK(c.to_json().find("\"centralize_from\": 15") != std::string::npos);
  CHECK(MrnnConfig::from_json(c.to_json(), "config.json").centralize_from == 15);
  CHECK_THROWS_WITH(MrnnConfig::from_json(R"({"vocab": 20, "centralize_from": 20})", "m/config.json"),
                    Contains("m/config.json") && Contains("centralize_from"));
  CHECK_THROWS_WITH(MrnnConfig::from_json(R"({"vocab": 20, "centralize_from": 2})", "m/config.json"),
                    Contains("centralize_from"));
}

TEST_CASE("nvcs: bad input names the file and the field", "[nvcs]") {
  Vocab vocab = base_vocab();
  Generator g(31);
  Mrnn untied(small_config(false, vocab.size()), g);
  CHECK_THROWS_WITH(add_novel_words(untied, vocab, star_data(), true, g, "runs/base"),
                    Contains("runs/base/config.json") && Contains("'tws'"));
  CHECK(vocab.size() == static_cast<int32_t>(kBaseWords.size()) + 4);  // nothing changed
  Mrnn tied(small_config(true, vocab.size()), g);
  NovelData known = star_data();
  known.concepts.push_back({"circle", {"circle"}});
  CHECK_THROWS_WITH(add_novel_words(tied, vocab, known, true, g, "runs/base"),
                    Contains("novel.json") && Contains("\"circle\"") && Contains("runs/base/vocab.txt"));
  CHECK(tied.config().vocab == vocab.size());

  const fs::path dir = temp_dir("data");
  const std::string img = R"({"filename": "f%d.png", "imgid": %d, "split": "%s", "concept": "%s",
      "sentences": [{"tokens": ["a", "%s"], "raw": "a %s", "imgid": %d, "sentid": %d}]})";
  auto shapes_file = [&](const std::vector<std::pair<std::string, std::string>>& imgs) {
    std::string s = R"({"dataset": "shapes_nvc", "novel_words": ["star", "hexagon"], "concepts": [
        {"word": "star", "plural": "stars"}, {"word": "hexagon", "plural": "hexagons"}], "images": [)";
    for (size_t i = 0; i < imgs.size(); ++i) {
      char buf[512];
      const int id = static_cast<int>(i);
      std::snprintf(buf, sizeof buf, img.c_str(), id, id, imgs[i].first.c_str(), imgs[i].second.c_str(),
                    imgs[i].second.c_str(), imgs[i].second.c_str(), id, id);
      s += (i ? "," : "") + std::string(buf);
    }
    return s + "]}";
  };
  write_text(dir / "ok.json", shapes_file({{"train", "star"}, {"train", "hexagon"}, {"train", "star"},
                                           {"test", "star"}, {"test", "hexagon"}}));
  const NovelData ok = load_novel_data((dir / "ok.json").string());
  REQUIRE(ok.concepts.size() == 2);
  CHECK(ok.concepts[0].words == std::vector<std::string>{"star", "stars"});
  CHECK(ok.concept_of == std::vector<int>{0, 1, 0, 0, 1});
  CHECK(ok.count(0, Split::train) == 2);
  NovelDataOptions one;
  one.examples = 1;
  const NovelData few = load_novel_data((dir / "ok.json").string(), one);
  CHECK(few.images.images.size() == 5);  // kept in place (feature rows line up)
  CHECK(few.count(0, Split::train) == 1);
  CHECK(few.images.images[2].split == Split::restval);
  NovelDataOptions three;
  three.examples = 3;
  CHECK_THROWS_WITH(load_novel_data((dir / "ok.json").string(), three),
                    Contains("--examples 3") && Contains("\"star\"") && Contains("only 2"));
  write_text(dir / "no_train.json", shapes_file({{"train", "star"}, {"test", "star"}, {"test", "hexagon"}}));
  CHECK_THROWS_WITH(load_novel_data((dir / "no_train.json").string()),
                    Contains("no_train.json") && Contains("\"hexagon\" has no training images"));
  // The NVC dataset's own format: image files are <concept>/<image_name>.jpg.
  write_text(dir / "nvc.json", R"({"version": "201509", "concepts": ["t-rex"], "images": [
      {"concept": "t-rex", "image_id": 7, "image_name": "t-rex_00000", "train_val_test_split": "train",
       "sentences": [{"tokens": ["a", "t-rex"], "raw": "A t-rex."}]},
      {"concept": "t-rex", "image_id": 8, "image_name": "t-rex_00001", "train_val_test_split": "test",
       "sentences": [{"tokens": ["the", "t-rex"], "raw": "The t-rex."}]}]})");
  const NovelData nvc = load_novel_data((dir / "nvc.json").string());
  REQUIRE(nvc.concepts.size() == 1);
  CHECK(nvc.concepts[0].words == std::vector<std::string>{"t-rex"});
  CHECK(nvc.images.images[0].filename == "t-rex/t-rex_00000.jpg");
  CHECK(nvc.concept_of_id(8) == 0);
  CHECK(nvc.concept_of_id(9) == -1);
  fs::remove_all(dir);
}

TEST_CASE("nvcs: nearest words by cosine of the embedding rows, best first", "[nvcs]") {
  Vocab vocab = base_vocab();
  Generator g(41);
  Mrnn model(small_config(true, vocab.size()), g);
  Generator gg(42);
  const NovelWords nw = add_novel_words(model, vocab, star_data(), true, gg, "base");
  {
    NoGradGuard ng;
    Tensor e = model.state_dict().at("embed.weight");
    std::vector<float> v = e.contiguous().to_vector<float>();
    const int64_t d = e.size(1);
    const int32_t star = vocab.id("star"), red = vocab.id("red"), blue = vocab.id("blue");
    for (int64_t k = 0; k < d; ++k) {
      v[star * d + k] = k == 0 ? 1.f : 0.f;
      v[red * d + k] = k == 0 ? 2.f : (k == 1 ? 0.1f : 0.f);   // nearly parallel
      v[blue * d + k] = k == 0 ? 1.f : (k == 1 ? 1.f : 0.f);   // 45 degrees
    }
    e.copy_(Tensor::from_vector(v, {e.size(0), d}));
  }
  const auto nn = nearest_words(model, vocab, vocab.id("star"), nw.old_vocab, 2);
  REQUIRE(nn.size() == 2);
  CHECK(nn[0].word == "red");
  CHECK(nn[0].cosine == Approx(2.0 / std::sqrt(4.01)));
  CHECK(nn[1].word == "blue");
  CHECK(nn[1].cosine == Approx(1.0 / std::sqrt(2.0)));
}

TEST_CASE("nvcs: joining the novel split with the first base images keeps captions on their images", "[nvcs]") {
  Vocab vocab = base_vocab();
  const CaptionSplit a = split_of(vocab, {{"a", "red"}, {"red"}, {"blue"}, {"a", "blue"}}, 1);
  const CaptionSplit b = split_of(vocab, {{"circle"}, {"square"}, {"left"}, {"right"}, {"a"}, {"red"}}, 2);
  const CaptionSplit j = join_splits(a, b, 2);
  REQUIRE(j.num_images() == 4);
  CHECK(j.images.size(0) == 4);
  REQUIRE(j.captions.size() == 8);
  CHECK(j.caption_image == std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3});
  CHECK(j.captions[5] == b.captions[1]);
  CHECK(j.references[3] == b.references[1]);
  const std::vector<float> ji = j.images.to_vector<float>(), bi = b.images.to_vector<float>();
  CHECK(std::vector<float>(ji.begin() + 12, ji.end()) == std::vector<float>(bi.begin(), bi.begin() + 12));
  CHECK(join_splits(a, b, 0).num_images() == 2);
  CHECK(join_splits(a, b, 99).num_images() == 5);
}

TEST_CASE("nvcs: encode_split_images_once turns a split's images into the frozen CNN's features, in batches", "[nvcs]") {
  const Vocab vocab = base_vocab();
  MrnnConfig c = small_config(true, vocab.size());
  c.image_input = "cnn";
  c.image_size = 8;
  c.cnn_channels = {3};
  Generator g(5);
  Mrnn model(c, g);
  CaptionSplit s = split_of(vocab, {{"a", "red"}, {"red"}, {"blue"}, {"a", "blue"}, {"circle"}}, 3);
  s.images = Tensor::randn({3, 3, 8, 8}, g);
  Tensor want;
  {
    NoGradGuard ng;
    want = model.cnn_features(s.images);
  }
  encode_split_images_once(model, s, 2);  // batches of 2 and 1
  REQUIRE(s.images.shape() == Shape{3, 6});
  CHECK(testing::max_abs_diff(s.images, want) < 1e-6);
  const Tensor before = s.images;
  encode_split_images_once(model, s);  // already features: left as it is
  CHECK(s.images.data<float>() == before.data<float>());
  Mrnn fm(small_config(true, vocab.size()), g);  // a features model: nothing to encode
  CaptionSplit f = split_of(vocab, {{"a", "red"}}, 4);
  const float* p = f.images.data<float>();
  encode_split_images_once(fm, f);
  CHECK(f.images.data<float>() == p);
}
