// The decoding comparison helpers of the GPU tests (tests/support/decode_compare.h), checked on the
// CPU so that a GPU run never spends its time on a wrong harness: the state comparison accepts the
// same search and rounding-sized differences and catches a different search; adopt_state copies
// a state; teacher forcing reproduces the decoders' choices, log-probabilities and scores.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "models/mrnn/decoding.h"
#include "tests/support/decode_compare.h"
#include "tests/support/small_mrnn.h"

using namespace mrnn;
using namespace mrnn::testing;

namespace {
BeamSearch fresh_search(int64_t images, int64_t beam, int64_t len) {
  return beam_search_init(images, beam, len, 0.5, true, {kBosId, kEosId, kEosId}, Device::cpu());
}
}  // namespace

TEST_CASE("decode compare: beam states of one search agree, a different search does not", "[near_tie]") {
  const int64_t B = 6, K = 3, V = 200, L = 6;
  BeamSearch a = fresh_search(B, K, L), b = fresh_search(B, K, L), c = fresh_search(B, K, L);
  Generator g(7);
  bool caught = false;
  for (int64_t t = 0; t <= L; ++t) {
    INFO("step " << t);
    const Tensor z = mul_scalar(Tensor::randn({B * K, V}, g), 2.0);
    // b sees the logits off by rounding (relative 1e-7), c other logits.
    const Tensor zb = add(z, mul_scalar(Tensor::randn({B * K, V}, g), 1e-7));
    const Tensor zc = mul_scalar(Tensor::randn({B * K, V}, g), 2.0);
    beam_search_step(a, z, t);
    beam_search_step(b, zb, t);
    beam_search_step(c, zc, t);
    int64_t unchecked = 0;
    CHECK(compare_beam_state(a, a, V, 1e-4, &unchecked) == "");
    const std::string d = compare_beam_state(b, a, V, 1e-4, &unchecked);
    INFO(d);
    CHECK(d.empty());
    caught = caught || !compare_beam_state(c, a, V, 1e-4).empty();
    adopt_state(b, a);
    adopt_state(c, a);
    CHECK(b.logp.to_vector<double>() == a.logp.to_vector<double>());
    CHECK(c.hist_word.to_vector<int64_t>() == a.hist_word.to_vector<int64_t>());
    CHECK(compare_beam_state(c, a, V, 0.0) == "");
  }
  CHECK(caught);
}

TEST_CASE("decode compare: teacher forcing reproduces the decoders' words, log-probabilities and scores",
          "[near_tie]") {
  for (std::string rnn : {"relu", "lstm"}) {
    Generator g1(51);
    Mrnn m(small_decoding_config(rnn, true, 60), g1);
    m.eval();
    shift_eos(m, 2.0f);
    Generator gd(52);
    const Tensor feats = Tensor::randn({4, 10}, gd);
    DecodeOptions opt;
    opt.max_length = 8;
    const auto greedy = greedy_captions(m, feats, opt);
    opt.beam_size = 3;
    opt.length_penalty = 0.7;
    const auto beam = beam_search_captions(m, feats, opt);
    for (size_t i = 0; i < greedy.size(); ++i) {
      INFO(rnn << " image " << i);
      const Tensor f = index_select(feats, Tensor::from_vector(std::vector<int64_t>{int64_t(i)}));
      // Greedy: each word is the argmax (from <eos> up) after the words before it.
      std::vector<int64_t> prefix;
      for (size_t t = 0; t <= greedy[i].ids.size(); ++t) {
        const std::vector<double> lp = next_log_probs(m, f, prefix);
        const auto best = std::max_element(lp.begin() + kEosId, lp.end()) - lp.begin();
        const int64_t want = t < greedy[i].ids.size() ? greedy[i].ids[t] : kEosId;
        if (t == static_cast<size_t>(opt.max_length)) break;  // <eos> is forced there
        CHECK(best == want);
        if (t < greedy[i].ids.size()) prefix.push_back(greedy[i].ids[t]);
      }
      CHECK(caption_log_prob(m, f, greedy[i].ids, 0.0).first == Approx(greedy[i].log_prob).margin(1e-5));
      const auto [lp, score] = caption_log_prob(m, f, beam[i].ids, 0.7);
      CHECK(lp == Approx(beam[i].log_prob).margin(1e-5));
      CHECK(score == Approx(beam[i].score).margin(1e-5));
    }
  }
}
