// m-RNN end to end on tiny synthetic data: it learns, decodes what it learned (greedy and beam),
// retrieval ranks the right pairs first, checkpoints round-trip and detect corruption, and a
// resumed training run ends bit-identical to an uninterrupted one.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/autograd.h"
#include "kernels/gemm_backend.h"
#include "kernels/ops.h"
#include "models/engine/checkpoint.h"
#include "models/mrnn/caption_trainer.h"
#include "models/mrnn/decoding.h"
#include "models/engine/optim.h"
#include "models/mrnn/retrieval.h"
#include "support/parameter_size.h"

using namespace mrnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// 4 "images" (one-hot-ish feature vectors), each with 2 captions of distinct words.
CaptionSplit tiny_split() {
  CaptionSplit s;
  Generator g(3);
  s.images = Tensor::randn({4, 8}, g);
  const std::vector<std::vector<int32_t>> caps = {{4, 5, 6}, {4, 5, 6}, {7, 8}, {7, 8},
                                                  {9, 10, 11, 12}, {9, 10, 11, 12}, {13, 5}, {13, 5}};
  for (size_t c = 0; c < caps.size(); ++c) {
    s.captions.push_back(caps[c]);
    s.caption_image.push_back(static_cast<int64_t>(c / 2));
  }
  for (int i = 0; i < 4; ++i) {
    s.file_names.push_back("img" + std::to_string(i));
    s.image_ids.push_back(i);
    std::string ref;
    for (int32_t w : caps[2 * i]) ref += (ref.empty() ? "" : " ") + std::string("w") + std::to_string(w);
    s.references.push_back({ref, ref});
  }
  return s;
}

Vocab tiny_vocab() {
  std::vector<std::vector<std::string>> sents;
  std::vector<std::string> all;
  for (int w = 4; w <= 13; ++w) all.push_back("w" + std::to_string(w));
  sents.push_back(all);
  return Vocab::build(sents, 1);
}

MrnnConfig tiny_config(const std::string& rnn = "relu", bool tws = true) {
  MrnnConfig c;
  c.vocab = 14;
  c.embed1 = 16;
  c.embed2 = 24;
  c.rnn = 24;
  c.multimodal = 32;
  c.rnn_type = rnn;
  c.tws = tws;
  c.image_input = "features";
  c.image_dim = 8;
  c.dropout = 0;
  return c;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mrnn_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void train_steps(Mrnn& model, const CaptionSplit& data, int steps) {
  Adam opt(model.parameters());
  for (int s = 0; s < steps; ++s) {
    std::vector<int64_t> idx{0, 1, 2, 3, 4, 5, 6, 7};
    Tensor loss = model.loss(caption_batch(data, idx), model.encode_images(index_select(data.images, caption_image_rows(data, idx))));
    opt.zero_grad();
    loss.backward();
    opt.step(1e-2);
  }
}

}  // namespace

TEST_CASE("m-RNN learns tiny data and decodes it (relu, lstm, gru, tied and untied)", "[mrnn]") {
  for (std::string rnn : {"relu", "lstm", "gru"}) {
    for (bool tws : {true, false}) {
      INFO(rnn << (tws ? " tws" : " untied"));
      Generator g(11);
      Mrnn model(tiny_config(rnn, tws), g);
      CaptionSplit data = tiny_split();
      train_steps(model, data, 150);
      model.eval();
      NoGradGuard ng;
      CHECK(split_perplexity(model, data) < 1.3);
      Tensor feats = model.encode_images(data.images);
      DecodeOptions opt;
      auto greedy = greedy_captions(model, feats, opt);
      auto beam = beam_search_captions(model, feats, opt);
      for (int i = 0; i < 4; ++i) {
        std::vector<int64_t> want(data.captions[2 * i].begin(), data.captions[2 * i].end());
        CHECK(greedy[i].ids == want);
        CHECK(beam[i].ids == want);
        CHECK(beam[i].log_prob >= greedy[i].log_prob - 1e-4);
      }
    }
  }
}

TEST_CASE("TWS halves the output parameters, parameter names follow PyTorch", "[mrnn]") {
  Generator g(1);
  MrnnConfig c = tiny_config();
  c.vocab = 1000;
  c.multimodal = 512;
  c.embed1 = 128;
  const int64_t tied = Mrnn(c, g).parameter_count();
  c.tws = false;
  const int64_t untied = Mrnn(c, g).parameter_count();
  // untied output: 1000 x 512 + 1000; tied: U_I 128 x 512 + bias 1000.
  CHECK(untied - tied == 1000 * 512 - 128 * 512);
  c.rnn_type = "lstm";
  auto sd = Mrnn(c, g).state_dict();
  CHECK(sd.count("rnn.weight_ih_l0"));
  CHECK(sd.count("rnn.bias_hh_l0"));
  CHECK(sd.count("multimodal.Vw"));
  CHECK(sd.count("embed.weight"));
}

TEST_CASE("retrieval ranks each image's own captions first", "[mrnn][retrieval]") {
  Generator g(5);
  Mrnn model(tiny_config(), g);
  CaptionSplit data = tiny_split();
  train_steps(model, data, 150);
  model.eval();
  NoGradGuard ng;
  std::vector<int64_t> all{0, 1, 2, 3, 4, 5, 6, 7};
  auto scores = sentence_log_probs(model, model.encode_images(data.images), caption_batch(data, all));
  REQUIRE(scores.size() == 4 * 8);
  for (int s = 0; s < 8; ++s) {
    int best = 0;
    for (int i = 1; i < 4; ++i)
      if (scores[i * 8 + s] > scores[best * 8 + s]) best = i;
    CHECK(best == s / 2);
  }
  // The per-sentence score equals the sum of the step-by-step log-probabilities.
  DecoderState st = model.initial_state(1);
  Tensor img = model.image_term(narrow(model.encode_images(data.images), 0, 2, 1));
  double total = 0;
  std::vector<int64_t> seq{kBosId, 9, 10, 11, 12, kEosId};
  for (size_t t = 0; t + 1 < seq.size(); ++t) {
    Tensor lp = model.step_log_probs(Tensor::from_vector(std::vector<int64_t>{seq[t]}), st, img);
    total += lp.to_vector<float>()[seq[t + 1]];
  }
  CHECK(scores[2 * 8 + 4] == Approx(total).epsilon(1e-4));
  auto prior = sentence_log_prior(scores, 8, {0, 1, 2, 3});
  auto norm = normalised_scores(scores, prior);
  CHECK(norm[0] == Approx(scores[0] - prior[0]));
}

TEST_CASE("retrieval scores in sentence blocks equal a full log-softmax of the logits", "[mrnn][retrieval]") {
  // Independent reference: logits() for every (image, sentence) pair, an f64 log-softmax per row,
  // summed over the non-padding targets. Checked for tied, untied and NVCS-centralized output
  // layers, with blocks of one sentence, of a few sentences, and the default (all at once).
  CaptionSplit data = tiny_split();
  data.captions.push_back({4, 9, 13, 7, 5});  // a longer sentence, so the batch has padding
  data.caption_image.push_back(1);
  std::vector<int64_t> all(data.captions.size());
  for (size_t k = 0; k < all.size(); ++k) all[k] = static_cast<int64_t>(k);
  const Tensor tokens = caption_batch(data, all);
  const int64_t S = tokens.size(0), T = tokens.size(1) - 1;
  for (int variant = 0; variant < 3; ++variant) {
    Generator g(11 + variant);
    Mrnn model(tiny_config("relu", variant != 1), g);
    if (variant == 2) model.centralize(Tensor::randn({model.output_input_dim()}, g), 9);
    model.eval();
    NoGradGuard ng;
    const Tensor feats = model.encode_images(data.images);
    const int64_t N = feats.size(0), V = model.config().vocab;
    const std::vector<int64_t> tok = tokens.to_vector<int64_t>();
    std::vector<double> want(static_cast<size_t>(N * S));
    for (int64_t i = 0; i < N; ++i) {
      const Tensor rep = index_select(feats, Tensor::from_vector(std::vector<int64_t>(static_cast<size_t>(S), i)));
      const std::vector<float> z = model.logits(narrow(tokens, 1, 0, T).contiguous(), rep).contiguous().to_vector<float>();
      for (int64_t s = 0; s < S; ++s) {
        double total = 0;
        for (int64_t t = 0; t < T; ++t) {
          const int64_t y = tok[s * (T + 1) + t + 1];
          if (y == kPadId) continue;
          const float* row = &z[(s * T + t) * V];
          double mx = row[0], acc = 0;
          for (int64_t v = 1; v < V; ++v) mx = std::max(mx, static_cast<double>(row[v]));
          for (int64_t v = 0; v < V; ++v) acc += std::exp(row[v] - mx);
          total += row[y] - mx - std::log(acc);
        }
        want[i * S + s] = total;
      }
    }
    for (int64_t block_rows : {int64_t{1}, 3 * T, int64_t{0}}) {
      CAPTURE(variant, block_rows);
      const std::vector<double> got = sentence_log_probs(model, feats, tokens, block_rows);
      REQUIRE(got.size() == want.size());
      for (size_t k = 0; k < got.size(); ++k) CHECK(got[k] == Approx(want[k]).epsilon(1e-5).margin(1e-4));
    }
  }
  Generator g(1);
  Mrnn model(tiny_config(), g);
  CHECK_THROWS_WITH(sentence_log_probs(model, model.encode_images(data.images), tokens, -1), Contains("block_rows"));
}

TEST_CASE("bf16 inference precision: the same captions, close logits, and never in training", "[mrnn][packed_linear]") {
  for (bool tws : {true, false}) {
    INFO((tws ? "tws" : "untied"));
    Generator g(21);
    Mrnn model(tiny_config("relu", tws), g);
    CaptionSplit data = tiny_split();
    train_steps(model, data, 150);
    model.eval();
    std::string notice;
    const MatmulPrecision got = model.set_inference_precision(MatmulPrecision::BF16, &notice);
    std::string why;
    if (!packed_linear_supported(MatmulPrecision::BF16, &why)) {
      WARN("bf16 not available here, only the fp32 fallback is checked: " << why);
      CHECK(got == MatmulPrecision::F32);
      CHECK_THAT(notice, Contains("decoding in fp32"));
      continue;
    }
    REQUIRE(got == MatmulPrecision::BF16);
    CHECK(notice.empty());
    CHECK(model.inference_precision() == MatmulPrecision::BF16);
    std::vector<float> bf, fp, in_training, with_grad;
    std::vector<Caption> greedy_bf, greedy_fp;
    const Tensor ids = narrow(caption_batch(data, {0, 2, 4, 6}), 1, 0, 3).contiguous();
    Tensor feats;
    {
      NoGradGuard ng;
      feats = model.encode_images(data.images);
      bf = model.logits(ids, feats).to_vector<float>();
      greedy_bf = greedy_captions(model, feats, DecodeOptions{});
      model.train();  // training mode never reads the pack (tiny_config has no dropout)
      in_training = model.logits(ids, feats).to_vector<float>();
      model.eval();
    }
    with_grad = model.logits(ids, feats).to_vector<float>();  // nor does grad mode
    model.set_inference_precision(MatmulPrecision::F32);
    CHECK(model.inference_precision() == MatmulPrecision::F32);
    {
      NoGradGuard ng;
      fp = model.logits(ids, feats).to_vector<float>();
      greedy_fp = greedy_captions(model, feats, DecodeOptions{});
    }
    double worst = 0, differs = 0;
    for (size_t k = 0; k < fp.size(); ++k) {
      worst = std::max(worst, static_cast<double>(std::abs(bf[k] - fp[k])));
      differs += bf[k] != fp[k];
    }
    CHECK(differs > 0);  // the bf16 path really ran
    CHECK(worst < 0.1);  // and stays close (these logits are O(10))
    CHECK(with_grad == in_training);  // neither reads a pack: the same unpacked product
    double worst_f32 = 0;             // the f32 pack (oneDNN builds) agrees to float rounding
    for (size_t k = 0; k < fp.size(); ++k)
      worst_f32 = std::max(worst_f32, static_cast<double>(std::abs(fp[k] - in_training[k])));
    CHECK(worst_f32 < 1e-4);
    for (int i = 0; i < 4; ++i) CHECK(greedy_bf[i].ids == greedy_fp[i].ids);
  }
}

TEST_CASE("fp32 inference precision packs the output layer once where oneDNN is built, with the same captions",
          "[mrnn][packed_linear]") {
  Generator g(23);
  Mrnn model(tiny_config("relu", false), g);
  CaptionSplit data = tiny_split();
  train_steps(model, data, 150);
  model.eval();
  NoGradGuard ng;
  const Tensor feats = model.encode_images(data.images);
  const Tensor ids = narrow(caption_batch(data, {0, 2, 4, 6}), 1, 0, 3).contiguous();
  const std::vector<float> plain = model.logits(ids, feats).to_vector<float>();  // never packed
  const std::vector<Caption> greedy_plain = greedy_captions(model, feats, DecodeOptions{});
  CHECK(model.set_inference_precision(MatmulPrecision::F32) == MatmulPrecision::F32);
  CHECK(model.inference_precision() == MatmulPrecision::F32);
  const std::vector<float> packed = model.logits(ids, feats).to_vector<float>();
  double worst = 0, differs = 0;
  for (size_t k = 0; k < plain.size(); ++k) {
    worst = std::max(worst, static_cast<double>(std::abs(packed[k] - plain[k])));
    differs += packed[k] != plain[k];
  }
  CHECK(worst < 1e-4);
  if (sgemm_onednn_available()) CHECK(differs > 0);  // the pack really ran (another summation order)
  else CHECK(differs == 0);                          // no pack: the plain path
  const std::vector<Caption> greedy_packed = greedy_captions(model, feats, DecodeOptions{});
  for (size_t i = 0; i < greedy_plain.size(); ++i) CHECK(greedy_packed[i].ids == greedy_plain[i].ids);
}

TEST_CASE("checkpoints round-trip and corruption is detected", "[checkpoint]") {
  fs::path dir = temp_dir("ckpt");
  Generator g(2);
  Mrnn a(tiny_config(), g), b(tiny_config(), g);
  save_module((dir / "m.safetensors").string(), a);
  load_module((dir / "m.safetensors").string(), b);
  for (auto& [name, t] : a.state_dict()) CHECK(t.to_vector<float>() == b.state_dict().at(name).to_vector<float>());
  // Flip one byte near the end (inside the tensor data).
  std::string bytes;
  {
    std::ifstream f(dir / "m.safetensors", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  bytes[bytes.size() - 5] ^= 0x10;
  {
    std::ofstream f(dir / "bad.safetensors", std::ios::binary);
    f << bytes;
  }
  CHECK_THROWS_WITH(load_module((dir / "bad.safetensors").string(), b), Contains("checksum mismatch"));
  {
    std::ofstream f(dir / "short.safetensors", std::ios::binary);
    f << bytes.substr(0, bytes.size() / 2);
  }
  CHECK_THROWS_WITH(load_module((dir / "short.safetensors").string(), b), Contains("short.safetensors"));
  Mrnn other(tiny_config("gru"), g);
  CHECK_THROWS_WITH(load_module((dir / "m.safetensors").string(), other), Contains("m.safetensors"));
  fs::remove_all(dir);
}

TEST_CASE("a resumed training run ends bit-identical to an uninterrupted one", "[train][resume]") {
  CaptionSplit data = tiny_split();
  Vocab vocab = tiny_vocab();
  MrnnConfig c = tiny_config();
  c.dropout = 0.3;  // dropout's RNG stream must resume exactly too
  TrainOptions o;
  o.batch_size = 3;  // batches straddle epochs
  o.epochs = 4;
  o.val_every = 4;
  o.val_images = 2;
  o.progress = false;
  o.seed = 7;

  fs::path d1 = temp_dir("resume1"), d2 = temp_dir("resume2");
  Generator g1(7);
  Mrnn straight(c, g1);
  o.out_dir = d1.string();
  TrainResult r1 = train_captioner(straight, vocab, data, data, o);

  Generator g2(7);
  Mrnn first(c, g2);
  o.out_dir = d2.string();
  o.stop_after_steps = 5;
  train_captioner(first, vocab, data, data, o);  // "killed" after 5 steps
  Generator g3(999);                             // a fresh process: different init, overwritten by resume
  Mrnn resumed(c, g3);
  o.stop_after_steps = 0;
  o.resume = true;
  TrainResult r2 = train_captioner(resumed, vocab, data, data, o);
  CHECK(r1.steps == r2.steps);
  for (auto& [name, t] : straight.state_dict()) {
    INFO(name);
    CHECK(t.to_vector<float>() == resumed.state_dict().at(name).to_vector<float>());
  }
  CHECK(fs::exists(d2 / "model.safetensors"));
  CHECK(fs::exists(d2 / "log.jsonl"));
  fs::remove_all(d1);
  fs::remove_all(d2);
}

TEST_CASE("optimizers match hand-computed updates", "[optim]") {
  Tensor w = Tensor::from_vector(std::vector<float>{1, -2}).requires_grad_();
  sum(mul(w, Tensor::from_vector(std::vector<float>{3, 4}))).backward();  // grad = [3, 4]
  Adam adam({w});
  adam.step(0.1);
  // First Adam step moves each weight by lr * sign(grad) (bias-corrected m/sqrt(v) = 1).
  auto v = w.to_vector<float>();
  CHECK(v[0] == Approx(0.9).epsilon(1e-5));
  CHECK(v[1] == Approx(-2.1).epsilon(1e-5));
  Tensor u = Tensor::from_vector(std::vector<float>{1}).requires_grad_();
  SGD sgd({u}, 0.5);
  sum(mul_scalar(u, 2)).backward();
  sgd.step(0.1);  // v = 2, u = 1 - 0.2
  sgd.step(0.1);  // v = 0.5*2 + 2 = 3, u = 0.8 - 0.3
  CHECK(u.to_vector<float>()[0] == Approx(0.5f));
  Tensor p = Tensor::from_vector(std::vector<float>{3, 4}).requires_grad_();
  sum(mul(p, p)).backward();  // grad = [6, 8], norm 10
  CHECK(clip_grad_norm({p}, 5) == Approx(10));
  CHECK(p.grad().to_vector<float>()[1] == Approx(4).epsilon(1e-5));
  LrSchedule s;
  s.kind = LrSchedule::Kind::Cosine;
  s.base_lr = 1;
  s.total_steps = 100;
  s.warmup_steps = 10;
  CHECK(s.at(0) == Approx(0.1));
  CHECK(s.at(10) == Approx(1));
  CHECK(s.at(100) == Approx(0).margin(1e-12));
}

TEST_CASE("config.json parsing names the file and the field", "[mrnn]") {
  CHECK_THROWS_WITH(MrnnConfig::from_json("{\"vocab\": 10, \"rnn_type\": \"xyz\"}", "m/config.json"),
                    Contains("m/config.json: field 'rnn_type' is 'xyz'"));
  CHECK_THROWS_WITH(MrnnConfig::from_json("{}", "c.json"), Contains("c.json: field 'vocab' is missing"));
  CHECK_THROWS_WITH(MrnnConfig::from_json("[1,", "c.json"), Contains("c.json: not valid JSON"));
  MrnnConfig c = tiny_config("gru", false);
  MrnnConfig back = MrnnConfig::from_json(c.to_json(), "x");
  CHECK(back.rnn_type == "gru");
  CHECK(back.tws == false);
  CHECK(back.image_dim == 8);
}

TEST_CASE("config.json: cnn_pool is flatten when absent, written only when max, and checked", "[mrnn]") {
  MrnnConfig c = tiny_config("relu", true);
  CHECK(c.cnn_pool == "flatten");
  CHECK(c.to_json().find("cnn_pool") == std::string::npos);  // folders from before the field read as before
  CHECK(MrnnConfig::from_json("{\"vocab\": 10}", "c.json").cnn_pool == "flatten");
  c.cnn_pool = "max";
  CHECK(MrnnConfig::from_json(c.to_json(), "c.json").cnn_pool == "max");
  CHECK_THROWS_WITH(MrnnConfig::from_json("{\"vocab\": 10, \"cnn_pool\": \"mean\"}", "m/config.json"),
                    Contains("m/config.json: field 'cnn_pool' is 'mean', expected one of flatten, max"));
  // The model's CNN follows it: the max head's fc reads one value per channel of the last block.
  Generator gen(1);
  c.image_input = "cnn";
  c.image_size = 16;
  c.cnn_channels = {4, 6};
  Mrnn model(c, gen);
  CHECK(mrnn::testing::parameter_size(model, "cnn.fc.weight", 1) == c.cnn_channels.back());
}

TEST_CASE("cnn_features once, then encode_images on them, equals encode_images on the images, and the CNN gets "
          "no gradient", "[mrnn]") {
  MrnnConfig c = tiny_config();
  c.image_input = "cnn";
  c.image_size = 16;
  c.cnn_channels = {4, 6};
  c.image_dim = 5;
  c.dropout = 0;
  Generator gen(4);
  Mrnn model(c, gen);
  Tensor images = Tensor::randn({3, 3, 16, 16}, gen);
  const Tensor rows = Tensor::from_vector(std::vector<int64_t>{2, 0, 2, 1});
  Tensor feats;
  {
    NoGradGuard ng;
    feats = model.cnn_features(images);
  }
  CHECK(feats.shape() == Shape{3, 5});
  CHECK(model.encode_images(feats).to_vector<float>() == model.encode_images(images).to_vector<float>());
  CHECK(model.encode_images(feats, rows).to_vector<float>() == model.encode_images(images, rows).to_vector<float>());
  // Through features, a loss reaches the layers above the CNN and not the CNN.
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{2, 4, 5, 3, 2, 6, 3, 0, 2, 7, 8, 3, 2, 4, 3, 0}, {4, 4});
  model.loss(ids, model.encode_images(feats, rows)).backward();
  int with_grad = 0;
  for (auto& [name, t] : model.named_parameters()) {
    INFO(name);
    if (name.rfind("cnn.", 0) == 0) CHECK_FALSE(t.grad().defined());
    else with_grad += t.grad().defined();
  }
  CHECK(with_grad > 0);
  CHECK_THROWS_WITH(model.encode_images(Tensor::zeros({3, 4})), Contains("or this CNN's features [B, 5], got"));
  MrnnConfig f = tiny_config();  // a features model has no CNN to run
  Mrnn fm(f, gen);
  CHECK_THROWS_WITH(fm.cnn_features(images), Contains("cnn_features needs a model with a CNN"));
}
