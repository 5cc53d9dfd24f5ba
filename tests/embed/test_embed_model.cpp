// Multimodal word-embedding models (models/embed/): the B and C losses against hand computations on
// tiny tensors and an f64 gradient check, tied vs untied parameter counts, every variant's loss
// parts, the config's JSON round trip and its errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/embed/embed_losses.h"
#include "models/embed/embed_model.h"
#include "support/gradcheck.h"
#include "support/parameter_size.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

EmbedConfig tiny(const std::string& variant, bool visual = true, bool tws = true) {
  EmbedConfig c;
  c.variant = variant;
  c.visual = visual;
  c.tws = tws;
  c.vocab = 12;
  c.embed = 6;
  c.rnn = 5;
  c.multimodal = 7;
  c.image_input = "features";
  c.image_dim = 4;
  c.dropout = 0;
  return c;
}

// Two sentences: <bos> 4 5 6 <eos> and <bos> 7 <eos> <pad> <pad>.
Tensor two_sentences() {
  return Tensor::from_vector(std::vector<int64_t>{2, 4, 5, 6, 3, 2, 7, 3, 0, 0}, {2, 5});
}

}  // namespace

TEST_CASE("state_loss is the mean L2 distance of final states to their targets (hand computation)") {
  // Rows: (3, 4) vs (0, 0) -> 5; (1, 1) vs (1, 2) -> 1. Mean 3.
  Tensor h = Tensor::from_vector(std::vector<float>{3, 4, 1, 1}, {2, 2});
  Tensor t = Tensor::from_vector(std::vector<float>{0, 0, 1, 2}, {2, 2});
  CHECK(state_loss(h, t).item() == Approx(3.0).epsilon(1e-6));
  CHECK_THROWS_WITH(state_loss(h, Tensor::zeros({2, 3})), Contains("state_loss"));
}

TEST_CASE("embedding_loss averages the L2 distances of a sentence's word embeddings, then the sentences") {
  // Sentence 0: words at t = 0, 1 (t = 2 masked): |(1,0)-(1,0)| = 0, |(4,4)-(1,0)| = 5 -> 2.5.
  // Sentence 1: one word at t = 1: |(0,2)-(0,0)| = 2 -> 2. Mean (2.5 + 2) / 2 = 2.25, plus the
  // sqrt(kNormEps) = 1e-4 the zero distance becomes, halved twice.
  Tensor e = Tensor::from_vector(std::vector<float>{1, 0, 4, 4, 9, 9, 7, 7, 0, 2, 5, 5}, {2, 3, 2});
  Tensor mask = Tensor::from_vector(std::vector<float>{1, 1, 0, 0, 1, 0}, {2, 3});
  Tensor t = Tensor::from_vector(std::vector<float>{1, 0, 0, 0}, {2, 2});
  CHECK(embedding_loss(e, mask, t).item() == Approx(2.25 + std::sqrt(kNormEps) / 4).epsilon(1e-6));
  Tensor empty_row = Tensor::from_vector(std::vector<float>{1, 1, 0, 0, 0, 0}, {2, 3});
  CHECK_THROWS_WITH(embedding_loss(e, empty_row, t), Contains("sentence 1 of the batch has no word"));
  Tensor half = Tensor::from_vector(std::vector<float>{1, 0.5f, 0, 0, 1, 0}, {2, 3});
  CHECK_THROWS_WITH(embedding_loss(e, half, t), Contains("expected 0 or 1"));
}

TEST_CASE("the B and C losses have correct gradients (f64 finite differences)") {
  Generator g(3);
  Tensor h = Tensor::randn({3, 4}, g, DType::F64).requires_grad_();
  Tensor t = Tensor::randn({3, 4}, g, DType::F64).requires_grad_();
  auto r1 = testing::gradcheck([](const std::vector<Tensor>& x) { return state_loss(x[0], x[1]); }, {h, t});
  CHECK(r1.ok);
  INFO(r1.message);
  Tensor e = Tensor::randn({2, 3, 4}, g, DType::F64).requires_grad_();
  Tensor mask = Tensor::from_vector(std::vector<double>{1, 1, 0, 0, 1, 1}, {2, 3});
  Tensor t2 = Tensor::randn({2, 4}, g, DType::F64).requires_grad_();
  auto r2 = testing::gradcheck([&](const std::vector<Tensor>& x) { return embedding_loss(x[0], mask, x[1]); }, {e, t2});
  INFO(r2.message);
  CHECK(r2.ok);
}

TEST_CASE("last_states picks each sequence's state at its position") {
  Tensor h = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2});
  CHECK(last_states(h, {2, 0}).to_vector<float>() == std::vector<float>{4, 5, 6, 7});
  CHECK_THROWS_WITH(last_states(h, {3, 0}), Contains("outside [0, 3)"));
}

TEST_CASE("transposed weight sharing: the tied model has V*M - E*M + ... fewer parameters than the untied one") {
  Generator g1(1), g2(1);
  const EmbedConfig ct = tiny("A"), cu = tiny("A", true, false);
  EmbedModel tied(ct, g1), untied(cu, g2);
  // Shared: embedding V*E, GRU 3R(E+R) + 6R, multimodal M(E+R+I) + M; output bias V either way.
  const int64_t V = 12, E = 6, R = 5, M = 7, I = 4;
  const int64_t shared = V * E + 3 * R * (E + R) + 6 * R + M * (E + R + I) + M + V;
  CHECK(tied.parameter_count() == shared + E * M);    // U_I [E, M]; the output rows are the table
  CHECK(untied.parameter_count() == shared + V * M);  // a full [V, M] output
  EmbedModel novis(tiny("A", false), g1);
  CHECK(novis.parameter_count() == shared + E * M - M * I);
  EmbedModel b(tiny("B"), g1), c(tiny("C"), g1);
  CHECK(b.parameter_count() == shared + E * M - M * I + (I * R + R));  // W_I to the state size
  CHECK(c.parameter_count() == shared + E * M - M * I + (I * E + E));  // W_I to the embedding size
}

TEST_CASE("every variant's loss: LM only for A, LM + weighted aux for B and C, gradients reach the table") {
  Tensor tokens = two_sentences();
  Generator gi(5);
  Tensor feats = Tensor::randn({2, 4}, gi);
  for (const std::string v : {"A", "B", "C"}) {
    EmbedConfig c = tiny(v);
    c.state_weight = 0.5;
    c.emb_weight = 2.0;
    Generator g(2);
    EmbedModel m(c, g);
    EmbedLoss l = m.loss(tokens, m.encode_images(feats, Tensor::from_vector(std::vector<int64_t>{0, 1})));
    CHECK(l.targets == 6);  // 4 5 6 <eos>, 7 <eos>
    CHECK(std::isfinite(l.lm.item()));
    if (v == "A") {
      CHECK_FALSE(l.aux.defined());
      CHECK(l.total.item() == l.lm.item());
    } else {
      REQUIRE(l.aux.defined());
      CHECK(l.aux.item() > 0);
      const double w = v == "B" ? 0.5 : 2.0;
      CHECK(l.total.item() == Approx(l.lm.item() + w * l.aux.item()).epsilon(1e-6));
    }
    l.total.backward();
    REQUIRE(m.table().grad().defined());
    CHECK(sum(square(m.table().grad())).item() > 0);
  }
  // The text-only A ignores images; B and C insist on them.
  Generator g(2);
  EmbedModel text(tiny("A", false), g);
  CHECK(std::isfinite(text.loss(tokens, Tensor()).total.item()));
  EmbedModel b(tiny("B"), g);
  CHECK_THROWS_WITH(b.loss(tokens, Tensor()), Contains("expected image features [2, 4]"));
}

TEST_CASE("C's aux loss reads only word positions: changing a padded sentence's padding changes nothing") {
  EmbedConfig c = tiny("C");
  Generator g(4);
  EmbedModel m(c, g);
  Tensor feats = Tensor::randn({2, 4}, g);
  Tensor rows = Tensor::from_vector(std::vector<int64_t>{0, 1});
  NoGradGuard ng;
  const double a = m.loss(two_sentences(), m.encode_images(feats, rows)).aux.item();
  // The same two sentences with an extra <pad> column: same aux.
  Tensor wider = Tensor::from_vector(std::vector<int64_t>{2, 4, 5, 6, 3, 0, 2, 7, 3, 0, 0, 0}, {2, 6});
  CHECK(m.loss(wider, m.encode_images(feats, rows)).aux.item() == Approx(a).epsilon(1e-6));
}

TEST_CASE("EmbedConfig: JSON round trip, names, and errors naming the field") {
  EmbedConfig c = tiny("B", true, false);
  c.state_weight = 0.25;
  EmbedConfig r = EmbedConfig::from_json(c.to_json(), "cfg");
  CHECK(r.to_json() == c.to_json());
  CHECK(r.name() == "B-untied");
  CHECK(tiny("A", false).name() == "A-no-visual");
  CHECK(tiny("A").uses_image());
  CHECK_FALSE(tiny("A", false).uses_image());
  CHECK_THROWS_WITH(EmbedConfig::from_json("{\"model\": \"m-rnn\", \"vocab\": 10}", "x/config.json"),
                    Contains("x/config.json: field 'model'"));
  CHECK_THROWS_WITH(EmbedConfig::from_json("{\"model\": \"embed\", \"vocab\": 10, \"variant\": \"D\"}", "f"),
                    Contains("field 'variant' is 'D'"));
  CHECK_THROWS_WITH(EmbedConfig::from_json("{\"model\": \"embed\", \"vocab\": 10, \"embed\": 0}", "f"),
                    Contains("field 'embed'"));
  CHECK_THROWS_WITH(EmbedConfig::from_json("{\"model\": \"embed\", \"vocab\": 10, \"variant\": \"C\", \"visual\": false}", "f"),
                    Contains("only model A has a text-only ablation"));
  CHECK_THROWS_WITH(EmbedConfig::from_json("{\"model\": \"embed\", \"vocab\": 10, \"emb_weight\": -1}", "f"),
                    Contains("field 'emb_weight'"));
  CHECK_THROWS_WITH(EmbedConfig::from_json("not json", "f"), Contains("f: not valid JSON"));
}

TEST_CASE("EmbedConfig: cnn_pool is flatten when absent, written unless flatten, checked, and builds that head") {
  EmbedConfig c = tiny("A");
  c.image_input = "cnn";
  c.image_size = 8;
  c.cnn_channels = {3};
  CHECK(c.cnn_pool == "flatten");
  CHECK(c.to_json().find("cnn_pool") == std::string::npos);  // folders from before the field read as before
  CHECK(EmbedConfig::from_json("{\"model\": \"embed\", \"vocab\": 10}", "f").cnn_pool == "flatten");
  CHECK_THROWS_WITH(EmbedConfig::from_json("{\"model\": \"embed\", \"vocab\": 10, \"cnn_pool\": \"mean\"}", "x/config.json"),
                    Contains("x/config.json: field 'cnn_pool' is 'mean', expected one of flatten, max"));
  auto fc_in = [](const EmbedConfig& cfg) {
    Generator g(3);
    return mrnn::testing::parameter_size(EmbedModel(cfg, g), "cnn.fc.weight", 1);
  };
  CHECK(fc_in(c) == 3 * 4 * 4);  // flatten: every position of the 4x4 map
  c.cnn_pool = "max";
  CHECK(EmbedConfig::from_json(c.to_json(), "f").cnn_pool == "max");
  CHECK(fc_in(c) == 3);  // one value per channel
}
