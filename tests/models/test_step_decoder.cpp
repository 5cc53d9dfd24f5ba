// The generic decoders (models/engine/step_decoder.h) on a model that is not an m-RNN: a fixed
// table of next-token logits per (sequence, previous token), with a two-tensor state per row and
// non-default token ids (bos 5, eos 0, every other id a candidate) and max_length. Checks: the
// beam search finds the best sequence an exhaustive search finds (with and without length
// penalty, beams above the GPU's 16), greedy is the argmax path, beam 1 equals greedy, the
// search's live hypotheses stay sorted by score, reorder moves every state tensor, sampling
// follows the distribution and is deterministic under a Generator.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "core/autograd.h"
#include "kernels/beam.h"
#include "models/engine/step_decoder.h"

using namespace mrnn;

namespace {

constexpr int64_t kV = 6, kToyBos = 5, kToyEos = 0;
using Table = std::vector<std::vector<double>>;  // [prev token][next token] logits

// State per row: tensors[0] f64 [N, 1] = the last token fed; tensors[1] f64 [N, 2] = (sequence,
// code of every token fed: code * kV + token). The two must agree (the last token is the code's
// last digit), so a reorder that leaves one tensor behind is caught at the next step.
class ToyChain final : public StepModel {
 public:
  ToyChain(std::vector<Table> tables, std::vector<int64_t> seq_of_row)
      : tables_(std::move(tables)), seq_(std::move(seq_of_row)) {}

  DecoderState initial_state() const override {
    const int64_t N = static_cast<int64_t>(seq_.size());
    std::vector<double> last(N, -1), ctx;
    for (int64_t s : seq_) {
      ctx.push_back(static_cast<double>(s));
      ctx.push_back(0);
    }
    return {{Tensor::from_vector(last, {N, 1}), Tensor::from_vector(ctx, {N, 2})}};
  }

  Tensor step_logits(const Tensor& ids, DecoderState& st) const override {
    REQUIRE(st.tensors.size() == 2);
    const std::vector<int64_t> id = ids.to_vector<int64_t>();
    std::vector<double> last = st.tensors[0].to_vector<double>(), ctx = st.tensors[1].to_vector<double>();
    const int64_t N = static_cast<int64_t>(id.size());
    REQUIRE(st.tensors[0].size(0) == N);
    REQUIRE(st.tensors[1].size(0) == N);
    std::vector<double> out;
    for (int64_t r = 0; r < N; ++r) {
      const double code = ctx[2 * r + 1];
      if (last[r] >= 0) MRNN_CHECK(std::fmod(code, kV) == last[r], "toy state: tensors out of step in row {}", r);
      last[r] = static_cast<double>(id[r]);
      ctx[2 * r + 1] = code * kV + static_cast<double>(id[r]);
      const Table& t = tables_.at(static_cast<size_t>(ctx[2 * r]));
      for (double x : t.at(static_cast<size_t>(id[r]))) out.push_back(x);
    }
    ++steps_;
    st.tensors[0] = Tensor::from_vector(last, {N, 1});
    st.tensors[1] = Tensor::from_vector(ctx, {N, 2});
    return Tensor::from_vector(out, {N, kV});
  }

  Device device() const override { return Device::cpu(); }
  mutable int64_t steps_ = 0;

 private:
  std::vector<Table> tables_;
  std::vector<int64_t> seq_;
};

double log_softmax_at(const std::vector<double>& row, int64_t v) {
  double s = 0;
  for (double x : row) s += std::exp(x);
  return row[v] - std::log(s);
}

DecodeOptions toy_options(int64_t max_length) {
  DecodeOptions o;
  o.bos = kToyBos;
  o.eos = kToyEos;
  o.first_word = 0;
  o.max_length = max_length;
  return o;
}

// A garden path: after <bos>, word 1 (.5) beats word 2 (.4), but 2 is almost surely followed by
// <eos> while 1 is not. <bos> itself has the largest logit (never a candidate).
Table garden_path() {
  auto row = [](std::vector<double> p) {
    std::vector<double> x;
    for (double q : p) x.push_back(std::log(q));
    return x;
  };
  Table t(kV);
  t[kToyBos] = row({.02, .5, .4, .04, .04, 3.0});
  t[1] = row({.2, .2, .2, .2, .2, 5.0});
  t[2] = row({.9, .025, .025, .025, .025, 5.0});
  t[3] = row({.5, .125, .125, .125, .125, 5.0});
  t[4] = row({.5, .125, .125, .125, .125, 5.0});
  t[0] = row({1, 1, 1, 1, 1, 1});  // never used (nothing follows <eos>)
  return t;
}

Table random_table(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1.5);
  Table t(kV, std::vector<double>(kV));
  for (auto& r : t)
    for (auto& x : r) x = n(rng);
  for (auto& r : t) r[kToyEos] -= 1.0;  // longer sequences
  return t;
}

// The best score over every sequence of at most L words (+ eos), by brute force.
Hypothesis exhaustive_best(const Table& t, int64_t L, double alpha) {
  Hypothesis best;
  best.score = -INFINITY;
  std::vector<int64_t> seq;
  std::function<void(int64_t, double)> walk = [&](int64_t prev, double lp) {
    const double end = lp + log_softmax_at(t[prev], kToyEos);
    const double sc = beam::penalised(end, static_cast<int64_t>(seq.size()), alpha);
    if (sc > best.score) best = {seq, end, sc};
    if (static_cast<int64_t>(seq.size()) == L) return;
    for (int64_t v = 1; v < kV; ++v) {
      if (v == kToyBos) continue;
      seq.push_back(v);
      walk(v, lp + log_softmax_at(t[prev], v));
      seq.pop_back();
    }
  };
  walk(kToyBos, 0);
  return best;
}

// The argmax path by hand (ties: the lowest id; never bos).
std::vector<int64_t> argmax_path(const Table& t, int64_t L) {
  std::vector<int64_t> out;
  int64_t prev = kToyBos;
  while (static_cast<int64_t>(out.size()) < L) {
    int64_t best = 0;
    for (int64_t v = 1; v < kV; ++v)
      if (v != kToyBos && t[prev][v] > t[prev][best]) best = v;
    if (best == kToyEos) break;
    out.push_back(best);
    prev = best;
  }
  return out;
}

}  // namespace

TEST_CASE("step decoder: the default reorder moves every state tensor", "[decode]") {
  ToyChain m({garden_path()}, {0, 0, 0});
  DecoderState s{{Tensor::from_vector(std::vector<double>{10, 11, 12}, {3, 1}),
                  Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {3, 2})}};
  const DecoderState r = m.reorder(s, Tensor::from_vector(std::vector<int64_t>{2, 0, 0, 1}));
  REQUIRE(r.tensors.size() == 2);
  CHECK(r.rows() == 4);
  CHECK(r.tensors[0].to_vector<double>() == std::vector<double>{12, 10, 10, 11});
  CHECK(r.tensors[1].to_vector<double>() == std::vector<double>{4, 5, 0, 1, 0, 1, 2, 3});
  CHECK(s.tensors[0].to_vector<double>() == std::vector<double>{10, 11, 12});  // the input is unchanged
}

TEST_CASE("step decoder: beam search finds what greedy misses, greedy is the argmax path, beam 1 equals greedy",
          "[decode][beam]") {
  const std::vector<Table> tables = {garden_path(), random_table(1), random_table(2), random_table(3)};
  ToyChain m(tables, {0, 1, 2, 3});
  DecodeOptions o = toy_options(3);
  const auto greedy = greedy_decode(m, o);
  REQUIRE(greedy.size() == 4);
  CHECK(greedy[0].ids == std::vector<int64_t>{1});  // .5 then .2 for <eos> (the lowest of tied ids)
  for (size_t s = 0; s < 4; ++s) {
    INFO("sequence " << s);
    CHECK(greedy[s].ids == argmax_path(tables[s], 3));
    for (int64_t v : greedy[s].ids) CHECK(v != kToyBos);
  }
  o.beam_size = 1;
  const auto one = beam_decode(m, o);
  for (size_t s = 0; s < 4; ++s) {
    CHECK(one[s].ids == greedy[s].ids);
    CHECK(one[s].log_prob == Approx(greedy[s].log_prob).margin(1e-12));
  }
  o.beam_size = 2;
  const auto two = beam_decode(m, o);
  CHECK(two[0].ids == std::vector<int64_t>{2});  // the known best: .4 x .9 = .36 > .5 x .2
  CHECK(two[0].log_prob == Approx(std::log(.4) + std::log(.9) - std::log(.02 + .5 + .4 + .08 + 3.0) -
                                  std::log(1 + 5.0))
                               .margin(1e-12));
  CHECK(two[0].score > greedy[0].score);
}

TEST_CASE("step decoder: a wide beam equals the exhaustive search (beam above the GPU's 16, length penalty)",
          "[decode][beam]") {
  std::vector<Table> tables;
  for (uint32_t s = 0; s < 6; ++s) tables.push_back(s == 0 ? garden_path() : random_table(10 + s));
  ToyChain m(tables, {0, 1, 2, 3, 4, 5});
  int lengths = 0;
  for (double alpha : {0.0, 0.7, 1.5}) {
    DecodeOptions o = toy_options(4);
    o.length_penalty = alpha;
    o.beam_size = 700;  // more than every hypothesis (4^4 + ...): the search is exhaustive
    const auto got = beam_decode(m, o);
    for (size_t s = 0; s < tables.size(); ++s) {
      INFO("alpha " << alpha << " sequence " << s);
      const Hypothesis want = exhaustive_best(tables[s], 4, alpha);
      CHECK(got[s].ids == want.ids);
      CHECK(got[s].log_prob == Approx(want.log_prob).margin(1e-9));
      CHECK(got[s].score == Approx(want.score).margin(1e-9));
      lengths |= 1 << got[s].ids.size();
    }
  }
  CHECK(__builtin_popcount(lengths) >= 2);  // best sequences of different lengths
  // A beam of 3 cannot do better than the exhaustive search and no worse than greedy.
  DecodeOptions o = toy_options(4);
  o.beam_size = 3;
  const auto b3 = beam_decode(m, o), g = greedy_decode(m, o);
  for (size_t s = 0; s < tables.size(); ++s) {
    CHECK(b3[s].score <= exhaustive_best(tables[s], 4, 0).score + 1e-12);
    CHECK(b3[s].score >= g[s].score - 1e-12);
    CHECK(b3[s].ids.size() <= 4);
  }
}

TEST_CASE("step decoder: the search's live hypotheses stay sorted by score, rows never mix sequences",
          "[decode][beam]") {
  std::vector<Table> tables = {random_table(21), random_table(22), random_table(23)};
  ToyChain m(tables, {0, 1, 2});
  const int64_t K = 4, L = 5;
  BeamSearch s = beam_search_init(3, K, L, 0.0, true, {kToyBos, kToyEos, 0}, Device::cpu());
  DecoderState st = m.reorder(m.initial_state(), Tensor::from_vector(std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1,
                                                                                          2, 2, 2, 2}));
  for (int64_t t = 0; t <= L; ++t) {
    beam_search_step(s, m.step_logits(s.ids, st), t);
    const std::vector<double> lp = s.logp.to_vector<double>();
    const std::vector<int64_t> rows = s.rows.to_vector<int64_t>();
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t k = 0; k < K; ++k) {
        INFO("step " << t << " image " << b << " beam " << k);
        CHECK(rows[b * K + k] / K == b);
        if (k > 0) CHECK(lp[b * K + k] <= lp[b * K + k - 1]);
      }
    if (beam_search_stopped(s)) break;
    st = m.reorder(st, s.rows);
    const std::vector<double> ctx = st.tensors[1].to_vector<double>();
    for (int64_t r = 0; r < 3 * K; ++r) CHECK(ctx[2 * r] == static_cast<double>(r / K));
  }
}

TEST_CASE("step decoder: sampling follows softmax(logits) over the candidates, top-k, and is deterministic",
          "[decode]") {
  const int64_t N = 4000;
  ToyChain m({garden_path()}, std::vector<int64_t>(N, 0));
  DecodeOptions o = toy_options(1);
  Generator g1(3), g2(3);
  const auto a = sample_decode(m, o, g1), b = sample_decode(m, o, g2);
  std::map<int64_t, double> freq;
  for (int64_t i = 0; i < N; ++i) {
    CHECK(a[i].ids == b[i].ids);
    CHECK(a[i].log_prob == b[i].log_prob);
    REQUIRE(a[i].ids.size() <= 1);
    freq[a[i].ids.empty() ? kToyEos : a[i].ids[0]] += 1.0 / N;
  }
  CHECK(freq.count(kToyBos) == 0);
  // Candidates after <bos>: eos .02, 1 .5, 2 .4, 3 .04, 4 .04 (bos, though likelier, is none).
  CHECK(freq[1] == Approx(.5).margin(.03));
  CHECK(freq[2] == Approx(.4).margin(.03));
  CHECK(freq[3] == Approx(.04).margin(.015));
  o.top_k = 2;
  Generator g3(4);
  std::map<int64_t, double> top2;
  for (const auto& h : sample_decode(m, o, g3)) top2[h.ids.empty() ? kToyEos : h.ids[0]] += 1.0 / N;
  CHECK(top2.size() == 2);
  CHECK(top2[1] == Approx(.5 / .9).margin(.03));
  // top_k = 1 is the argmax path (on a table without ties: sampling breaks them the other way).
  ToyChain r({random_table(7), random_table(8)}, {0, 1, 0, 1});
  o.top_k = 1;
  o.max_length = 4;
  Generator g4(5);
  const auto k1 = sample_decode(r, o, g4), greedy = greedy_decode(r, o);
  for (size_t i = 0; i < 4; ++i) CHECK(k1[i].ids == greedy[i].ids);
  o.temperature = 0;
  CHECK_THROWS_WITH(sample_decode(m, o, g4), Catch::Matchers::Contains("temperature must be positive"));
}

TEST_CASE("step decoder: bad options are refused naming the field", "[decode]") {
  using Catch::Matchers::Contains;
  ToyChain m({garden_path()}, {0});
  DecodeOptions o = toy_options(3);
  o.first_word = 1;  // eos 0 would not be a candidate
  CHECK_THROWS_WITH(greedy_decode(m, o), Contains("first_word <= eos"));
  o = toy_options(-1);
  CHECK_THROWS_WITH(beam_decode(m, o), Contains("max_length must be >= 0"));
  o = toy_options(3);
  o.eos = 7;  // outside the logits' 6 ids
  CHECK_THROWS_WITH(greedy_decode(m, o), Contains("V > 7"));
  CHECK_THROWS_WITH(beam_decode(m, o), Contains("V > 7"));
}
