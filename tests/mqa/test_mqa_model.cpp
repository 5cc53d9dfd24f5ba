// The mQA model: one shared embedding that both LSTMs train, the parameter sets of the ablations,
// and the answer StepModel giving the teacher-forced log-probabilities step by step.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/engine/step_decoder.h"
#include "models/mqa/mqa.h"
#include "support/small_mqa.h"

using namespace mrnn;

namespace {

MqaConfig small_config() { return testing::small_mqa_config(); }

std::map<std::string, Shape> shapes(const Module& m) {
  std::map<std::string, Shape> out;
  for (const auto& [name, t] : m.named_parameters()) out[name] = t.shape();
  return out;
}

// Questions use words 4..6, answers words 7..9: the rows each path should reach are disjoint.
QuestionBatch questions() {
  return {Tensor::from_vector(std::vector<int64_t>{4, 5, 6, 5, 4, 0}, {2, 3}),
          Tensor::from_vector(std::vector<float>{1, 1, 1, 1, 1, 0}, {2, 3})};
}
Tensor answer_inputs() { return Tensor::from_vector(std::vector<int64_t>{kBosId, 7, 8, kBosId, 9, 0}, {2, 3}); }
Tensor answer_targets() { return Tensor::from_vector(std::vector<int64_t>{7, 8, kEosId, 9, kEosId, 0}, {2, 3}); }
Tensor images(Generator& g) { return Tensor::randn({2, 3, 8, 8}, g); }

// Rows of a [V, E] gradient with any non-zero entry.
std::set<int64_t> touched_rows(const Tensor& grad) {
  std::set<int64_t> rows;
  const auto v = grad.contiguous().to_vector<float>();
  const int64_t E = grad.size(1);
  for (int64_t i = 0; i < grad.size(0) * E; ++i)
    if (v[i] != 0.f) rows.insert(i / E);
  return rows;
}

Tensor param(const Module& m, const std::string& name) {
  for (const auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  FAIL("no parameter " << name);
  return Tensor();
}

bool has_grad(const Tensor& t) {
  if (!t.grad().defined()) return false;
  const auto v = t.grad().contiguous().to_vector<float>();
  return std::any_of(v.begin(), v.end(), [](float x) { return x != 0.f; });
}

}  // namespace

TEST_CASE("mQA: one embedding tensor, shared by both LSTMs and the TWS softmax", "[mqa]") {
  Generator gen(3);
  Mqa m(small_config(), gen);
  int tables = 0;
  for (const auto& [name, t] : m.named_parameters()) tables += t.dim() == 2 && t.size(0) == 12 && t.size(1) == 6;
  CHECK(tables == 1);  // only embed.weight is [V, E]: no second table for the answer LSTM or the output
  CHECK(param(m, "embed.weight").storage() == m.embedding_table().storage());
}

TEST_CASE("mQA: the embedding gets gradient from the question LSTM and from the answer LSTM", "[mqa]") {
  MqaConfig c = small_config();
  c.tws = false;  // untied: the embedding's only gradients come through the two LSTMs' word inputs
  Generator gen(4);
  Mqa m(c, gen);
  Generator g(9);
  Tensor img = m.encode_images(images(g));
  const Tensor table = param(m, "embed.weight");

  // Question path alone: rows of question words, and the question LSTM's weights.
  sum(m.encode_question(questions())).backward();
  CHECK(touched_rows(table.grad()) == std::set<int64_t>{4, 5, 6});
  CHECK(has_grad(param(m, "question_lstm.weight_ih_l0")));
  CHECK_FALSE(has_grad(param(m, "answer_lstm.weight_ih_l0")));
  m.zero_grad();

  // Answer path alone (r_Q a constant): rows of answer inputs (<bos> and the answer words).
  Tensor rq = Tensor::zeros({2, m.question_dim()});
  m.loss(rq, img.detach(), answer_inputs(), answer_targets()).backward();
  CHECK(touched_rows(table.grad()) == std::set<int64_t>{kBosId, 7, 8, 9});
  CHECK(has_grad(param(m, "answer_lstm.weight_ih_l0")));
  CHECK_FALSE(has_grad(param(m, "question_lstm.weight_ih_l0")));
  m.zero_grad();

  // Both: one tensor holds the sum.
  m.loss(m.encode_question(questions()), img.detach(), answer_inputs(), answer_targets()).backward();
  CHECK(touched_rows(table.grad()) == std::set<int64_t>{kBosId, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("mQA: the padding after a question does not change r_Q", "[mqa]") {
  Generator gen(5);
  Mqa m(small_config(), gen);
  m.eval();
  NoGradGuard ng;
  QuestionBatch padded = questions();  // row 1 is "5 4 <pad>"
  QuestionBatch alone{Tensor::from_vector(std::vector<int64_t>{5, 4}, {1, 2}),
                      Tensor::from_vector(std::vector<float>{1, 1}, {1, 2})};
  const auto a = select(m.encode_question(padded), 0, 1).contiguous().to_vector<float>();
  const auto b = select(m.encode_question(alone), 0, 0).contiguous().to_vector<float>();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).margin(1e-7));
}

TEST_CASE("mQA: the ablations' parameter sets", "[mqa]") {
  Generator gen(6);
  const auto full = shapes(Mqa(small_config(), gen));
  for (const char* p : {"embed.weight", "question_lstm.weight_ih_l0", "answer_lstm.weight_ih_l0", "fusing.V_w",
                        "fusing.V_rA", "fusing.V_rQ", "fusing.V_I", "fusing.bias", "output.U_I", "output.bias"})
    CHECK(full.count(p) == 1);
  CHECK(std::any_of(full.begin(), full.end(), [](const auto& kv) { return kv.first.rfind("cnn.", 0) == 0; }));
  CHECK(full.at("fusing.V_rQ") == Shape{7, 5});
  CHECK(full.at("fusing.V_I") == Shape{7, 4});

  MqaConfig c = small_config();
  c.same_lstm = true;
  auto same = shapes(Mqa(c, gen));
  CHECK(same.count("answer_lstm.weight_ih_l0") == 0);
  CHECK(same.count("question_lstm.weight_ih_l0") == 1);
  CHECK(same.size() == full.size() - 4);  // the answer LSTM's four tensors

  c = small_config();
  c.avg_question = true;
  auto avg = shapes(Mqa(c, gen));
  CHECK(avg.count("question_lstm.weight_ih_l0") == 0);
  CHECK(avg.count("answer_lstm.weight_ih_l0") == 1);
  CHECK(avg.at("fusing.V_rQ") == Shape{7, 6});  // r_Q is a mean word vector [E]

  c = small_config();
  c.tws = false;
  auto untied = shapes(Mqa(c, gen));
  CHECK(untied.count("output.U_I") == 0);
  CHECK(untied.at("output.weight") == Shape{12, 7});

  c = small_config();
  c.blind = true;
  auto blind = shapes(Mqa(c, gen));
  CHECK(blind.count("fusing.V_I") == 0);
  CHECK(std::none_of(blind.begin(), blind.end(), [](const auto& kv) { return kv.first.rfind("cnn.", 0) == 0; }));

  c = small_config();
  c.same_lstm = c.avg_question = true;
  CHECK_THROWS_AS(Mqa(c, gen), Error);
}

TEST_CASE("mQA: the answer StepModel gives the teacher-forced log-probs", "[mqa]") {
  for (int variant = 0; variant < 4; ++variant) {
    MqaConfig c = small_config();
    c.dropout = 0.3;  // eval mode turns it off
    c.same_lstm = variant == 1;
    c.blind = variant == 2;
    c.tws = variant != 3;
    Generator gen(7 + variant);
    Mqa m(c, gen);
    m.eval();
    NoGradGuard ng;
    Generator g(11);
    Tensor img = m.encode_images(images(g));
    Tensor rq = m.encode_question(questions());
    Tensor teacher = log_softmax(m.logits(rq, img, answer_inputs()), -1);  // [2, 3, V]
    MqaAnswerer answerer(m, rq, img);
    DecoderState s = answerer.initial_state();
    const auto in = answer_inputs().to_vector<int64_t>();
    for (int64_t t = 0; t < 3; ++t) {
      Tensor ids = Tensor::from_vector(std::vector<int64_t>{in[t], in[3 + t]});
      const auto step = log_softmax(answerer.step_logits(ids, s), -1).contiguous().to_vector<float>();
      const auto want = select(teacher, 1, t).contiguous().to_vector<float>();
      REQUIRE(step.size() == want.size());
      for (size_t i = 0; i < step.size(); ++i) CHECK(step[i] == Approx(want[i]).epsilon(1e-5).margin(1e-6));
    }
    // The decoders run on it (beam rows reorder every state tensor).
    DecodeOptions opt;
    opt.max_length = 4;
    CHECK(greedy_decode(answerer, opt).size() == 2);
    opt.beam_size = 3;
    CHECK(beam_decode(answerer, opt).size() == 2);
  }
}

TEST_CASE("mQA: config.json round trip and bad fields", "[mqa]") {
  MqaConfig c = small_config();
  c.avg_question = true;
  c.answers = "sentence";
  const MqaConfig d = MqaConfig::from_json(c.to_json(), "cfg");
  CHECK(d.to_json() == c.to_json());
  CHECK_THROWS_WITH(MqaConfig::from_json("{\"model\": \"m-rnn\", \"vocab\": 10}", "x.json"),
                    Catch::Contains("x.json: field 'model' must be \"mqa\""));
  CHECK_THROWS_WITH(MqaConfig::from_json("{\"model\": \"mqa\", \"vocab\": 10, \"answers\": \"essay\"}", "x.json"),
                    Catch::Contains("'answers'"));
  CHECK_THROWS_WITH(MqaConfig::from_json("{\"model\": \"mqa\", \"vocab\": 10, \"same_lstm\": true, \"avg_question\": true}", "x.json"),
                    Catch::Contains("avg_question"));
}
