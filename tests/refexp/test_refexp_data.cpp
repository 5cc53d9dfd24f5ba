// The refexp data (models/refexp/refexp_data.h) on a hand-written Google-Refexp file with two
// images written here: examples, candidates, crop pixels, teacher-forcing tensors, the negative
// sampler, and each refusal (box outside the image or without area, unknown image, missing
// expression, image size mismatch); the same split from precomputed features and their keys.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "core/error.h"
#include "data/image.h"
#include "data/npy.h"
#include "data/raw_array_tensor.h"
#include "models/refexp/refexp_data.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

// Each test case its own folder: ctest may run them in parallel.
std::string temp_dir(const std::string& name) {
  const std::string d = (std::filesystem::temp_directory_path() / ("mrnn_refexp_data_test_" + name)).string();
  std::filesystem::create_directories(d);
  return d;
}

// Image 1: 40 x 20, black with a red 10 x 10 square at (5, 5) and a green one at (25, 5).
// Image 2: 20 x 20, all blue.
void write_images(const std::string& dir) {
  Image a;
  a.width = 40;
  a.height = 20;
  a.rgb.assign(40 * 20 * 3, 0);
  for (int y = 5; y < 15; ++y)
    for (int x = 5; x < 15; ++x) {
      a.rgb[(y * 40 + x) * 3 + 0] = 255;
      a.rgb[(y * 40 + x + 20) * 3 + 1] = 255;
    }
  save_png(dir + "/a.png", a);
  Image b;
  b.width = b.height = 20;
  b.rgb.assign(20 * 20 * 3, 0);
  for (int i = 0; i < 400; ++i) b.rgb[i * 3 + 2] = 255;
  save_png(dir + "/b.png", b);
}

std::string file_text(const std::string& box7 = "[5, 5, 10, 10]", const std::string& image9 = "1",
                      const std::string& refs9 = "[3]") {
  return R"({"images": {"1": {"file_name": "a.png", "width": 40, "height": 20,
                  "region_candidates": [{"bounding_box": [4, 4, 12, 12]}, {"bounding_box": [0, 0, 40, 20]}]},
                "2": {"file_name": "b.png"}},
     "annotations": {"7": {"image_id": 1, "bbox": )" + box7 + R"(, "refexp_ids": [1, 2]},
                     "9": {"image_id": )" + image9 + R"(, "bbox": [25, 5, 10, 10], "refexp_ids": )" + refs9 + R"(},
                     "11": {"image_id": 2, "bbox": [0, 0, 20, 20], "refexp_ids": [4]}},
     "refexps": {"1": {"tokens": ["the", "red", "square"]}, "2": {"tokens": ["the", "left", "one"]},
                 "3": {"tokens": ["the", "green", "square"]}, "4": {"tokens": ["blue"]}}})";
}

std::string write_file(const std::string& dir, const std::string& text) {
  const std::string p = dir + "/refexp.json";
  std::ofstream(p) << text;
  return p;
}

std::string error_of(const std::string& path, const RefexpDataOptions& o) {
  try {
    load_refexp_split(path, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("refexp data: examples, candidates and crops", "[refexp]") {
  const std::string dir = temp_dir("load");
  write_images(dir);
  RefexpDataOptions o;
  o.images_dir = dir;
  o.image_size = 8;
  RefexpSplit s = load_refexp_split(write_file(dir, file_text()), o);
  REQUIRE(s.size() == 4);
  CHECK(s.refexp_ids == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(s.annotation_ids == std::vector<int64_t>{7, 7, 9, 11});
  CHECK(s.image_index == std::vector<int64_t>{0, 0, 0, 1});
  CHECK(s.gt_index == std::vector<int64_t>{0, 0, 1, 0});
  REQUIRE(s.images.size() == 2);
  CHECK(s.images[0].annotation_ids == std::vector<int64_t>{7, 9});
  CHECK(s.images[0].proposals.size() == 2);
  CHECK(s.images[1].proposals.empty());
  CHECK(s.images[1].width == 20);  // from the decoded file: the JSON has no size
  // Rows: image 1's 2 GT boxes, its 2 proposals, then image 2's GT box.
  CHECK(candidate_rows(s, 0, false) == std::vector<int64_t>{0, 1});
  CHECK(candidate_rows(s, 0, true) == std::vector<int64_t>{2, 3});
  CHECK(candidate_rows(s, 1, false) == std::vector<int64_t>{4});
  REQUIRE(s.crops.shape() == Shape{5, 3, 8, 8});
  REQUIRE(s.whole.shape() == Shape{2, 3, 8, 8});
  // The red square's crop is red everywhere: R = (1 - 0.5) / 0.25 = 2, G = B = -2.
  const auto c = s.crops.contiguous().to_vector<float>();
  for (int i = 0; i < 64; ++i) {
    REQUIRE(c[i] == Approx(2.0));
    REQUIRE(c[64 + i] == Approx(-2.0));
    REQUIRE(c[3 * 64 + 64 + i] == Approx(2.0));  // the green square: G channel of row 1
  }
  // Teacher forcing.
  Vocab v = build_refexp_vocab(s, 1);
  encode_refexp_split(s, v);
  Tensor in, out;
  expression_tensors(s, {3, 0}, &in, &out);
  REQUIRE(in.shape() == Shape{2, 4});
  const auto iv = in.to_vector<int64_t>(), ov = out.to_vector<int64_t>();
  CHECK(iv[0] == kBosId);
  CHECK(iv[1] == v.id("blue"));
  CHECK(iv[2] == kPadId);
  CHECK(ov[0] == v.id("blue"));
  CHECK(ov[1] == kEosId);
  CHECK(ov[4 + 3] == kEosId);
  CHECK(iv[4 + 3] == v.id("square"));
}

TEST_CASE("refexp data: the negative sampler", "[refexp]") {
  RefexpSplit s;
  s.images.resize(2);
  s.images[0].gt_boxes.resize(4);
  s.images[1].gt_boxes.resize(1);
  s.image_index = {0, 0, 1};
  s.gt_index = {2, 0, 0};
  s.refexp_ids = {1, 2, 3};
  std::set<int64_t> seen;
  for (int64_t epoch = 0; epoch < 40; ++epoch) {
    const int64_t k = sample_negative(s, 0, 7, epoch);
    CHECK(k != 2);
    CHECK(k >= 0);
    CHECK(k < 4);
    CHECK(k == sample_negative(s, 0, 7, epoch));  // the same for the same (seed, epoch, example)
    seen.insert(k);
  }
  CHECK(seen == std::set<int64_t>{0, 1, 3});
  CHECK(sample_negative(s, 2, 7, 0) == -1);
}

TEST_CASE("refexp data: refusals name the file, the field and the rule", "[refexp]") {
  const std::string dir = temp_dir("refuse");
  write_images(dir);
  RefexpDataOptions o;
  o.images_dir = dir;
  o.image_size = 8;
  std::string e = error_of(write_file(dir, file_text("[35, 5, 10, 10]")), o);
  CHECK(e.find("annotations.7.bbox") != std::string::npos);
  CHECK(e.find("outside") != std::string::npos);
  e = error_of(write_file(dir, file_text("[5, 5, 0, 10]")), o);
  CHECK(e.find("annotations.7.bbox") != std::string::npos);
  CHECK(e.find("positive width and height") != std::string::npos);
  e = error_of(write_file(dir, file_text("[5, 5, 10, 10]", "5")), o);
  CHECK(e.find("annotations.9") != std::string::npos);
  CHECK(e.find("5") != std::string::npos);
  e = error_of(write_file(dir, file_text("[5, 5, 10, 10]", "1", "[3, 8]")), o);
  CHECK(e.find("annotations.9") != std::string::npos);
  CHECK(e.find("8") != std::string::npos);
  std::string t = file_text();
  t.replace(t.find("\"width\": 40"), 11, "\"width\": 41");
  e = error_of(write_file(dir, t), o);
  CHECK(e.find("images.1") != std::string::npos);
  CHECK(e.find("41 x 20") != std::string::npos);
  o.images_dir = dir + "/none";
  e = error_of(write_file(dir, file_text()), o);
  CHECK(e.find("not a folder") != std::string::npos);
}

TEST_CASE("refexp data from precomputed features: rows by key, GT then candidates, images by id, refusals",
          "[refexp]") {
  const std::string dir = temp_dir("features");
  // Image 2 needs a size from the JSON when no pixels are read.
  std::string text = file_text();
  const std::string from = R"("2": {"file_name": "b.png"})";
  text.replace(text.find(from), from.size(), R"("2": {"file_name": "b.png", "width": 20, "height": 20})");
  const std::string path = write_file(dir, text);
  auto write = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir + "/" + name) << body;
    return dir + "/" + name;
  };
  // Region row r holds the value 10 + r in both columns; image row r holds 100 + r.
  auto matrix = [](int rows, float base) {
    std::vector<float> v;
    for (int r = 0; r < rows; ++r) v.insert(v.end(), {base + r, base + r});
    return to_raw_array(Tensor::from_vector(v, {rows, 2}));
  };
  write_npy(dir + "/r.npy", matrix(5, 10));
  write_npy(dir + "/i.npy", matrix(2, 100));
  RefexpDataOptions o;
  o.region_features = dir + "/r.npy";
  o.region_keys = write("r.txt", "cand 1 1\nann 9\nann 11\nann 7\ncand 1 0\n");
  o.image_features = dir + "/i.npy";
  o.image_ids = write("i.txt", "2\n1\n");
  const RefexpSplit s = load_refexp_split(path, o);
  REQUIRE(s.crops.shape() == Shape{5, 2});
  // Image 1: GT 7 (row 3), GT 9 (row 1), candidates 0 (row 4) and 1 (row 0); image 2: GT 11 (row 2).
  std::vector<float> col;
  for (int r = 0; r < 5; ++r) col.push_back(s.crops.to_vector<float>()[r * 2]);
  CHECK(col == std::vector<float>{13, 11, 14, 10, 12});
  CHECK(s.whole.to_vector<float>() == std::vector<float>{101, 101, 100, 100});
  CHECK(s.has_pixels());
  CHECK(candidate_rows(s, 0, true) == std::vector<int64_t>{2, 3});

  RefexpDataOptions bad = o;
  bad.region_keys = write("twice.txt", "cand 1 1\nann 9\nann 9\nann 7\ncand 1 0\n");
  CHECK_THROWS_WITH(load_refexp_split(path, bad), Contains("twice.txt:3") && Contains("named already"));
  bad.region_keys = write("word.txt", "cand 1 1\nobject 9\nann 11\nann 7\ncand 1 0\n");
  CHECK_THROWS_WITH(load_refexp_split(path, bad), Contains("word.txt:2: expected \"ann <annotation_id>\""));
  bad.region_keys = write("nocand.txt", "cand 1 1\nann 9\nann 11\nann 7\nann 12\n");
  CHECK_THROWS_WITH(load_refexp_split(path, bad), Contains("region candidate 0 of image 1 has no row"));
  bad = o;
  bad.image_ids = write("noimg.txt", "2\n5\n");
  CHECK_THROWS_WITH(load_refexp_split(path, bad), Contains("image 1 has no row in"));
  bad = o;
  write_npy(dir + "/i3.npy", to_raw_array(Tensor::zeros({2, 3})));
  bad.image_features = dir + "/i3.npy";
  CHECK_THROWS_WITH(load_refexp_split(path, bad), Contains("must have one width"));
  bad = o;
  bad.image_ids.clear();
  CHECK_THROWS_WITH(load_refexp_split(path, bad), Contains("together, or none"));
  bad = o;
  bad.images_dir = dir;
  CHECK_THROWS_WITH(load_refexp_split(path, bad), Contains("not both"));
  // Without pixels the JSON must give each image's size.
  CHECK_THROWS_WITH(load_refexp_split(write_file(dir, file_text()), o), Contains("images.2: no \"width\""));
}
