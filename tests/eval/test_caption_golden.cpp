// BLEU / ROUGE-L / CIDEr-D against golden values written by pycocoevalcap itself
// (tests/fixtures/eval/make_golden.py -> golden_captions.json).
// Tolerance: |ours - reference| <= 1e-9 * max(1, |reference|), i.e. absolute for scores below 1
// (BLEU, ROUGE-L, most CIDEr-D values) and relative above.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "eval/bleu.h"
#include "eval/caption_eval.h"
#include "eval/cider.h"
#include "eval/rouge.h"

using namespace mrnn::eval;

namespace {

struct Golden {
  nlohmann::json json;
  CaptionMap refs, results;
  std::vector<std::string> ids;
};

const Golden& golden() {
  static const Golden g = [] {
    Golden out;
    std::ifstream in(std::string(MRNN_TEST_DATA_DIR) + "/eval/golden_captions.json");
    REQUIRE(in.good());
    out.json = nlohmann::json::parse(in);
    out.ids = out.json.at("image_ids").get<std::vector<std::string>>();
    out.refs = out.json.at("refs").get<CaptionMap>();
    out.results = out.json.at("results").get<CaptionMap>();
    return out;
  }();
  return g;
}

bool close(double ours, double ref) { return std::fabs(ours - ref) <= 1e-9 * std::max(1.0, std::fabs(ref)); }

void expect_close(double ours, double ref, const std::string& what) {
  INFO(what << ": ours " << ours << " reference " << ref);
  CHECK(close(ours, ref));
}

}  // namespace

TEST_CASE("golden inputs cover the intended cases", "[eval][golden]") {
  const Golden& g = golden();
  REQUIRE(g.ids.size() >= 300);
  REQUIRE(g.ids == std::vector<std::string>(g.ids.begin(), g.ids.end()));
  size_t one_word = 0, min_refs = 99, max_refs = 0;
  for (const auto& [id, hyp] : g.results) {
    one_word += hyp.front().find(' ') == std::string::npos;
    min_refs = std::min(min_refs, g.refs.at(id).size());
    max_refs = std::max(max_refs, g.refs.at(id).size());
  }
  CHECK(one_word >= 10);
  CHECK(min_refs == 1);
  CHECK(max_refs == 7);
}

TEST_CASE("BLEU matches pycocoevalcap on the golden set", "[eval][golden][bleu]") {
  const Golden& g = golden();
  const BleuScore s = bleu(g.refs, g.results);
  REQUIRE(s.image_ids == g.ids);
  const auto& corpus = g.json.at("bleu").at("corpus");
  for (int k = 0; k < 4; ++k) expect_close(s.corpus[k], corpus.at(k).get<double>(), "corpus BLEU-" + std::to_string(k + 1));
  const auto& per = g.json.at("bleu").at("per_image");
  REQUIRE(per.size() == s.per_image.size());
  for (size_t i = 0; i < per.size(); ++i)
    for (int k = 0; k < 4; ++k)
      expect_close(s.per_image[i][k], per.at(i).at(k).get<double>(), g.ids[i] + " BLEU-" + std::to_string(k + 1));
}

TEST_CASE("ROUGE-L matches pycocoevalcap on the golden set", "[eval][golden][rouge]") {
  const Golden& g = golden();
  const RougeScore s = rouge_l(g.refs, g.results);
  REQUIRE(s.image_ids == g.ids);
  expect_close(s.corpus, g.json.at("rouge_l").at("corpus").get<double>(), "corpus ROUGE-L");
  const auto& per = g.json.at("rouge_l").at("per_image");
  REQUIRE(per.size() == s.per_image.size());
  for (size_t i = 0; i < per.size(); ++i) expect_close(s.per_image[i], per.at(i).get<double>(), g.ids[i]);
}

TEST_CASE("CIDEr-D matches pycocoevalcap on the golden set", "[eval][golden][cider]") {
  const Golden& g = golden();
  const CiderScore s = cider_d(g.refs, g.results);
  REQUIRE(s.image_ids == g.ids);
  expect_close(s.corpus, g.json.at("cider_d").at("corpus").get<double>(), "corpus CIDEr-D");
  const auto& per = g.json.at("cider_d").at("per_image");
  REQUIRE(per.size() == s.per_image.size());
  for (size_t i = 0; i < per.size(); ++i) expect_close(s.per_image[i], per.at(i).get<double>(), g.ids[i]);
}
