// Comprehension with the speaker (models/refexp/listener.h): the batched E x R table equals the
// pair-by-pair log-probabilities, the argmax picks the region a hand-set speaker must prefer, and a
// few Adam steps of the MMI-SoftMax loss raise the true region's share.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "data/vocab.h"
#include "kernels/ops.h"
#include "models/engine/optim.h"
#include "models/refexp/listener.h"
#include "models/refexp/losses.h"

using namespace mrnn;

namespace {

std::vector<double> host(const Tensor& t) { return t.contiguous().to(DType::F64).to_vector<double>(); }

SpeakerConfig tiny_config(bool tws) {
  SpeakerConfig c;
  c.vocab = 12;
  c.embed = 5;
  c.lstm = 6;
  c.fusing = 7;
  c.feature_dim = 4;
  c.tws = tws;
  return c;
}

// E expressions "w_e w'_e" (ids 4 + e, 8 + e) over R regions with random features.
RegionQuery query(int64_t E, int64_t R, Generator& g) {
  std::vector<int64_t> in, out;
  for (int64_t e = 0; e < E; ++e) {
    in.insert(in.end(), {kBosId, 4 + e, 8 + e});
    out.insert(out.end(), {4 + e, 8 + e, kEosId});
  }
  RegionQuery q;
  q.inputs = Tensor::from_vector(in, {E, 3});
  q.targets = Tensor::from_vector(out, {E, 3});
  q.region = Tensor::randn({R, 4}, g);
  q.image = Tensor::randn({1, 4}, g);
  std::vector<Box> boxes;
  for (int64_t r = 0; r < R; ++r) boxes.push_back({double(5 * r), 0, 10, double(10 + 5 * r)});
  q.location = location_tensor(boxes, 40, 40);
  return q;
}

Tensor param(const Module& m, const std::string& name) {
  for (const auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  FAIL("no parameter " << name);
  return Tensor();
}

}  // namespace

TEST_CASE("refexp listener: the batched E x R table equals pair-by-pair sequence_log_probs", "[refexp]") {
  for (bool tws : {true, false}) {
    Generator gen(tws ? 1 : 2);
    Speaker m(tiny_config(tws), gen);
    m.eval();
    Generator g(3);
    RegionQuery q = query(2, 3, g);
    NoGradGuard ng;
    Tensor table = region_log_probs(m, q);
    REQUIRE(table.shape() == Shape{2, 3});
    const auto t = host(table);
    for (int64_t e = 0; e < 2; ++e)
      for (int64_t r = 0; r < 3; ++r) {
        SpeakerBatch b;
        b.inputs = narrow(q.inputs, 0, e, 1);
        b.targets = narrow(q.targets, 0, e, 1);
        b.region = narrow(q.region, 0, r, 1);
        b.image = q.image;
        b.location = narrow(q.location, 0, r, 1);
        CHECK(t[e * 3 + r] == Approx(host(m.sequence_log_probs(b))[0]).epsilon(1e-5));
      }
    Comprehension c = comprehend(m, q);
    REQUIRE(c.best.size() == 2);
    for (int64_t e = 0; e < 2; ++e) {
      const int64_t b = c.best[e];
      for (int64_t r = 0; r < 3; ++r) CHECK(t[e * 3 + b] >= t[e * 3 + r]);
    }
  }
}

TEST_CASE("refexp listener: a speaker set by hand makes it choose the matching region", "[refexp]") {
  // Untied output, fusing width = feature width = 4, every parameter 0 except V_R = 2 I and the
  // output rows of words 4..7 (row 4 + j = 3 e_j). The logits then depend on the region alone:
  // a one-hot region e_k gives word 4 + k the logit 3 g(2), every other token 0, so every one-hot
  // region has the same normaliser and the same p(<eos>), and expression "4 + j" is likeliest from
  // the region whose feature is e_j.
  SpeakerConfig c = tiny_config(false);
  c.vocab = 8;
  c.fusing = 4;
  Generator gen(9);
  Speaker m(c, gen);
  m.eval();
  {
    NoGradGuard ng;
    for (Tensor& p : m.parameters()) p.fill_(0.0);
    std::vector<float> vr(16, 0.f), w(8 * 4, 0.f);
    for (int j = 0; j < 4; ++j) {
      vr[j * 4 + j] = 2.f;
      w[(4 + j) * 4 + j] = 3.f;
    }
    param(m, "fusing.V_R").copy_(Tensor::from_vector(vr, {4, 4}));
    param(m, "output.weight").copy_(Tensor::from_vector(w, {8, 4}));
  }
  RegionQuery q;
  q.inputs = Tensor::from_vector(std::vector<int64_t>{kBosId, 4, kBosId, 5, kBosId, 6, kBosId, 7}, {4, 2});
  q.targets = Tensor::from_vector(std::vector<int64_t>{4, kEosId, 5, kEosId, 6, kEosId, 7, kEosId}, {4, 2});
  // Regions 0..3 carry e_2, e_0, e_3, e_1.
  std::vector<float> feats(16, 0.f);
  const int order[4] = {2, 0, 3, 1};
  for (int r = 0; r < 4; ++r) feats[r * 4 + order[r]] = 1.f;
  q.region = Tensor::from_vector(feats, {4, 4});
  q.image = Tensor::ones({1, 4});
  q.location = location_tensor({{0, 0, 5, 5}, {5, 0, 5, 5}, {0, 5, 5, 5}, {5, 5, 5, 5}}, 10, 10);
  Comprehension r = comprehend(m, q);
  CHECK(r.best == std::vector<int64_t>{1, 3, 0, 2});
  // The margin is the word's logit 3 g(2) (p(<eos>) and the normaliser cancel).
  const auto s = host(r.scores);
  const double g2 = 1.7159 * std::tanh(4.0 / 3.0);
  CHECK(s[0 * 4 + 1] - s[0 * 4 + 0] == Approx(3 * g2).epsilon(1e-5));
}

TEST_CASE("refexp listener: shape errors name what was expected", "[refexp]") {
  Generator gen(4);
  Speaker m(tiny_config(true), gen);
  Generator g(5);
  RegionQuery q = query(2, 3, g);
  RegionQuery bad = q;
  bad.image = Tensor::randn({2, 4}, g);
  CHECK_THROWS_WITH(comprehend(m, bad), Catch::Contains("must be [1, D] (one image)"));
  bad = q;
  bad.location = narrow(q.location, 0, 0, 2);
  CHECK_THROWS_WITH(comprehend(m, bad), Catch::Contains("locations must be [3, 5]"));
  bad = q;
  bad.targets = Tensor();
  CHECK_THROWS_WITH(comprehend(m, bad), Catch::Contains("inputs and targets must both be"));
}

TEST_CASE("refexp listener: a few Adam steps of MMI-SoftMax raise the true region's share", "[refexp]") {
  Generator gen(6);
  Speaker m(tiny_config(true), gen);
  Generator g(7);
  RegionQuery q = query(3, 3, g);  // expression e refers to region e
  Tensor truth = Tensor::from_vector(std::vector<int64_t>{0, 1, 2}, {3});
  auto share = [&] {  // mean over expressions of p(S|R_true) / sum_R' p(S|R')
    Tensor sc = comprehend(m, q).scores;
    const auto p = host(softmax(sc, 1));
    return (p[0] + p[4] + p[8]) / 3;
  };
  const double before = share();
  Adam opt(m.parameters());
  for (int step = 0; step < 40; ++step) {
    opt.zero_grad();
    mmi_softmax_loss(region_log_probs(m, q), truth).backward();
    opt.step(0.02);
  }
  const double after = share();
  INFO("share of the true region before " << before << ", after " << after);
  CHECK(after > before + 0.3);
  CHECK(comprehend(m, q).best == std::vector<int64_t>{0, 1, 2});
}

TEST_CASE("refexp listener: a few Adam steps of MMI-MM open the margin over the negative region", "[refexp]") {
  Generator gen(8);
  Speaker m(tiny_config(false), gen);
  Generator g(9);
  RegionQuery q = query(2, 2, g);  // expression e refers to region e; the other region is its negative
  Tensor pos = Tensor::from_vector(std::vector<int64_t>{0, 3}, {2});  // flat [E * R] positions
  Tensor negs = Tensor::from_vector(std::vector<int64_t>{1, 2}, {2});
  auto gap = [&] {  // mean log p(S|R) - log p(S|R')
    const auto s = host(comprehend(m, q).scores);
    return ((s[0] - s[1]) + (s[3] - s[2])) / 2;
  };
  const double before = gap();
  Adam opt(m.parameters());
  for (int step = 0; step < 40; ++step) {
    opt.zero_grad();
    Tensor flat = reshape(region_log_probs(m, q), {4});
    mmi_mm_loss(index_select(flat, pos), index_select(flat, negs), 1.0, 1.0).backward();
    opt.step(0.02);
  }
  const double after = gap();
  INFO("log-prob gap true - negative before " << before << ", after " << after);
  CHECK(after > before + 0.5);
  CHECK(after > 0.5);
  CHECK(comprehend(m, q).best == std::vector<int64_t>{0, 1});
}
