// mQA on precomputed image features: the config records the input, the model has no CNN and
// normalises each feature row as it does the CNN's output, load_mqa_split gives each question its
// image's row (by image id, through the ids file), and bad ids files are refused naming the line.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/autograd.h"
#include "data/npy.h"
#include "data/raw_array_tensor.h"
#include "kernels/ops.h"
#include "models/mqa/mqa.h"
#include "models/mqa/mqa_data.h"

using namespace mrnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

MqaConfig features_config() {
  MqaConfig c;
  c.vocab = 12;
  c.embed = 6;
  c.lstm = 5;
  c.fusing = 7;
  c.image_input = "features";
  c.image_dim = 3;
  c.dropout = 0;
  return c;
}

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("mrnn_mqa_features_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

// Three questions about images 7, 5 and 7.
std::string questions_json() {
  return R"({"questions": [{"question_id": 1, "image_id": 7, "question": "what color is it"},
                           {"question_id": 2, "image_id": 5, "question": "how many"},
                           {"question_id": 3, "image_id": 7, "question": "is there a cat"}]})";
}
std::string annotations_json() {
  return R"({"annotations": [
    {"question_id": 1, "image_id": 7, "multiple_choice_answer": "red", "answers": [{"answer": "red"}]},
    {"question_id": 2, "image_id": 5, "multiple_choice_answer": "two", "answers": [{"answer": "two"}]},
    {"question_id": 3, "image_id": 7, "multiple_choice_answer": "no", "answers": [{"answer": "no"}]}]})";
}

}  // namespace

TEST_CASE("mQA features: config round trip, no CNN, rows normalised to norm sqrt(D), wrong shapes refused", "[mqa]") {
  const MqaConfig c = features_config();
  CHECK(c.to_json().find("\"image_input\": \"features\"") != std::string::npos);
  CHECK(MqaConfig::from_json(c.to_json(), "config.json").image_input == "features");
  CHECK(MqaConfig().to_json().find("image_input") == std::string::npos);  // cnn: not written, as before
  CHECK_THROWS_WITH(MqaConfig::from_json(R"({"model": "mqa", "vocab": 12, "image_input": "pixels"})", "m/config.json"),
                    Contains("m/config.json") && Contains("image_input"));
  Generator g(3);
  Mqa m(c, g);
  for (const auto& [name, t] : m.named_parameters()) CHECK(name.rfind("cnn.", 0) != 0);
  Tensor f = Tensor::from_vector(std::vector<float>{3, 0, 4, 0, 0.5f, 0}, {2, 3});
  const std::vector<float> i = m.encode_images(f).to_vector<float>();
  for (int r = 0; r < 2; ++r) {
    const double n = std::sqrt(i[r * 3] * i[r * 3] + i[r * 3 + 1] * i[r * 3 + 1] + i[r * 3 + 2] * i[r * 3 + 2]);
    CHECK(n == Approx(std::sqrt(3.0)).epsilon(1e-5));
  }
  CHECK(i[0] / i[2] == Approx(3.0 / 4.0));  // the direction is the feature's
  CHECK_THROWS_WITH(m.encode_images(Tensor::zeros({2, 3, 8, 8})), Contains("expected image features [B, 3]"));
  CHECK_THROWS_WITH(m.encode_images(Tensor::zeros({2, 4})), Contains("expected image features [B, 3]"));
}

TEST_CASE("mQA features: each question gets its image's row by id, distinct images in first-use order", "[mqa]") {
  Scratch s;
  const std::string q = s.write("q.json", questions_json()), a = s.write("a.json", annotations_json());
  // Rows: image 5, image 9 (unused), image 7.
  write_npy((s.dir / "f.npy").string(),
            to_raw_array(Tensor::from_vector(std::vector<float>{1, 1, 1, 2, 2, 2, 3, 3, 3}, {3, 3})));
  MqaDataOptions o;
  o.features = (s.dir / "f.npy").string();
  o.feature_ids = s.write("ids.txt", "5\n9\n7\n");
  const MqaSplit split = load_mqa_split(q, a, o);
  REQUIRE(split.images.shape() == Shape{2, 3});
  CHECK(split.image_row == std::vector<int64_t>{0, 1, 0});
  CHECK(split.images.to_vector<float>() == std::vector<float>{3, 3, 3, 1, 1, 1});  // image 7, then image 5

  MqaDataOptions bad = o;
  bad.feature_ids = s.write("short.txt", "5\n9\n");
  CHECK_THROWS_WITH(load_mqa_split(q, a, bad), Contains("f.npy") && Contains("expected features [2 rows"));
  bad.feature_ids = s.write("missing.txt", "5\n9\n8\n");
  CHECK_THROWS_WITH(load_mqa_split(q, a, bad), Contains("question 1: its image 7 has no row in"));
  bad.feature_ids = s.write("word.txt", "5\nseven\n7\n");
  CHECK_THROWS_WITH(load_mqa_split(q, a, bad), Contains("word.txt:2: expected an image id"));
  bad.feature_ids = s.write("twice.txt", "5\n7\n7\n");
  CHECK_THROWS_WITH(load_mqa_split(q, a, bad), Contains("twice.txt:3: image id 7 is given twice"));
  bad.feature_ids = s.write("gap.txt", "5\n\n7\n");
  CHECK_THROWS_WITH(load_mqa_split(q, a, bad), Contains("gap.txt:2: an empty line"));
  bad = o;
  bad.images_dir = s.dir.string();
  CHECK_THROWS_WITH(load_mqa_split(q, a, bad), Contains("not both"));
  bad = o;
  bad.feature_ids.clear();
  CHECK_THROWS_WITH(load_mqa_split(q, a, bad), Contains("give both a features file and its feature ids"));
}
