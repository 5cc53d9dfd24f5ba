// The m-RNN decoders give the same words (and, to f32 rounding, the same scores) they gave before the generic step decoder
// (models/engine/step_decoder.h) replaced them: greedy, beam 3, beam 5 with length penalty and
// trigram blocking, and two kinds of sampling, for small random ReLU, LSTM and GRU m-RNNs. The
// expected values were recorded from models/mrnn/decoding.cpp at commit 40a8e60 (before the refactor);
// MRNN_RECORD_GOLDEN=1 prints the table again in the form below.
#include <algorithm>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "models/mrnn/decoding.h"
#include "tests/support/small_mrnn.h"

using namespace mrnn;
using namespace mrnn::testing;





namespace {

struct Golden {
  const char* run;  // "<rnn>/<decoder>"
  int image;
  std::vector<int64_t> ids;
  double log_prob, score;
};

// Every decoder run of one model: (name, captions).
std::vector<std::pair<std::string, std::vector<Caption>>> decode_all(const std::string& rnn, bool tws) {
  Generator g(61);
  Mrnn model(small_decoding_config(rnn, tws, 40), g);
  model.eval();
  {
    // Larger weights and a milder output bias than shift_eos's: captions that differ per image
    // and per decoder, of several lengths.
    NoGradGuard ng;
    for (auto& [name, t] : model.named_parameters()) {
      if (name == "output.bias") {
        Generator gb(5);
        std::vector<float> b = Tensor::randn({t.size(0)}, gb).to_vector<float>();
        b[kEosId] = 1.5f;
        t.copy_(Tensor::from_vector(b));
      } else {
        t.copy_(mul_scalar(t, 3.0));
      }
    }
  }
  Tensor feats = Tensor::randn({4, 10}, g);
  std::vector<std::pair<std::string, std::vector<Caption>>> out;
  DecodeOptions opt;
  opt.max_length = 8;
  out.emplace_back(rnn + "/greedy", greedy_captions(model, feats, opt));
  opt.beam_size = 3;
  out.emplace_back(rnn + "/beam3", beam_search_captions(model, feats, opt));
  opt.beam_size = 5;
  opt.length_penalty = 0.7;
  opt.block_trigrams = true;
  out.emplace_back(rnn + "/beam5_lp_tri", beam_search_captions(model, feats, opt));
  DecodeOptions so;
  so.max_length = 8;
  so.temperature = 0.8;
  so.top_k = 10;
  Generator gs(7);
  out.emplace_back(rnn + "/sample_t08_k10", sample_captions(model, feats, so, gs));
  so.temperature = 1.0;
  so.top_k = 0;
  out.emplace_back(rnn + "/sample_t1", sample_captions(model, feats, so, gs));
  return out;
}

const std::vector<Golden>& golden();

}  // namespace

TEST_CASE("m-RNN decoders give the captions recorded before the generic decoder", "[decode][mrnn]") {
  const bool record = std::getenv("MRNN_RECORD_GOLDEN") != nullptr;
  size_t n = 0, short_ones = 0;
  for (auto [rnn, tws] : {std::pair<std::string, bool>{"relu", true}, {"lstm", false}, {"gru", true}}) {
    for (const auto& [run, caps] : decode_all(rnn, tws)) {
      for (size_t i = 0; i < caps.size(); ++i) {
        const Caption& c = caps[i];
        if (record) {
          std::printf("    {\"%s\", %zu, {", run.c_str(), i);
          for (size_t j = 0; j < c.ids.size(); ++j) std::printf("%s%lld", j ? ", " : "", static_cast<long long>(c.ids[j]));
          std::printf("}, %.17g, %.17g},\n", c.log_prob, c.score);
          continue;
        }
        INFO(run << " image " << i);
        REQUIRE(n < golden().size());
        const Golden& want = golden()[n++];
        REQUIRE(run == want.run);
        REQUIRE(static_cast<int>(i) == want.image);
        CHECK(c.ids == want.ids);
        // Words exactly; f32 log-probabilities to rounding: the recorded values came from one
        // OpenBLAS sgemm kernel, and another CPU's kernel sums in another order (seen: 2e-7).
        CHECK(std::fabs(c.log_prob - want.log_prob) <= 1e-5 * std::max(1.0, std::fabs(want.log_prob)));
        CHECK(std::fabs(c.score - want.score) <= 1e-5 * std::max(1.0, std::fabs(want.score)));
        short_ones += c.ids.size() < 8;
      }
    }
  }
  if (!record) {
    CHECK(n == golden().size());
    CHECK(short_ones > 10);  // captions of several lengths, not only full-length ones
  }
}

namespace {
const std::vector<Golden>& golden() {
  static const std::vector<Golden> g = {
    {"relu/greedy", 0, {12, 34, 34, 34, 34, 34, 34, 34}, -16.660783866330188, -16.660783866330188},
    {"relu/greedy", 1, {34, 34, 34, 34, 34, 34, 34, 34}, -15.127155635770533, -15.127155635770533},
    {"relu/greedy", 2, {37, 34, 34, 34, 34, 34, 34, 34}, -16.948432216869094, -16.948432216869094},
    {"relu/greedy", 3, {23, 34, 34, 34, 34, 34, 34, 34}, -18.402954533244589, -18.402954533244589},
    {"relu/beam3", 0, {12, 34, 34, 34, 34, 12, 34, 34}, -16.626223416067539, -16.626223416067539},
    {"relu/beam3", 1, {}, -2.6924532189240775, -2.6924532189240775},
    {"relu/beam3", 2, {37, 34, 34, 34, 34, 34, 34, 34}, -16.948432216869101, -16.948432216869101},
    {"relu/beam3", 3, {34, 34, 34, 34, 34, 34, 34, 34}, -18.161815708751458, -18.161815708751458},
    {"relu/beam5_lp_tri", 0, {12, 34, 12, 34, 34, 12, 12, 34}, -16.619964672037526, -3.5699352545981289},
    {"relu/beam5_lp_tri", 1, {}, -2.6924532189240775, -2.6924532189240775},
    {"relu/beam5_lp_tri", 2, {34, 34, 34, 37, 34, 34, 23, 34}, -18.193735469777916, -3.9079780822680914},
    {"relu/beam5_lp_tri", 3, {23, 34, 23, 34, 34, 34, 12, 34}, -18.751902450526092, -4.0278712361854412},
    {"relu/sample_t08_k10", 0, {11, 34, 34, 10, 34, 33, 12, 34}, -22.288518958842324, -22.288518958842324},
    {"relu/sample_t08_k10", 1, {34, 12, 23, 34, 34, 12, 12, 8}, -22.929220007692066, -22.929220007692066},
    {"relu/sample_t08_k10", 2, {34, 34, 34, 37, 23, 16, 23, 34}, -19.648101058574753, -19.648101058574753},
    {"relu/sample_t08_k10", 3, {23, 34, 31, 16, 34, 37, 34}, -20.081988648475768, -20.081988648475768},
    {"relu/sample_t1", 0, {31, 14, 12, 24, 34, 37, 15, 34}, -27.884491063542175, -27.884491063542175},
    {"relu/sample_t1", 1, {37, 25, 34, 34, 22, 10, 39, 34}, -28.441916031263315, -28.441916031263315},
    {"relu/sample_t1", 2, {28, 33, 12, 23, 28, 23, 37, 37}, -26.725405187127691, -26.725405187127691},
    {"relu/sample_t1", 3, {22, 23, 37, 23, 12, 32}, -22.1816565436411, -22.1816565436411},
    {"lstm/greedy", 0, {4, 4, 4, 4, 4, 4, 4, 4}, -14.541877150500593, -14.541877150500593},
    {"lstm/greedy", 1, {11, 11, 11, 11, 11, 11, 11, 11}, -13.342474308150059, -13.342474308150059},
    {"lstm/greedy", 2, {12, 21, 21, 21, 21, 21, 21, 21}, -14.6480469763719, -14.6480469763719},
    {"lstm/greedy", 3, {33, 30, 30, 30, 30, 30, 30, 30}, -16.570332419619497, -16.570332419619497},
    {"lstm/beam3", 0, {4, 4, 4, 4, 4, 4, 4, 4}, -14.541877150500593, -14.541877150500593},
    {"lstm/beam3", 1, {11, 11, 11, 11, 11, 11, 11, 11}, -13.342474308150063, -13.342474308150063},
    {"lstm/beam3", 2, {}, -1.8032160844174108, -1.8032160844174108},
    {"lstm/beam3", 3, {33, 30, 30, 30, 30, 30, 30, 30}, -16.570332419619497, -16.570332419619497},
    {"lstm/beam5_lp_tri", 0, {4, 11, 4, 4, 4, 39, 4, 4}, -16.155665019638764, -3.4702046155442017},
    {"lstm/beam5_lp_tri", 1, {11, 11, 11, 29, 11, 29, 29, 11}, -14.840693628205914, -3.1877513840423215},
    {"lstm/beam5_lp_tri", 2, {}, -1.8032160844174108, -1.8032160844174108},
    {"lstm/beam5_lp_tri", 3, {}, -2.6690922122689589, -2.6690922122689589},
    {"lstm/sample_t08_k10", 0, {9, 4, 4, 4, 4, 31, 4, 4}, -19.502458178117489, -19.502458178117489},
    {"lstm/sample_t08_k10", 1, {11, 31, 11, 4, 11, 11, 29, 4}, -19.822101672707582, -19.822101672707582},
    {"lstm/sample_t08_k10", 2, {}, -1.8032160844174108, -1.8032160844174108},
    {"lstm/sample_t08_k10", 3, {33, 33, 35}, -9.8470253102429552, -9.8470253102429552},
    {"lstm/sample_t1", 0, {11, 11, 39, 39, 28, 39, 17, 9}, -25.955139617603287, -25.955139617603287},
    {"lstm/sample_t1", 1, {29}, -4.9549003540196459, -4.9549003540196459},
    {"lstm/sample_t1", 2, {33}, -3.8868641402769635, -3.8868641402769635},
    {"lstm/sample_t1", 3, {21, 21}, -7.919447195835474, -7.919447195835474},
    {"gru/greedy", 0, {}, -2.0296349237679454, -2.0296349237679454},
    {"gru/greedy", 1, {34, 34, 34, 34, 34, 34, 34, 34}, -15.14686478168298, -15.14686478168298},
    {"gru/greedy", 2, {11, 12, 12, 12, 12, 12, 12, 12}, -18.334263544935169, -18.334263544935169},
    {"gru/greedy", 3, {23, 23, 23, 23, 23, 23, 23, 23}, -15.933066675107861, -15.933066675107861},
    {"gru/beam3", 0, {}, -2.0296349237679454, -2.0296349237679454},
    {"gru/beam3", 1, {34, 34, 34, 34, 34, 34, 34, 34}, -15.14686478168298, -15.14686478168298},
    {"gru/beam3", 2, {}, -2.4085870818738613, -2.4085870818738613},
    {"gru/beam3", 3, {}, -2.604998085774576, -2.604998085774576},
    {"gru/beam5_lp_tri", 0, {}, -2.0296349237679454, -2.0296349237679454},
    {"gru/beam5_lp_tri", 1, {34, 12, 34, 34, 34, 12, 12, 34}, -17.121753502095572, -3.6777184942220771},
    {"gru/beam5_lp_tri", 2, {}, -2.4085870818738613, -2.4085870818738613},
    {"gru/beam5_lp_tri", 3, {}, -2.604998085774576, -2.604998085774576},
    {"gru/sample_t08_k10", 0, {25, 23}, -7.2988703339043619, -7.2988703339043619},
    {"gru/sample_t08_k10", 1, {34, 23, 34, 37, 34, 11, 28, 34}, -21.909521477568774, -21.909521477568774},
    {"gru/sample_t08_k10", 2, {}, -2.4085870818738613, -2.4085870818738613},
    {"gru/sample_t08_k10", 3, {23}, -4.2475404248400128, -4.2475404248400128},
    {"gru/sample_t1", 0, {11, 25, 23, 30, 23}, -14.220831270537825, -14.220831270537825},
    {"gru/sample_t1", 1, {37}, -5.9787505974780748, -5.9787505974780748},
    {"gru/sample_t1", 2, {}, -2.4085870818738613, -2.4085870818738613},
    {"gru/sample_t1", 3, {15, 33, 34, 23}, -14.077138557260481, -14.077138557260481},
  };
  return g;
}
}  // namespace
