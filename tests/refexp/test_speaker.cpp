// The referring-expression speaker: the 5-d location feature (and its refusals), per-sequence
// log p(S | R, I) against an independent f64 log-softmax of the teacher-forced logits, its gradient
// by finite differences, and the StepModel giving the teacher-forced log-probabilities step by step.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "data/vocab.h"
#include "kernels/gradcheck.h"
#include "kernels/ops.h"
#include "models/engine/step_decoder.h"
#include "models/refexp/speaker.h"

using namespace mrnn;

namespace {

SpeakerConfig tiny_config(bool tws = true) {
  SpeakerConfig c;
  c.vocab = 11;
  c.embed = 5;
  c.lstm = 6;
  c.fusing = 7;
  c.feature_dim = 4;
  c.tws = tws;
  return c;
}

// Three pairs, T = 4: lengths 3, 1 and 2 words (then <eos>, then <pad>).
SpeakerBatch tiny_batch(Generator& g, DType dt = DType::F32) {
  SpeakerBatch b;
  b.inputs = Tensor::from_vector(std::vector<int64_t>{kBosId, 4, 5, 6, kBosId, 7, 0, 0, kBosId, 8, 9, 0}, {3, 4});
  b.targets = Tensor::from_vector(std::vector<int64_t>{4, 5, 6, kEosId, 7, kEosId, 0, 0, 8, 9, kEosId, 0}, {3, 4});
  b.region = Tensor::randn({3, 4}, g, dt);
  b.image = Tensor::randn({3, 4}, g, dt);
  b.location = location_tensor({{0, 0, 10, 10}, {5, 5, 20, 10}, {10, 0, 30, 40}}, 40, 40).to(dt);
  return b;
}

std::vector<double> host(const Tensor& t) { return t.contiguous().to(DType::F64).to_vector<double>(); }

// sum over real targets of log softmax(logits[n, t])[target], in double on the host.
std::vector<double> reference_log_probs(const Tensor& logits, const Tensor& targets) {
  const int64_t N = logits.size(0), T = logits.size(1), V = logits.size(2);
  const auto z = host(logits);
  const auto y = targets.contiguous().to_vector<int64_t>();
  std::vector<double> out(N, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t tgt = y[n * T + t];
      if (tgt == kPadId) continue;
      const double* row = &z[(n * T + t) * V];
      double mx = row[0];
      for (int64_t v = 1; v < V; ++v) mx = std::max(mx, row[v]);
      double s = 0;
      for (int64_t v = 0; v < V; ++v) s += std::exp(row[v] - mx);
      out[n] += row[tgt] - mx - std::log(s);
    }
  return out;
}

bool throws_with(const Box& b, double W, double H, const std::string& part) {
  try {
    location_features(b, W, H);
  } catch (const Error& e) {
    return std::string(e.what()).find(part) != std::string::npos;
  }
  return false;
}

}  // namespace

TEST_CASE("refexp speaker: the 5-d location feature by hand", "[refexp]") {
  const auto f = location_features({10, 20, 30, 40}, 100, 200);
  CHECK(f[0] == Approx(0.1));
  CHECK(f[1] == Approx(0.1));
  CHECK(f[2] == Approx(0.4));
  CHECK(f[3] == Approx(0.3));
  CHECK(f[4] == Approx(1200.0 / 20000.0));
  const auto whole = location_features({0, 0, 64, 48}, 64, 48);
  CHECK(whole == std::array<double, 5>{0, 0, 1, 1, 1});
  Tensor t = location_tensor({{10, 20, 30, 40}, {0, 0, 100, 200}}, 100, 200);
  CHECK(t.shape() == Shape{2, 5});
  CHECK(host(t)[9] == Approx(1.0));
}

TEST_CASE("refexp speaker: bad boxes and image sizes are refused by name", "[refexp]") {
  CHECK(throws_with({0, 0, 1, 1}, 0, 10, "image size must be positive"));
  CHECK(throws_with({0, 0, 1, 1}, 10, -1, "image size must be positive"));
  CHECK(throws_with({0, 0, 0, 5}, 10, 10, "positive width and height"));
  CHECK(throws_with({0, 0, 5, -1}, 10, 10, "positive width and height"));
  CHECK(throws_with({-1, 0, 5, 5}, 10, 10, "inside the 10 x 10 image"));
  CHECK(throws_with({6, 0, 5, 5}, 10, 10, "inside the 10 x 10 image"));
  CHECK(throws_with({0, 6, 5, 5}, 10, 10, "inside the 10 x 10 image"));
  CHECK(throws_with({0, NAN, 5, 5}, 10, 10, "non-finite"));
  CHECK_THROWS_AS(location_tensor({{0, 0, 5, 5}, {0, 0, 11, 5}}, 10, 10), Error);
}

TEST_CASE("refexp speaker: sequence_log_probs is the f64 sum of teacher-forced log-softmax", "[refexp]") {
  for (bool tws : {true, false}) {
    Generator gen(tws ? 3 : 4);
    Speaker m(tiny_config(tws), gen);
    m.to(DType::F64);
    m.eval();
    Generator g(7);
    SpeakerBatch b = tiny_batch(g, DType::F64);
    Tensor lp = m.sequence_log_probs(b);
    REQUIRE(lp.shape() == Shape{3});
    const auto got = host(lp);
    const auto want = reference_log_probs(m.logits(b), b.targets);
    for (int i = 0; i < 3; ++i) {
      CHECK(got[i] < 0);
      CHECK(got[i] == Approx(want[i]).epsilon(1e-12));
    }
    // Row 1 alone (its padding removed) gives the same value: padding adds nothing.
    SpeakerBatch one;
    one.inputs = Tensor::from_vector(std::vector<int64_t>{kBosId, 7}, {1, 2});
    one.targets = Tensor::from_vector(std::vector<int64_t>{7, kEosId}, {1, 2});
    one.region = narrow(b.region, 0, 1, 1);
    one.image = narrow(b.image, 0, 1, 1);
    one.location = narrow(b.location, 0, 1, 1);
    CHECK(host(m.sequence_log_probs(one))[0] == Approx(got[1]).epsilon(1e-12));
  }
  // f32 agrees with the f64 reference to f32 accuracy.
  Generator gen(5);
  Speaker m(tiny_config(), gen);
  Generator g(8);
  SpeakerBatch b = tiny_batch(g);
  const auto got = host(m.sequence_log_probs(b));
  const auto want = reference_log_probs(m.logits(b), b.targets);
  for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-5));
}

TEST_CASE("refexp speaker: sequence_log_probs gradients match f64 finite differences", "[refexp]") {
  Generator gen(11);
  Speaker m(tiny_config(), gen);
  m.to(DType::F64);
  Generator g(12);
  SpeakerBatch b = tiny_batch(g, DType::F64);
  Tensor region = b.region.clone().requires_grad_(true);
  Tensor image = b.image.clone().requires_grad_(true);
  auto fn = [&](const std::vector<Tensor>& xs) {
    SpeakerBatch c = b;
    c.region = xs[0];
    c.image = xs[1];
    return m.sequence_log_probs(c);
  };
  GradcheckOptions o;
  o.rtol = 1e-5;
  GradcheckResult r = gradcheck(fn, {region, image}, o);
  INFO(r.message);
  CHECK(r.ok);
  CHECK(r.checked > 0);
  // The parameters too (the fused output op's weight and bias gradients, the LSTM, the fusing layer).
  std::vector<Tensor> params;
  for (const auto& [name, t] : m.named_parameters())
    if (name == "output.U_I" || name == "fusing.V_R" || name == "lstm.weight_hh_l0" || name == "output.bias")
      params.push_back(t);
  REQUIRE(params.size() == 4);
  GradcheckResult rp = gradcheck([&](const std::vector<Tensor>&) { return m.sequence_log_probs(b); }, params, o);
  INFO(rp.message);
  CHECK(rp.ok);
}

TEST_CASE("refexp speaker: the StepModel's step log-probs equal the teacher-forced ones", "[refexp]") {
  Generator gen(21);
  Speaker m(tiny_config(), gen);
  m.eval();
  Generator g(22);
  SpeakerBatch b = tiny_batch(g);
  NoGradGuard ng;
  Tensor tf = log_softmax(m.logits(b), 2);  // [3, 4, V]
  SpeakerStepModel sm(m, b.region, b.image, b.location);
  DecoderState s = sm.initial_state();
  CHECK(s.rows() == 3);
  const int64_t V = tiny_config().vocab;
  for (int64_t t = 0; t < 4; ++t) {
    Tensor ids = select(b.inputs, 1, t).contiguous();
    const auto step = host(log_softmax(sm.step_logits(ids, s), 1));
    const auto want = host(select(tf, 1, t));
    REQUIRE(step.size() == static_cast<size_t>(3 * V));
    for (size_t i = 0; i < step.size(); ++i) CHECK(step[i] == Approx(want[i]).margin(1e-5));
  }
}

TEST_CASE("refexp speaker: greedy and beam decoding, greedy log-prob equal to sequence_log_probs of its output",
          "[refexp]") {
  Generator gen(31);
  Speaker m(tiny_config(), gen);
  m.eval();
  Generator g(32);
  SpeakerBatch b = tiny_batch(g);
  SpeakerStepModel sm(m, b.region, b.image, b.location);
  DecodeOptions o;
  o.max_length = 5;
  const auto greedy = greedy_decode(sm, o);
  o.beam_size = 3;
  const auto beam = beam_decode(sm, o);
  REQUIRE(greedy.size() == 3);
  REQUIRE(beam.size() == 3);
  for (int n = 0; n < 3; ++n) {
    CHECK(std::isfinite(beam[n].log_prob));
    CHECK(beam[n].log_prob < 0);
    std::vector<int64_t> in = {kBosId}, out;
    for (int64_t id : greedy[n].ids) {
      in.push_back(id);
      out.push_back(id);
    }
    out.push_back(kEosId);
    const int64_t T = static_cast<int64_t>(in.size());
    SpeakerBatch one;
    one.inputs = Tensor::from_vector(in, {1, T});
    one.targets = Tensor::from_vector(out, {1, T});
    one.region = narrow(b.region, 0, n, 1);
    one.image = narrow(b.image, 0, n, 1);
    one.location = narrow(b.location, 0, n, 1);
    NoGradGuard ng;
    CHECK(host(m.sequence_log_probs(one))[0] == Approx(greedy[n].log_prob).margin(1e-4));
  }
}

TEST_CASE("refexp speaker: the CNN path encodes crops to norm sqrt(D), shape errors name what was expected",
          "[refexp]") {
  SpeakerConfig c = tiny_config();
  c.image_size = 8;
  c.cnn_channels = {2};
  Generator gen(41);
  Speaker m(c, gen);
  Generator g(42);
  Tensor f = m.encode(Tensor::randn({2, 3, 8, 8}, g));
  REQUIRE(f.shape() == Shape{2, 4});
  const auto v = host(f);
  for (int n = 0; n < 2; ++n) {
    double s = 0;
    for (int d = 0; d < 4; ++d) s += v[n * 4 + d] * v[n * 4 + d];
    CHECK(std::sqrt(s) == Approx(2.0).epsilon(1e-4));
  }
  CHECK_THROWS_WITH(m.encode(Tensor::randn({2, 3, 9, 9}, g)), Catch::Contains("expected images [N, 3, 8, 8]"));
  Speaker p(tiny_config(), gen);
  CHECK_THROWS_WITH(p.encode(Tensor::randn({2, 5}, g)), Catch::Contains("precomputed features [N, 4]"));
  SpeakerBatch bad = tiny_batch(g);
  bad.location = Tensor::zeros({3, 4});
  CHECK_THROWS_WITH(p.sequence_log_probs(bad), Catch::Contains("locations must be [3, 5]"));
  bad = tiny_batch(g);
  bad.targets = Tensor::zeros({3, 4}, DType::I64);
  CHECK_THROWS_WITH(p.sequence_log_probs(bad), Catch::Contains("has no real token"));
}

TEST_CASE("refexp speaker: with a CNN, sequence_log_probs of crops back-propagates into the CNN", "[refexp]") {
  SpeakerConfig c = tiny_config();
  c.image_size = 8;
  c.cnn_channels = {2};
  c.dropout = 0.2;
  Generator gen(51);
  Speaker m(c, gen);
  m.train();
  Generator g(52);
  SpeakerBatch b = tiny_batch(g);
  b.region = m.encode(Tensor::randn({3, 3, 8, 8}, g));  // three region crops
  b.image = m.encode(Tensor::randn({3, 3, 8, 8}, g));   // their images
  Tensor lp = m.sequence_log_probs(b);
  REQUIRE(lp.shape() == Shape{3});
  neg(sum(lp)).backward();
  int cnn_params = 0, with_grad = 0;
  for (const auto& [name, t] : m.named_parameters()) {
    if (name.rfind("cnn.", 0) != 0) continue;
    ++cnn_params;
    if (!t.grad().defined()) continue;
    const auto v = host(t.grad());
    with_grad += std::any_of(v.begin(), v.end(), [](double x) { return x != 0.0; });
  }
  CHECK(cnn_params > 0);
  CHECK(with_grad == cnn_params);
}
