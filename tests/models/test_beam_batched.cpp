// The batched beam search of kernels/beam.h on the CPU (the one CPU beam search, and the reference
// for the CUDA kernels): hand-computed steps over given logits (back-pointers, finished
// hypotheses, the length penalty, early stop, trigram blocking, caller-given token ids), and on
// small random m-RNNs: each image's caption is the one it gets when decoded alone, for beams 1..5
// and 17 (above the GPU's limit), with and without length penalty and trigram blocking, ReLU and
// LSTM, tied and untied outputs; greedy decoding (a host loop) equals the search with beam 1.
#include <algorithm>
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/beam.h"
#include "kernels/ops.h"
#include "models/mrnn/decoding.h"
#include "tests/support/small_mrnn.h"

using namespace mrnn;
using namespace mrnn::testing;

namespace {

constexpr double kLow = -30;  // a logit that is never chosen
const beam::Tokens kIds{kBosId, kEosId, kEosId};  // data/vocab.h's

// logits [R, V] from per-row probabilities of words 3.. (ids 0..2 get kLow).
Tensor rows_of(const std::vector<std::vector<double>>& probs) {
  const int64_t V = 3 + static_cast<int64_t>(probs[0].size());
  std::vector<float> v;
  for (auto& row : probs) {
    for (int j = 0; j < 3; ++j) v.push_back(static_cast<float>(kLow));
    for (double p : row) v.push_back(static_cast<float>(std::log(p)));
  }
  return Tensor::from_vector(v, {static_cast<int64_t>(probs.size()), V});
}

// log p of word `word` in the row of probabilities `probs` as the search computes it (the logits
// are log p for words >= 3 and kLow for 0..2, so the row's log-sum-exp is not exactly 0).
double logp_of(const std::vector<double>& probs, size_t word) {
  double s = 3 * std::exp(static_cast<double>(static_cast<float>(kLow)));
  for (double p : probs) s += std::exp(static_cast<double>(static_cast<float>(std::log(p))));
  return static_cast<double>(static_cast<float>(std::log(probs[word - 3]))) - std::log(s);
}

struct Result {
  std::vector<int64_t> ids;
  double log_prob, score;
};

std::vector<Result> results(const BeamSearch& s) {
  const std::vector<double> r = beam_search_result(s).to_vector<double>();
  const int64_t W = 3 + s.max_length;
  std::vector<Result> out;
  for (int64_t b = 0; b < s.images; ++b) {
    Result x;
    for (int64_t i = 0; i < static_cast<int64_t>(r[b * W]); ++i) x.ids.push_back(static_cast<int64_t>(r[b * W + 3 + i]));
    x.log_prob = r[b * W + 1];
    x.score = r[b * W + 2];
    out.push_back(x);
  }
  return out;
}

// Two beams, words 3 (<eos>), 4, 5. Step 0: p = (.1, .6, .3) -> beams [4], [5]. Step 1: row [4]
// has (.5, .3, .2), row [5] (.9, .05, .05): the best four are <eos> after [4] (.30), <eos> after
// [5] (.27), [4 4] (.18), [4 5] (.12). Step 2 (the last): <eos> only, (.99, ...) and (.9, ...).
const std::vector<std::vector<double>> kStep0 = {{.1, .6, .3}, {.1, .6, .3}};
const std::vector<std::vector<double>> kStep1 = {{.5, .3, .2}, {.9, .05, .05}};
const std::vector<std::vector<double>> kStep2 = {{.99, .005, .005}, {.9, .05, .05}};

}  // namespace

TEST_CASE("beam step: back-pointers, finished hypotheses and early stop by hand (no length penalty)", "[beam]") {
  BeamSearch s = beam_search_init(1, 2, 2, 0.0, false, kIds, Device::cpu());
  beam_search_step(s, rows_of(kStep0), 0);
  CHECK(s.ids.to_vector<int64_t>() == std::vector<int64_t>{4, 5});
  CHECK(s.rows.to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  const std::vector<double> lp0 = s.logp.to_vector<double>();
  CHECK(lp0[0] == Approx(logp_of(kStep0[0], 4)).margin(1e-6));
  CHECK(lp0[1] == Approx(logp_of(kStep0[0], 5)).margin(1e-6));
  beam_search_step(s, rows_of(kStep1), 1);
  // Both <eos> finished; [4] (.30) beats the best live [4 4] (.18): the image is done.
  CHECK(s.img_i.to_vector<int64_t>() == std::vector<int64_t>{2, 1, 0, 1});
  CHECK(s.rows.to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  CHECK(s.ids.to_vector<int64_t>() == std::vector<int64_t>{4, 5});
  CHECK(s.ctl.to_vector<int64_t>()[0] == 2);
  beam_search_step(s, rows_of(kStep2), 2);  // nothing live: stops, changes nothing
  CHECK(s.ctl.to_vector<int64_t>() == std::vector<int64_t>{2, 1, 0});
  const Result r = results(s)[0];
  CHECK(r.ids == std::vector<int64_t>{4});
  const double want = logp_of(kStep0[0], 4) + logp_of(kStep1[0], 3);
  CHECK(r.log_prob == Approx(want).margin(1e-6));
  CHECK(r.score == r.log_prob);
}

TEST_CASE("beam step: the length penalty keeps a longer hypothesis alive and lets it win", "[beam]") {
  const double alpha = 1.0;
  BeamSearch s = beam_search_init(1, 2, 2, alpha, false, kIds, Device::cpu());
  beam_search_step(s, rows_of(kStep0), 0);
  beam_search_step(s, rows_of(kStep1), 1);
  // log .30 / 2 = -0.60 < log .18 / 3 = -0.57: not done; the live beams are [4 4] and [4 5].
  CHECK(s.img_i.to_vector<int64_t>()[3] == 0);
  CHECK(s.ids.to_vector<int64_t>() == std::vector<int64_t>{4, 5});
  CHECK(s.rows.to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  beam_search_step(s, rows_of(kStep2), 2);
  // [4 4 <eos>]: log(.6 * .3 * .99) / 3 = -0.575 beats [4 <eos>] (-0.602) and [4 5 <eos>].
  const Result r = results(s)[0];
  CHECK(r.ids == std::vector<int64_t>{4, 4});
  const double lp = logp_of(kStep0[0], 4) + logp_of(kStep1[0], 4) + logp_of(kStep2[0], 3);
  CHECK(r.log_prob == Approx(lp).margin(1e-6));
  CHECK(r.score == Approx(lp / 3).margin(1e-6));
  CHECK(s.img_i.to_vector<int64_t>()[0] == 4);  // four hypotheses finished in all
}

TEST_CASE("beam step: trigram blocking", "[beam]") {
  // One beam, words <eos> (.1), 4 (.6), 5 (.3) at every step, 5 words at most.
  for (bool block : {false, true}) {
    BeamSearch s = beam_search_init(2, 1, 5, 0.0, block, kIds, Device::cpu());
    for (int64_t t = 0; t <= 5; ++t) beam_search_step(s, rows_of({{.1, .6, .3}, {.1, .6, .3}}), t);
    for (const Result& r : results(s)) {
      // With blocking, [4 4 4] may not continue with 4: then 5, and (4, 5) -> 4 is new.
      CHECK(r.ids == (block ? std::vector<int64_t>{4, 4, 4, 5, 4} : std::vector<int64_t>{4, 4, 4, 4, 4}));
      const double lp4 = logp_of({.1, .6, .3}, 4), lp5 = logp_of({.1, .6, .3}, 5), eos = logp_of({.1, .6, .3}, 3);
      CHECK(r.log_prob == Approx(block ? 4 * lp4 + lp5 + eos : 5 * lp4 + eos).margin(1e-5));
    }
  }
}

TEST_CASE("beam step: bad arguments are refused with the expected shape", "[beam]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(beam_search_init(1, 0, 5, 0, false, kIds, Device::cpu()), Contains("beam size must be in [1, "));
  CHECK_NOTHROW(beam_search_init(1, 17, 5, 0, false, kIds, Device::cpu()));  // the 16 limit is the GPU's
  CHECK_THROWS_WITH(beam_search_init(1, 2, 5, 0, false, {2, 3, 4}, Device::cpu()),
                    Contains("0 <= first_word <= eos"));
  CHECK_THROWS_WITH(beam_search_init(1, 2, 5, 0, false, {3, 3, 3}, Device::cpu()), Contains("eos != bos"));
  BeamSearch s = beam_search_init(2, 3, 4, 0, false, kIds, Device::cpu());
  CHECK_THROWS_WITH(beam_search_step(s, Tensor::zeros({5, 10}), 0), Contains("expected logits [6, V > 3]"));
  CHECK_THROWS_WITH(beam_search_step(s, Tensor::zeros({6, 10}), 5), Contains("step 5 is outside [0, 4]"));
  BeamSearch w = beam_search_init(1, 1, 4, 0, false, {9, 1, 0}, Device::cpu());
  CHECK_THROWS_WITH(beam_search_step(w, Tensor::zeros({1, 9}), 0), Contains("V > 9"));
}

TEST_CASE("beam step: caller-given ids (bos among the candidates, eos 0)", "[beam]") {
  // Words 0 (eos), 1, 2 (bos, never chosen), 3; one beam of one image, 3 words at most.
  // Step 0: bos has the best logit but is no candidate: the best is 3. Then eos wins.
  BeamSearch s = beam_search_init(1, 1, 3, 0.0, false, {2, 0, 0}, Device::cpu());
  CHECK(s.ids.to_vector<int64_t>() == std::vector<int64_t>{2});
  beam_search_step(s, Tensor::from_vector(std::vector<float>{-5, -1, 4, 1}, {1, 4}), 0);
  CHECK(s.ids.to_vector<int64_t>() == std::vector<int64_t>{3});
  beam_search_step(s, Tensor::from_vector(std::vector<float>{3, -1, 9, 1}, {1, 4}), 1);
  CHECK(beam_search_stopped(s) == false);
  beam_search_step(s, Tensor::from_vector(std::vector<float>{0, 0, 0, 0}, {1, 4}), 2);
  CHECK(beam_search_stopped(s));
  const Result r = results(s)[0];
  CHECK(r.ids == std::vector<int64_t>{3});
  const double lse0 = std::log(std::exp(-5.0) + std::exp(-1.0) + std::exp(4.0) + std::exp(1.0));
  const double lse1 = std::log(std::exp(3.0) + std::exp(-1.0) + std::exp(9.0) + std::exp(1.0));
  CHECK(r.log_prob == Approx((1 - lse0) + (3 - lse1)).margin(1e-6));
}

TEST_CASE("beam search decodes each image as it does alone (rows of images never mix)", "[beam][mrnn]") {
  int cases = 0, ended_early = 0;
  for (std::string rnn : {"relu", "lstm"}) {
    for (bool tws : {true, false}) {
      Generator g(21);
      Mrnn model(small_decoding_config(rnn, tws, 40), g);
      model.eval();
      Tensor feats = Tensor::randn({4, 10}, g);
      for (float eos : {-2.0f, 5.0f, 8.0f}) {
        shift_eos(model, eos);
        for (int64_t beam : {1, 2, 3, 5, 17}) {
          for (double alpha : {0.0, 0.7}) {
            for (bool tri : {false, true}) {
              DecodeOptions opt;
              opt.max_length = 7;
              opt.beam_size = beam;
              opt.length_penalty = alpha;
              opt.block_trigrams = tri;
              INFO(rnn << (tws ? " tws" : " untied") << " eos " << eos << " beam " << beam << " alpha " << alpha
                       << " trigrams " << tri);
              const auto all = beam_search_captions(model, feats, opt);
              REQUIRE(all.size() == 4);
              for (int64_t i = 0; i < 4; ++i) {
                const auto alone = beam_search_captions_batched(model, narrow(feats, 0, i, 1), opt);
                REQUIRE(alone.size() == 1);
                CHECK(all[i].ids == alone[0].ids);
                // The words must match exactly; the f32 scores to rounding only: OpenBLAS's sgemm
                // kernel (chosen per CPU) may block a batch of rows differently from one row.
                CHECK(std::fabs(all[i].log_prob - alone[0].log_prob) <= 1e-5 * std::max(1.0, std::fabs(alone[0].log_prob)));
                CHECK(std::fabs(all[i].score - alone[0].score) <= 1e-5 * std::max(1.0, std::fabs(alone[0].score)));
                CHECK(all[i].score >= all[i].log_prob - 1e-12);  // lp / (n + 1)^alpha with lp < 0
                ended_early += all[i].ids.size() < 7;
              }
              ++cases;
            }
          }
        }
      }
    }
  }
  CHECK(cases == 2 * 2 * 3 * 5 * 2 * 2);
  CHECK(ended_early > 50);  // the comparison covers finished hypotheses, not only full-length ones
}

TEST_CASE("greedy decoding equals the batched search with beam 1", "[beam][mrnn]") {
  Generator g(22);
  Mrnn model(small_decoding_config("relu", true, 40), g);
  model.eval();
  shift_eos(model, 8.0f);
  Tensor feats = Tensor::randn({8, 10}, g);
  DecodeOptions opt;
  opt.max_length = 9;
  opt.beam_size = 1;
  const auto want = greedy_captions(model, feats, opt);
  const auto got = beam_search_captions_batched(model, feats, opt);
  size_t short_ones = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    short_ones += want[i].ids.size() < 9;
    CHECK(got[i].ids == want[i].ids);
    CHECK(got[i].log_prob == Approx(want[i].log_prob).margin(1e-9));
    CHECK(got[i].score == Approx(want[i].score).margin(1e-9));
  }
  CHECK(short_ones > 0);
}
