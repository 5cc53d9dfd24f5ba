// The m-RNN on a GPU: Module::to moves a model there and back bit for bit (the tied output table
// follows the embedding), the loss, its gradients and the decoding step match the CPU model, and
// the batched beam search (kernels/cuda/beam_search.cu) makes the CPU reference's decisions:
// state after every step on given logits (including a 10k vocabulary with block-wide merges), and
// the captions of greedy and beam decoding of a small random model; caller-given token ids; the
// beam size limit of the GPU. Skipped without a GPU.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "kernels/beam.h"
#include "models/mrnn/decoding.h"
#include "tests/cuda/cuda_support.h"
#include "tests/support/decode_compare.h"
#include "tests/support/near_tie.h"
#include "tests/support/small_mrnn.h"

using namespace mrnn;
using namespace mrnn::testing;

namespace {

#ifdef MRNN_WITH_CUDA
// Bound on how far one score of the GPU search may be from the CPU's: f32 logits reduced in
// another order, accumulated in f64 over up to 9 steps of |log p| <= ~12 (10k words).
constexpr double kStepEps = 1e-4;

// The state comparison, with CHECK; see tests/support/decode_compare.h.
int64_t check_same_state(const BeamSearch& gpu, const BeamSearch& cpu, int64_t vocab) {
  int64_t unchecked = 0;
  const std::string d = compare_beam_state(gpu, cpu, vocab, kStepEps, &unchecked);
  INFO(d);
  CHECK(d.empty());
  return unchecked;
}
#endif

}  // namespace

TEST_CASE("parity: Module::to moves an m-RNN to the GPU and back bit for bit", "[parity][module]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator g(31);
  Mrnn model(small_decoding_config("relu", true, 60), g);
  const auto params = model.named_parameters();
  std::vector<std::vector<float>> before;
  for (auto& [n, t] : params) before.push_back(t.to_vector<float>());
  model.to(kGpu);
  CHECK(model.device() == kGpu);
  for (auto& [n, t] : model.named_parameters()) {
    INFO(n);
    CHECK(t.device() == kGpu);
    CHECK(t.requires_grad());
    CHECK(t.is_leaf());
  }
  // The tied output layer reads the embedding table through its own handle: it moved too, or the
  // logits below would fail with a mixed-device error.
  {
    NoGradGuard ng;
    Tensor feats = Tensor::randn({3, 10}, g).to(kGpu);
    DecoderState st{{Tensor::zeros({3, 16}, DType::F32, kGpu)}};
    Tensor logits = model.step_logits(Tensor::from_vector(std::vector<int64_t>{2, 2, 2}).to(kGpu), st,
                                      model.image_term(feats));
    CHECK(logits.device() == kGpu);
  }
  model.to(Device::cpu());
  const auto after = model.named_parameters();
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].second.impl_ptr() == params[i].second.impl_ptr());
    CHECK(after[i].second.device() == Device::cpu());
    CHECK(after[i].second.to_vector<float>() == before[i]);
  }
#endif
}

// Every recurrent type, LSTM included (LSTM::zero_state makes its state on the weights' device).
TEST_CASE("parity: m-RNN loss, gradients and decoding step on the GPU (relu, gru and lstm, tied and untied)", "[parity][module]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (std::string rnn : {"relu", "gru", "lstm"}) {
    for (bool tws : {true, false}) {
      INFO(rnn << (tws ? " tws" : " untied"));
      Generator g1(41), g2(41);
      Mrnn cpu(small_decoding_config(rnn, tws, 60), g1), gpu(small_decoding_config(rnn, tws, 60), g2);
      gpu.to(kGpu);
      Generator gd(42);
      Tensor feats = Tensor::randn({4, 10}, gd);
      std::vector<int64_t> tok = {2, 5, 9, 3, 0, 2, 7, 7, 8, 3, 2, 11, 3, 0, 0, 2, 20, 21, 22, 3};
      Tensor tokens = Tensor::from_vector(tok, {4, 5});
      Tensor lc = cpu.loss(tokens, cpu.encode_images(feats));
      Tensor lg = gpu.loss(tokens.to(kGpu), gpu.encode_images(feats.to(kGpu)));
      CHECK(lg.device() == kGpu);
      CHECK(compare(lg, lc, tolerance(DType::F32)).empty());
      lc.backward();
      lg.backward();
      const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
      for (size_t i = 0; i < pc.size(); ++i) {
        INFO(pc[i].first);
        REQUIRE(pg[i].second.grad().defined());
        const std::string d = compare(pg[i].second.grad(), pc[i].second.grad(), tolerance(DType::F32));
        INFO(d);
        CHECK(d.empty());
      }
      NoGradGuard ng;
      DecoderState sc = cpu.initial_state(4), sg{{sc.tensors[0].to(kGpu)}};
      Tensor ids = Tensor::from_vector(std::vector<int64_t>{2, 2, 2, 2});
      Tensor zc = cpu.step_logits(ids, sc, cpu.image_term(feats));
      Tensor zg = gpu.step_logits(ids.to(kGpu), sg, gpu.image_term(feats.to(kGpu)));
      CHECK(compare(zg, zc, tolerance(DType::F32)).empty());
      CHECK(compare(sg.tensors[0], sc.tensors[0], tolerance(DType::F32)).empty());
    }
  }
#endif
}

#ifdef MRNN_WITH_CUDA
namespace {
struct StepConfig {
  int64_t images, beam, vocab, max_length;
  double alpha;
  bool trigrams;
  beam::Tokens tokens = {kBosId, kEosId, kEosId};
};

// Runs the search on given random logits on both devices and compares the state after every step.
void check_steps(const StepConfig& c) {
  INFO("images " << c.images << " beam " << c.beam << " vocab " << c.vocab << " alpha " << c.alpha << " trigrams "
                 << c.trigrams);
  BeamSearch cpu = beam_search_init(c.images, c.beam, c.max_length, c.alpha, c.trigrams, c.tokens, Device::cpu());
  BeamSearch gpu = beam_search_init(c.images, c.beam, c.max_length, c.alpha, c.trigrams, c.tokens, kGpu);
  Generator g(100 + static_cast<uint64_t>(c.vocab));
  int64_t unchecked = 0;
  for (int64_t t = 0; t <= c.max_length; ++t) {
    INFO("step " << t);
    Tensor z = mul_scalar(Tensor::randn({c.images * c.beam, c.vocab}, g), 2.0);
    beam_search_step(cpu, z, t);
    beam_search_step(gpu, z.to(kGpu), t);
    unchecked += check_same_state(gpu, cpu, c.vocab);
    adopt_state(gpu, cpu);
  }
  if (unchecked > 0) WARN(unchecked << " beams in near ties: their ids were not compared");
  // From one state, the result's arithmetic is the same on both devices.
  const std::string r = compare(beam_search_result(gpu), beam_search_result(cpu), {1e-6, 1e-6});
  INFO("result: " << r);
  CHECK(r.empty());
}
}  // namespace
#endif

// Small enough for compute-sanitizer (memcheck runs "[parity]", racecheck "[reduce]": the row
// kernel's block reductions and merges). Vocabularies from 7 (fewer words than candidates kept) up.
TEST_CASE("parity: beam step state on the GPU after every step, small vocabularies", "[parity][reduce][beam]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (const StepConfig& c : {StepConfig{3, 2, 7, 5, 0.0, true}, StepConfig{5, 3, 50, 6, 0.0, false},
                              StepConfig{4, 4, 300, 8, 0.8, true}, StepConfig{2, 9, 1000, 6, 0.5, false},
                              // caller's ids: bos 7 inside the candidate range, eos 1, every id from 0
                              StepConfig{3, 3, 40, 6, 0.5, true, {7, 1, 0}}})
    check_steps(c);
#endif
}

TEST_CASE("beam search on a GPU refuses beams above 16 (the kernels' local lists) with a clear error", "[beam]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(beam_search_init(1, 17, 5, 0, false, {kBosId, kEosId, kEosId}, kGpu),
                    Contains("beam size must be in [1, 16] on a GPU"));
  CHECK_NOTHROW(beam_search_init(1, 16, 5, 0, false, {kBosId, kEosId, kEosId}, kGpu));
#endif
}

TEST_CASE("parity: beam step state on the GPU after every step, 10k vocabulary", "[beam]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (const StepConfig& c : {StepConfig{64, 3, 10000, 6, 0.0, true}, StepConfig{16, 1, 10000, 4, 0.0, false}})
    check_steps(c);
#endif
}

TEST_CASE("parity: greedy and beam captions of a model on the GPU equal the CPU decoder's", "[beam]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  // Scores of whole captions: f32 model arithmetic in another order over up to 9 steps.
  constexpr double kCaptionEps = 1e-4;
  int64_t ties = 0;
  for (std::string rnn : {"relu", "lstm"}) {
    Generator g1(51), g2(51);
    Mrnn cpu(small_decoding_config(rnn, true, 60), g1), gpu(small_decoding_config(rnn, true, 60), g2);
    cpu.eval();
    gpu.eval();
    gpu.to(kGpu);
    Generator gd(52);
    Tensor feats = Tensor::randn({7, 10}, gd);
    for (float eos : {-1.0f, 6.0f}) {
      shift_eos(cpu, eos);
      shift_eos(gpu, eos);
      for (int64_t beam : {1, 3, 5}) {
        for (double alpha : {0.0, 0.7}) {
          for (bool tri : {false, true}) {
            DecodeOptions opt;
            opt.max_length = 8;
            opt.beam_size = beam;
            opt.length_penalty = alpha;
            opt.block_trigrams = tri;
            INFO(rnn << " eos " << eos << " beam " << beam << " alpha " << alpha << " trigrams " << tri);
            const auto want = beam_search_captions(cpu, feats, opt);
            const auto got = beam_search_captions(gpu, feats.to(kGpu), opt);
            REQUIRE(got.size() == want.size());
            for (size_t i = 0; i < want.size(); ++i) {
              INFO("image " << i);
              CHECK(got[i].score == Approx(want[i].score).margin(kCaptionEps));
              if (got[i].ids == want[i].ids) {
                CHECK(got[i].log_prob == Approx(want[i].log_prob).margin(kCaptionEps));
                continue;
              }
              // Another caption only if the CPU model scores it as well as its own: a near tie.
              const Tensor f = index_select(feats, Tensor::from_vector(std::vector<int64_t>{int64_t(i)}));
              const double mine = caption_log_prob(cpu, f, want[i].ids, alpha).second;
              const double theirs = caption_log_prob(cpu, f, got[i].ids, alpha).second;
              INFO("the CPU scores its caption " << mine << ", the GPU's " << theirs);
              CHECK(near_tie(mine, theirs, kCaptionEps));
              ++ties;
            }
          }
        }
      }
      DecodeOptions opt;
      opt.max_length = 8;
      const auto want = greedy_captions(cpu, feats, opt);
      const auto got = greedy_captions(gpu, feats, opt);  // CPU features: copied to the model
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        INFO(rnn << " eos " << eos << " greedy, image " << i);
        const Tensor f = index_select(feats, Tensor::from_vector(std::vector<int64_t>{int64_t(i)}));
        // Where the captions part, the CPU model's log-probabilities of the two words (-1: <eos>)
        // after the common prefix must nearly tie.
        auto gap = [&](size_t t, int64_t w, int64_t g) {
          const std::vector<int64_t> prefix(want[i].ids.begin(), want[i].ids.begin() + static_cast<long>(t));
          const std::vector<double> lp = next_log_probs(cpu, f, prefix);
          return std::fabs(lp[static_cast<size_t>(w < 0 ? kEosId : w)] - lp[static_cast<size_t>(g < 0 ? kEosId : g)]);
        };
        bool tied = false;
        const std::string d = compare_sequence(got[i].ids, want[i].ids, gap, kCaptionEps, &tied);
        INFO(d);
        CHECK(d.empty());
        if (tied) {
          ++ties;
        } else {
          CHECK(got[i].log_prob == Approx(want[i].log_prob).margin(kCaptionEps));
        }
      }
    }
  }
  if (ties > 0) WARN(ties << " captions differed in a near tie (the CPU scores both alike)");
#endif
}
