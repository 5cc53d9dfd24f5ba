// The extensions' models on a GPU, each against the same model on the CPU (the tested reference):
//   - multimodal word embeddings: the loss parts and every parameter's gradient of A, its
//     no-visual and untied ablations, B and C (features input), and A and B through the CNN;
//   - the referring-expression speaker: per-sequence log p(S | R, I) and the gradients of
//     ML + MMI-SoftMax + MMI-MM (tied, untied, and through the CNN);
//   - mQA: the loss and gradients of the full model and of each ablation (same LSTM, averaged
//     question, untied, blind), images through the CNN;
//   - NVCS: training only the new word rows on the GPU leaves every old parameter bit-identical
//     and ends where the same run on the CPU ends;
//   - the refexp and mQA Tasks: fit() on the GPU (a tiny ShapesWorld; refexp with each objective)
//     ends where the CPU run ends, and comprehension / greedy answers agree but for near ties.
// Dropout is 0 so both devices compute the same function. Skipped without a GPU.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/autograd.h"
#include "data/shapes_world.h"
#include "data/vocab.h"
#include "kernels/ops.h"
#include "models/embed/embed_model.h"
#include "models/engine/trainer.h"
#include "models/mqa/mqa.h"
#include "models/mqa/mqa_answers.h"
#include "models/mqa/mqa_data.h"
#include "models/mqa/mqa_task.h"
#include "models/mrnn/caption_trainer.h"
#include "models/nvcs/novel_data.h"
#include "models/nvcs/nvcs.h"
#include "models/refexp/losses.h"
#include "models/refexp/refexp_data.h"
#include "models/refexp/refexp_inference.h"
#include "models/refexp/refexp_task.h"
#include "models/refexp/speaker.h"
#include "tests/cuda/cuda_support.h"
#include "tests/support/nvcs_fixtures.h"
#include "tests/support/small_mqa.h"

using namespace mrnn;
using namespace mrnn::testing;
namespace fs = std::filesystem;

#ifdef MRNN_WITH_CUDA
namespace {

// Convolutions (cuDNN against oneDNN) sum in other orders than the CPU over up to a few hundred
// terms per output, and their gradients pass through max-pool and several layers: a looser bound
// than a single f32 op's.
const Tolerance kCnnTol{1e-3, 1e-4};

void check_same(const Tensor& gpu, const Tensor& cpu, Tolerance tol, const std::string& what) {
  INFO(what);
  REQUIRE(gpu.defined() == cpu.defined());
  if (!cpu.defined()) return;
  CHECK(gpu.device() == kGpu);
  const std::string d = compare(gpu, cpu, tol);
  INFO(d);
  CHECK(d.empty());
}

// Every parameter of the GPU copy has the CPU copy's gradient (both defined or both not).
void check_grads(const Module& gpu, const Module& cpu, Tolerance tol) {
  const auto pg = gpu.named_parameters(), pc = cpu.named_parameters();
  REQUIRE(pg.size() == pc.size());
  for (size_t i = 0; i < pc.size(); ++i) {
    REQUIRE(pg[i].first == pc[i].first);
    check_same(pg[i].second.grad(), pc[i].second.grad(), tol, "gradient of " + pc[i].first);
  }
}

Tensor i64(std::vector<int64_t> v, Shape s) { return Tensor::from_vector(v, s); }

// ---- multimodal word embeddings ----
EmbedConfig embed_config(const std::string& variant, bool visual, bool tws, bool cnn) {
  EmbedConfig c;
  c.variant = variant;
  c.visual = visual;
  c.tws = tws;
  c.vocab = 14;
  c.embed = 6;
  c.rnn = 5;
  c.multimodal = 7;
  c.image_input = cnn ? "cnn" : "features";
  c.image_size = 8;
  c.cnn_channels = {3, 4};
  c.cnn_pool = "max";
  c.image_dim = 4;
  c.dropout = 0;
  return c;
}

// ---- the speaker ----
SpeakerConfig speaker_config(bool tws, bool cnn) {
  SpeakerConfig c;
  c.vocab = 13;
  c.embed = 5;
  c.lstm = 6;
  c.fusing = 7;
  c.feature_dim = 4;
  c.image_size = cnn ? 8 : 0;
  c.cnn_channels = {3};
  c.tws = tws;
  return c;
}

// ---- mQA ----
MqaConfig mqa_config() {
  MqaConfig c = small_mqa_config();
  c.cnn_channels = {3};
  return c;
}

}  // namespace
#endif

TEST_CASE("extensions on the GPU: word-embedding models A, ablations, B and C match the CPU", "[extensions_cuda]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  // <bos> 4 5 6 <eos>, <bos> 7 <eos> <pad> <pad>, <bos> 8 9 10 11 <eos>... (L = 6)
  const Tensor tokens = i64({2, 4, 5, 6, 3, 0, 2, 7, 3, 0, 0, 0, 2, 8, 9, 10, 11, 3}, {3, 6});
  const Tensor rows = i64({0, 1, 0}, {3});
  struct Case {
    std::string variant;
    bool visual, tws, cnn;
  };
  for (const Case& k : {Case{"A", true, true, false}, Case{"A", false, true, false}, Case{"A", true, false, false},
                        Case{"B", true, true, false}, Case{"C", true, true, false}, Case{"A", true, true, true},
                        Case{"B", true, true, true}}) {
    const EmbedConfig c = embed_config(k.variant, k.visual, k.tws, k.cnn);
    INFO(c.name() << (k.cnn ? " through the CNN" : " on features"));
    Generator g1(21), g2(21), gd(22);
    EmbedModel cpu(c, g1), gpu(c, g2);
    gpu.to(kGpu);
    const Tensor images = k.cnn ? Tensor::randn({2, 3, 8, 8}, gd) : Tensor::randn({2, 4}, gd);
    const Tensor fc = c.uses_image() ? cpu.encode_images(images, rows) : Tensor();
    const Tensor fg = c.uses_image() ? gpu.encode_images(images.to(kGpu), rows.to(kGpu)) : Tensor();
    const Tolerance tol = k.cnn ? kCnnTol : tolerance(DType::F32);
    check_same(fg, fc, tol, "image features");
    const EmbedLoss lc = cpu.loss(tokens, fc), lg = gpu.loss(tokens.to(kGpu), fg);
    CHECK(lg.targets == lc.targets);
    check_same(lg.lm, lc.lm, tol, "language-model loss");
    check_same(lg.aux, lc.aux, tol, "aux loss");
    check_same(lg.total, lc.total, tol, "total loss");
    lc.total.backward();
    lg.total.backward();
    check_grads(gpu, cpu, tol);
  }
#endif
}

TEST_CASE("extensions on the GPU: the refexp speaker's log p(S | R, I) and ML + MMI gradients match the CPU",
          "[extensions_cuda]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  for (bool tws : {true, false}) {
    for (bool cnn : {false, true}) {
      INFO((tws ? "tied" : "untied") << (cnn ? ", through the CNN" : ", on features"));
      const SpeakerConfig c = speaker_config(tws, cnn);
      Generator g1(31), g2(31), gd(32);
      Speaker cpu(c, g1), gpu(c, g2);
      gpu.to(kGpu);
      // Three (expression, region) pairs of one image, T = 4: lengths 3, 1 and 2 words.
      SpeakerBatch b;
      b.inputs = i64({kBosId, 4, 5, 6, kBosId, 7, 0, 0, kBosId, 8, 9, 0}, {3, 4});
      b.targets = i64({4, 5, 6, kEosId, 7, kEosId, 0, 0, 8, 9, kEosId, 0}, {3, 4});
      const Tensor region_in = cnn ? Tensor::randn({3, 3, 8, 8}, gd) : Tensor::randn({3, 4}, gd);
      const Tensor image_in = cnn ? Tensor::randn({3, 3, 8, 8}, gd) : Tensor::randn({3, 4}, gd);
      b.location = location_tensor({{0, 0, 10, 10}, {5, 5, 20, 10}, {10, 0, 30, 40}}, 40, 40);
      SpeakerBatch bg;
      bg.inputs = b.inputs.to(kGpu);
      bg.targets = b.targets.to(kGpu);
      bg.location = b.location.to(kGpu);
      b.region = cpu.encode(region_in);
      b.image = cpu.encode(image_in);
      bg.region = gpu.encode(region_in.to(kGpu));
      bg.image = gpu.encode(image_in.to(kGpu));
      const Tolerance tol = cnn ? kCnnTol : tolerance(DType::F32);
      check_same(bg.region, b.region, tol, "region features");
      // The three objectives on the same per-sequence log-probabilities: ML over all pairs,
      // MMI-SoftMax with the pairs as one expression's three candidate regions (the first true),
      // MMI-MM with pair 0 against negative 1 and pair 1 against negative 2.
      auto objective = [](const Tensor& lp) {
        const Tensor truth = Tensor::zeros({1}, DType::I64, lp.device());
        const Tensor sm = mmi_softmax_loss(reshape(lp, {1, 3}), truth);
        const Tensor mm = mmi_mm_loss(narrow(lp, 0, 0, 2), narrow(lp, 0, 1, 2), 0.5, 1.0);
        return add(add(ml_loss(lp), sm), mm);
      };
      const Tensor lpc = cpu.sequence_log_probs(b), lpg = gpu.sequence_log_probs(bg);
      check_same(lpg, lpc, tol, "sequence log-probabilities");
      const Tensor oc = objective(lpc), og = objective(lpg);
      check_same(og, oc, tol, "ML + MMI-SoftMax + MMI-MM");
      oc.backward();
      og.backward();
      check_grads(gpu, cpu, tol);
    }
  }
#endif
}

TEST_CASE("extensions on the GPU: mQA's loss and gradients match the CPU (full model and every ablation)",
          "[extensions_cuda]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  const QuestionBatch q{i64({4, 5, 6, 5, 4, 0}, {2, 3}), Tensor::from_vector(std::vector<float>{1, 1, 1, 1, 1, 0}, {2, 3})};
  const QuestionBatch qg{q.ids.to(kGpu), q.mask.to(kGpu)};
  const Tensor a_in = i64({kBosId, 7, 8, kBosId, 9, 0}, {2, 3});
  const Tensor a_out = i64({7, 8, kEosId, 9, kEosId, 0}, {2, 3});
  for (const std::string ablation : {"full", "same_lstm", "avg_question", "untied", "blind"}) {
    INFO(ablation);
    MqaConfig c = mqa_config();
    c.same_lstm = ablation == "same_lstm";
    c.avg_question = ablation == "avg_question";
    c.tws = ablation != "untied";
    c.blind = ablation == "blind";
    Generator g1(41), g2(41), gd(42);
    Mqa cpu(c, g1), gpu(c, g2);
    gpu.to(kGpu);
    const Tensor images = Tensor::randn({2, 3, 8, 8}, gd);
    const Tensor ic = c.blind ? Tensor() : cpu.encode_images(images);
    const Tensor ig = c.blind ? Tensor() : gpu.encode_images(images.to(kGpu));
    check_same(ig, ic, kCnnTol, "image feature");
    const Tensor rc = cpu.encode_question(q), rg = gpu.encode_question(qg);
    check_same(rg, rc, tolerance(DType::F32), "question representation");
    int64_t nc = 0, ng = 0;
    const Tensor lc = cpu.loss(rc, ic, a_in, a_out, &nc), lg = gpu.loss(rg, ig, a_in.to(kGpu), a_out.to(kGpu), &ng);
    CHECK(ng == nc);
    check_same(lg, lc, kCnnTol, "loss");
    lc.backward();
    lg.backward();
    check_grads(gpu, cpu, kCnnTol);
  }
#endif
}

TEST_CASE("extensions on the GPU: NVCS trains only the new rows there, old parameters bit-identical, as on the CPU",
          "[extensions_cuda]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  // The same BPF-TWS run (fixed bias, centring) on each device; the weights, back on the host.
  auto run = [&](Device d) {
    Vocab vocab = nvcs_base_vocab();
    Generator g(11), gg(12);
    Mrnn model(nvcs_small_config(true, vocab.size(), 0.0), g);
    const CaptionSplit base = nvcs_split(vocab, {{"a", "red", "circle"}, {"a", "blue", "square", "left"}}, 2);
    std::map<std::string, std::vector<float>> before;
    for (auto& [n, t] : model.state_dict()) before[n] = t.contiguous().to_vector<float>();
    const NovelWords nw = add_novel_words(model, vocab, nvcs_star_data(), true, gg, "base");
    model.centralize(output_input_mean(model, base, 0, 2), nw.old_vocab);
    const CaptionSplit novel = nvcs_split(vocab, {{"a", "red", "star"}, {"two", "stars"}, {"a", "hexagon", "left"},
                                                  {"blue", "hexagon"}}, 3);
    TrainOptions t;
    t.out_dir = (fs::temp_directory_path() / ("mrnn_nvcs_cuda_" + std::to_string(::getpid()))).string();
    fs::remove_all(t.out_dir);
    t.max_steps = 6;
    t.batch_size = 2;
    t.warmup = 0;
    t.lr = 0.05;
    t.val_every = 3;
    t.val_images = 1;
    t.progress = false;
    t.device = d;
    t.groups = novel_param_groups(model, nw.old_vocab, true);
    model.train();
    train_captioner(model, vocab, novel, novel, t);
    fs::remove_all(t.out_dir);
    model.to(Device::cpu());
    std::map<std::string, std::vector<float>> after;
    for (auto& [n, p] : model.state_dict()) after[n] = p.contiguous().to_vector<float>();
    return std::make_pair(before, after);
  };
  const auto [before, on_cpu] = run(Device::cpu());
  const auto [before_gpu, on_gpu] = run(kGpu);
  REQUIRE(before_gpu == before);
  for (const auto& [name, old] : before) {  // the base model's rows: bit-identical after GPU training
    INFO(name);
    const std::vector<float>& g = on_gpu.at(name);
    REQUIRE(g.size() >= old.size());
    CHECK(std::vector<float>(g.begin(), g.begin() + static_cast<int64_t>(old.size())) == old);
  }
  REQUIRE(on_gpu.size() == on_cpu.size());
  for (const auto& [name, c] : on_cpu) {  // everything, new rows and the centring buffer included
    INFO(name);
    // Six Adam steps from f32 sums in other orders.
    const std::string d = compare(Tensor::from_vector(on_gpu.at(name)), Tensor::from_vector(c), Tolerance{1e-3, 1e-4});
    INFO(d);
    CHECK(d.empty());
  }
#endif
}

#ifdef MRNN_WITH_CUDA
namespace {

// A tiny ShapesWorld (12 train, 4 val images of 32 px) in a temporary folder, written once and
// removed when the program ends.
struct TinyWorld {
  std::string dir;
  TinyWorld() {
    const fs::path p = fs::temp_directory_path() / ("mrnn_ext_cuda_world_" + std::to_string(::getpid()));
    fs::remove_all(p);
    ShapesWorldOptions o;
    o.seed = 7;
    o.n_train = 12;
    o.n_val = 4;
    o.n_test = 0;
    o.n_novel = 0;
    o.image_size = 32;
    generate_shapes_world(o, p.string());
    dir = p.string();
  }
  ~TinyWorld() { fs::remove_all(dir); }
};
const std::string& tiny_world() {
  static const TinyWorld world;
  return world.dir;
}

TrainerOptions task_options(const std::string& name, Device d) {
  TrainerOptions o;
  o.out_dir = (fs::temp_directory_path() / ("mrnn_ext_cuda_" + name + std::to_string(::getpid()))).string();
  fs::remove_all(o.out_dir);
  o.max_steps = 6;
  o.val_every = 3;
  o.progress = false;
  o.warmup = 0;
  o.lr = 0.01;
  o.device = d;
  return o;
}

// The weights of a module, on the host.
std::vector<std::pair<std::string, Tensor>> host_weights(Module& m) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [n, p] : m.named_parameters()) out.emplace_back(n, p.to(Device::cpu()));
  return out;
}

void check_same_weights(const std::vector<std::pair<std::string, Tensor>>& gpu,
                        const std::vector<std::pair<std::string, Tensor>>& cpu) {
  REQUIRE(gpu.size() == cpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    INFO(cpu[i].first);
    const std::string d = compare(gpu[i].second, cpu[i].second, Tolerance{1e-3, 1e-4});  // 6 Adam steps
    INFO(d);
    CHECK(d.empty());
  }
}

}  // namespace
#endif

TEST_CASE("extensions on the GPU: refexp training (ML, MMI-SoftMax, MMI-MM) and comprehension there match the CPU",
          "[extensions_cuda]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  RefexpDataOptions d;
  d.images_dir = tiny_world() + "/images";
  d.image_size = 16;
  RefexpSplit train = load_refexp_split(tiny_world() + "/google_refexp_train_shapes_coco_aligned.json", d);
  RefexpSplit val = load_refexp_split(tiny_world() + "/google_refexp_val_shapes_coco_aligned.json", d);
  const Vocab vocab = build_refexp_vocab(train, 1);
  encode_refexp_split(train, vocab);
  encode_refexp_split(val, vocab);
  SpeakerConfig c = speaker_config(true, true);
  c.vocab = vocab.size();
  c.image_size = 16;
  for (const std::string mmi : {"none", "softmax", "margin"}) {
    INFO("--mmi " << mmi);
    RefexpTaskOptions to;
    to.mmi = mmi;
    to.batch_size = 8;
    auto run = [&](Device dev, std::vector<std::vector<int64_t>>* ranked) {
      Generator g(51);
      Speaker model(c, g);
      RefexpTask task(model, train, val, to);
      const TrainerOptions o = task_options("refexp_" + mmi, dev);
      fit(task, o);
      fs::remove_all(o.out_dir);
      model.eval();
      const SplitFeatures f = encode_split_features(model, val);
      std::vector<int64_t> rows;
      for (int64_t r = 0; r < val.size(); ++r) rows.push_back(r);
      *ranked = rank_candidates(model, val, f, rows, false);
      return host_weights(model);
    };
    std::vector<std::vector<int64_t>> rc, rg;
    const auto wc = run(Device::cpu(), &rc);
    const auto wg = run(kGpu, &rg);
    check_same_weights(wg, wc);
    // The listener's best region: the same on both devices but for near ties of the f32 scores.
    size_t same = 0;
    for (size_t i = 0; i < rc.size(); ++i) same += !rc[i].empty() && !rg[i].empty() && rc[i][0] == rg[i][0];
    CHECK(same + 1 >= rc.size());
  }
#endif
}

TEST_CASE("extensions on the GPU: mQA training there matches the CPU, and its answers are the CPU's",
          "[extensions_cuda]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  MqaConfig c = mqa_config();
  c.image_size = 16;
  MqaDataOptions d;
  d.images_dir = tiny_world() + "/images";
  d.image_size = c.image_size;
  MqaSplit train = load_mqa_split(tiny_world() + "/v2_OpenEnded_shapes_train_questions.json",
                                  tiny_world() + "/v2_shapes_train_annotations.json", d);
  MqaSplit val = load_mqa_split(tiny_world() + "/v2_OpenEnded_shapes_val_questions.json",
                                tiny_world() + "/v2_shapes_val_annotations.json", d);
  const Vocab vocab = build_mqa_vocab(train, 1);
  encode_split(train, vocab);
  encode_split(val, vocab);
  c.vocab = vocab.size();
  const AnswerWordPicker picker(train.mc_answers);
  MqaTaskOptions to;
  to.batch_size = 16;
  auto run = [&](Device dev, std::vector<std::string>* answers) {
    Generator g(61);
    Mqa model(c, g);
    MqaTask task(model, vocab, TokenizerMode::word, picker, train, val, to);
    const TrainerOptions o = task_options("mqa", dev);
    fit(task, o);
    fs::remove_all(o.out_dir);
    model.eval();
    DecodeOptions greedy;
    greedy.beam_size = 1;
    *answers = answer_texts(model, vocab, TokenizerMode::word, picker, val, {}, greedy).answers;
    return host_weights(model);
  };
  std::vector<std::string> ac, ag;
  const auto wc = run(Device::cpu(), &ac);
  const auto wg = run(kGpu, &ag);
  check_same_weights(wg, wc);
  REQUIRE(ag.size() == ac.size());
  size_t same = 0;
  for (size_t i = 0; i < ac.size(); ++i) same += ag[i] == ac[i];
  CHECK(same + 1 >= ac.size());  // but for a near tie of the f32 logits
#endif
}
