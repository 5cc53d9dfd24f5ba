// ShapesWorld files: determinism (byte-identical across runs and thread counts), the exact JSON
// structure of each public format, consistency of the files with the scenes, novel/base separation.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/shapes_language.h"
#include "data/shapes_render.h"
#include "data/shapes_world.h"
#include "shapes_semantics.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace mrnn;

namespace {

// A fresh temporary folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("mrnn_shapes_" + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

ShapesWorldOptions small_options() {
  ShapesWorldOptions o;
  o.seed = 9;
  o.n_train = 12;
  o.n_val = 4;
  o.n_test = 4;
  o.n_novel = 6;
  return o;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

json load(const fs::path& p) { return json::parse(read_file(p)); }

// Every regular file under `root`, relative path → contents.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = read_file(e.path());
  return out;
}

std::set<std::string> keys(const json& j) {
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
  return out;
}

bool is_box(const json& b, int w, int h) {
  if (!b.is_array() || b.size() != 4) return false;
  for (const json& v : b)
    if (!v.is_number_integer()) return false;
  int x = b[0], y = b[1], bw = b[2], bh = b[3];
  return x >= 0 && y >= 0 && bw > 0 && bh > 0 && x + bw <= w && y + bh <= h;
}

const std::set<std::string> kNovelWords = {"star", "stars", "hexagon", "hexagons"};

bool mentions_novel(const std::string& text) {
  for (const std::string& w : shapes::words_of(text))
    if (kNovelWords.count(w)) return true;
  return false;
}

}  // namespace

TEST_CASE("generate_shapes_world is deterministic: same options give byte-identical files") {
  TempDir a("det_a"), b("det_b"), c("det_c");
  ShapesWorldOptions o = small_options();
  o.threads = 1;
  ShapesWorldSummary sa = generate_shapes_world(o, a.path.string());
  o.threads = 2;
  generate_shapes_world(o, b.path.string());
  auto fa = snapshot(a.path), fb = snapshot(b.path);
  CHECK(fa.size() == 26 + 17);  // images + 16 JSON files + the related-phrase TSV
  REQUIRE(fa.size() == fb.size());
  for (const auto& [name, bytes] : fa) {
    INFO(name);
    REQUIRE(fb.count(name) == 1);
    CHECK(fb[name] == bytes);
    CHECK(name.find(".tmp") == std::string::npos);
  }
  o.seed = 10;
  generate_shapes_world(o, c.path.string());
  auto fc = snapshot(c.path);
  CHECK(fc["dataset_shapes.json"] != fa["dataset_shapes.json"]);
  CHECK(fc["images/shapes_000000.png"] != fa["images/shapes_000000.png"]);
  // Summary.
  CHECK(sa.images == std::array<int, 4>{12, 4, 4, 6});
  CHECK(sa.captions == 26 * 5);
  CHECK(sa.questions == 26 * 5);
  CHECK(sa.refexps > 26);
  CHECK(sa.vocabulary_size == static_cast<int>(shapes::shapes_vocabulary().size()));
  CHECK(sa.files.size() == 17);
  for (const std::string& f : sa.files) CHECK(fa.count(f) == 1);
  // A split's images do not depend on the other splits' sizes.
  ShapesWorldOptions o2 = small_options();
  o2.n_train = 3;
  CHECK(make_shapes_image(o2, ShapesSplit::val, 1).captions == make_shapes_image(small_options(), ShapesSplit::val, 1).captions);
  CHECK(make_shapes_image(o2, ShapesSplit::val, 1).image_id == 4);
}

TEST_CASE("files match the scenes: PNG pixels, captions, questions") {
  TempDir d("match");
  const ShapesWorldOptions o = small_options();
  generate_shapes_world(o, d.path.string());
  const json karpathy = load(d.path / "dataset_shapes.json");
  const json nvc = load(d.path / "dataset_shapes_nvc.json");
  const ShapesSplit splits[] = {ShapesSplit::train, ShapesSplit::val, ShapesSplit::test, ShapesSplit::novel};
  const int sizes[] = {12, 4, 4, 6};
  int id = 0;
  for (int s = 0; s < 4; ++s) {
    for (int i = 0; i < sizes[s]; ++i, ++id) {
      ShapesImage im = make_shapes_image(o, splits[s], i);
      INFO(im.filename);
      CHECK(im.image_id == id);
      // Novel images are not in the Karpathy file (its readers know only train/val/test/restval).
      const json& entry = splits[s] == ShapesSplit::novel ? nvc["images"][i] : karpathy["images"][id];
      CHECK(entry["filename"] == im.filename);
      if (splits[s] != ShapesSplit::novel) CHECK(entry["split"] == split_name(splits[s]));
      for (int k = 0; k < 5; ++k) {
        CHECK(entry["sentences"][k]["raw"] == im.captions[k]);
        // The caption in the file is true of the scene that was drawn.
        CHECK(shapes_test::check_caption(entry["sentences"][k]["tokens"].get<std::vector<std::string>>(), im.scene) == "");
      }
      const std::string png = read_file(d.path / "images" / im.filename);
      shapes::Image img = shapes::decode_png(std::vector<uint8_t>(png.begin(), png.end()), im.filename);
      CHECK(img.rgb == shapes::render_scene(im.scene).rgb);
      const std::string split = split_name(splits[s]);
      const json ann = load(d.path / ("v2_shapes_" + split + "_annotations.json"));
      int found = 0;
      for (const json& a : ann["annotations"]) {
        if (a["image_id"] != id) continue;
        const int k = a["question_id"].get<int>() - id * 10;
        REQUIRE(k >= 0);
        REQUIRE(k < 5);
        CHECK(a["multiple_choice_answer"] == im.questions[k].answer);
        ++found;
      }
      CHECK(found == 5);
    }
  }
}

TEST_CASE("Karpathy dataset_shapes.json has exactly the dataset_flickr8k.json structure") {
  TempDir d("karpathy");
  generate_shapes_world(small_options(), d.path.string());
  const json j = load(d.path / "dataset_shapes.json");
  CHECK(keys(j) == std::set<std::string>{"images", "dataset"});
  CHECK(j["dataset"] == "shapes");
  REQUIRE(j["images"].is_array());
  REQUIRE(j["images"].size() == 20);
  std::set<int> sentids;
  std::map<std::string, int> split_count;
  const std::regex fname("shapes_[0-9]{6}\\.png");
  for (size_t i = 0; i < j["images"].size(); ++i) {
    const json& im = j["images"][i];
    CHECK(keys(im) == std::set<std::string>{"filename", "imgid", "split", "sentids", "sentences"});
    REQUIRE(im["filename"].is_string());
    CHECK(std::regex_match(im["filename"].get<std::string>(), fname));
    CHECK(fs::is_regular_file(d.path / "images" / im["filename"].get<std::string>()));
    REQUIRE(im["imgid"].is_number_integer());
    CHECK(im["imgid"] == static_cast<int>(i));
    split_count[im["split"].get<std::string>()]++;
    REQUIRE(im["sentids"].is_array());
    REQUIRE(im["sentences"].is_array());
    REQUIRE(im["sentences"].size() == 5);
    for (size_t k = 0; k < 5; ++k) {
      const json& s = im["sentences"][k];
      CHECK(keys(s) == std::set<std::string>{"tokens", "raw", "imgid", "sentid"});
      CHECK(s["raw"].is_string());
      CHECK(s["imgid"] == im["imgid"]);
      CHECK(s["sentid"] == im["sentids"][k]);
      CHECK(sentids.insert(s["sentid"].get<int>()).second);
      REQUIRE(s["tokens"].is_array());
      CHECK(!s["tokens"].empty());
      for (const json& t : s["tokens"]) {
        REQUIRE(t.is_string());
        CHECK(std::regex_match(t.get<std::string>(), std::regex("[a-z0-9]+")));
      }
      CHECK(s["tokens"].get<std::vector<std::string>>() == shapes::words_of(s["raw"].get<std::string>()));
    }
    if (im["split"] != "novel")
      for (const json& s : im["sentences"]) CHECK_FALSE(mentions_novel(s["raw"].get<std::string>()));
  }
  CHECK(split_count == std::map<std::string, int>{{"train", 12}, {"val", 4}, {"test", 4}});
}

TEST_CASE("Google Refexp files mirror google_refexp_*_coco_aligned.json") {
  TempDir d("refexp");
  generate_shapes_world(small_options(), d.path.string());
  const std::map<std::string, int> expected_images = {{"train", 12}, {"val", 4}, {"test", 4}, {"novel", 6}};
  for (const auto& [split, n_images] : expected_images) {
    INFO(split);
    const json j = load(d.path / ("google_refexp_" + split + "_shapes_coco_aligned.json"));
    CHECK(keys(j) == std::set<std::string>{"images", "annotations", "refexps", "categories"});
    REQUIRE(j["images"].is_object());
    CHECK(j["images"].size() == static_cast<size_t>(n_images));
    for (auto it = j["images"].begin(); it != j["images"].end(); ++it) {
      const json& im = it.value();
      CHECK(keys(im) == std::set<std::string>{"file_name", "height", "width", "image_id", "region_candidates"});
      CHECK(it.key() == std::to_string(im["image_id"].get<int>()));
      CHECK(im["width"] == 64);
      CHECK(im["height"] == 64);
      CHECK(fs::is_regular_file(d.path / "images" / im["file_name"].get<std::string>()));
      REQUIRE(im["region_candidates"].is_array());
      for (const json& rc : im["region_candidates"]) {
        CHECK(keys(rc) == std::set<std::string>{"bounding_box", "predicted_object_name"});
        CHECK(is_box(rc["bounding_box"], 64, 64));
        CHECK(rc["predicted_object_name"].is_string());
      }
    }
    REQUIRE(j["annotations"].is_object());
    CHECK(j["annotations"].size() >= static_cast<size_t>(n_images));
    for (auto it = j["annotations"].begin(); it != j["annotations"].end(); ++it) {
      const json& a = it.value();
      CHECK(keys(a) == std::set<std::string>{"annotation_id", "image_id", "category_id", "bbox", "area", "iscrowd",
                                             "segmentation", "refexp_ids", "region_candidates"});
      CHECK(it.key() == std::to_string(a["annotation_id"].get<int>()));
      const std::string img_key = std::to_string(a["image_id"].get<int>());
      REQUIRE(j["images"].contains(img_key));
      REQUIRE(a["category_id"].is_number_integer());
      const int cat = a["category_id"];
      CHECK(cat >= 1);
      CHECK(cat <= 7);
      if (split != "novel") CHECK(cat <= 5);  // no star (6) or hexagon (7) outside the novel split
      CHECK(is_box(a["bbox"], 64, 64));
      CHECK(a["area"].is_number());
      CHECK(a["area"].get<double>() > 10);
      CHECK(a["area"].get<double>() <= a["bbox"][2].get<double>() * a["bbox"][3].get<double>());
      CHECK(a["iscrowd"] == 0);
      REQUIRE(a["segmentation"].is_array());
      REQUIRE(a["segmentation"].size() == 1);
      CHECK(a["segmentation"][0].size() % 2 == 0);
      CHECK(a["segmentation"][0].size() >= 6);
      CHECK(a["region_candidates"] == j["images"][img_key]["region_candidates"]);
      // The object's own box is among the candidates, with its category name.
      bool own = false;
      for (const json& rc : a["region_candidates"])
        own |= rc["bounding_box"] == a["bbox"] &&
               rc["predicted_object_name"] == j["categories"][cat - 1]["name"];
      CHECK(own);
      REQUIRE(a["refexp_ids"].is_array());
      REQUIRE(!a["refexp_ids"].empty());
      for (const json& rid : a["refexp_ids"]) {
        const std::string rkey = std::to_string(rid.get<int>());
        REQUIRE(j["refexps"].contains(rkey));
        const json& r = j["refexps"][rkey];
        CHECK(keys(r) == std::set<std::string>{"refexp_id", "raw", "tokens", "parse"});
        CHECK(r["refexp_id"] == rid);
        CHECK(r["tokens"].get<std::vector<std::string>>() == shapes::words_of(r["raw"].get<std::string>()));
        CHECK(r["parse"]["referent"]["word"] == j["categories"][cat - 1]["name"]);
        CHECK(r["parse"]["referent"]["amods"].is_array());
        if (split != "novel") CHECK_FALSE(mentions_novel(r["raw"].get<std::string>()));
      }
    }
    REQUIRE(j["categories"].is_array());
    REQUIRE(j["categories"].size() == 7);
    CHECK(j["categories"][0] == json({{"id", 1}, {"name", "circle"}, {"supercategory", "shape"}}));
    CHECK(j["categories"][5]["name"] == "star");
  }
}

TEST_CASE("VQA question and annotation files have the VQA v2 structure") {
  TempDir d("vqa");
  generate_shapes_world(small_options(), d.path.string());
  for (const std::string split : {"train", "val", "test", "novel"}) {
    INFO(split);
    const json q = load(d.path / ("v2_OpenEnded_shapes_" + split + "_questions.json"));
    const json a = load(d.path / ("v2_shapes_" + split + "_annotations.json"));
    CHECK(keys(q) == std::set<std::string>{"info", "task_type", "data_type", "license", "data_subtype", "questions"});
    CHECK(keys(a) == std::set<std::string>{"info", "license", "data_type", "data_subtype", "annotations"});
    CHECK(q["task_type"] == "Open-Ended");
    CHECK(q["data_subtype"] == split);
    CHECK(a["data_subtype"] == split);
    CHECK(q["info"].is_object());
    CHECK(q["license"].is_object());
    REQUIRE(q["questions"].is_array());
    REQUIRE(a["annotations"].is_array());
    REQUIRE(q["questions"].size() == a["annotations"].size());
    std::set<int> ids;
    for (size_t i = 0; i < q["questions"].size(); ++i) {
      const json& qq = q["questions"][i];
      const json& aa = a["annotations"][i];
      CHECK(keys(qq) == std::set<std::string>{"image_id", "question", "question_id"});
      CHECK(qq["image_id"].is_number_integer());
      CHECK(qq["question_id"].is_number_integer());
      CHECK(ids.insert(qq["question_id"].get<int>()).second);
      CHECK(qq["question"].get<std::string>().back() == '?');
      CHECK(keys(aa) == std::set<std::string>{"question_id", "image_id", "question_type", "answer_type",
                                              "multiple_choice_answer", "answers", "answer_sentence",
                                              "question_category"});
      CHECK(aa["question_id"] == qq["question_id"]);
      CHECK(aa["image_id"] == qq["image_id"]);
      const std::string at = aa["answer_type"];
      CHECK((at == "yes/no" || at == "number" || at == "other"));
      REQUIRE(aa["answers"].size() == 10);
      for (int k = 0; k < 10; ++k) {
        const json& ans = aa["answers"][k];
        CHECK(keys(ans) == std::set<std::string>{"answer", "answer_confidence", "answer_id"});
        CHECK(ans["answer"] == aa["multiple_choice_answer"]);
        CHECK(ans["answer_confidence"] == "yes");
        CHECK(ans["answer_id"] == k + 1);
      }
      const std::string answer = aa["multiple_choice_answer"];
      CHECK(shapes::words_of(answer).size() == 1);
      if (split != "novel") {
        CHECK_FALSE(mentions_novel(qq["question"].get<std::string>()));
        CHECK_FALSE(mentions_novel(aa["answer_sentence"].get<std::string>()));
      }
    }
  }
}

TEST_CASE("NVC file lists the novel images per concept, with Karpathy entries and train/test splits") {
  TempDir d("nvc");
  ShapesWorldOptions o = small_options();
  o.n_novel = 10;
  o.novel_train_fraction = 0.4;
  generate_shapes_world(o, d.path.string());
  const json j = load(d.path / "dataset_shapes_nvc.json");
  CHECK(keys(j) == std::set<std::string>{"dataset", "novel_words", "concepts", "images"});
  CHECK(j["dataset"] == "shapes_nvc");
  CHECK(j["novel_words"] == json({"star", "hexagon"}));
  REQUIRE(j["concepts"].size() == 2);
  CHECK(j["concepts"][0]["word"] == "star");
  CHECK(j["concepts"][0]["plural"] == "stars");
  CHECK(j["concepts"][0]["imgids"] == json({20, 22, 24, 26, 28}));  // after 12 + 4 + 4 base images
  CHECK(j["concepts"][1]["imgids"] == json({21, 23, 25, 27, 29}));
  REQUIRE(j["images"].size() == 10);
  const json karpathy = load(d.path / "dataset_shapes.json");
  std::map<std::string, int> nvc_splits;
  for (const json& im : j["images"]) {
    CHECK(keys(im) == std::set<std::string>{"filename", "imgid", "split", "sentids", "sentences", "concept"});
    const int id = im["imgid"];
    for (const json& k : karpathy["images"]) CHECK(k["imgid"] != id);  // novel images stay out of it
    nvc_splits[im["split"].get<std::string>()]++;
    const std::string concept_word = im["concept"];
    bool said = false;
    for (const json& s : im["sentences"])
      for (const json& t : s["tokens"]) said |= t == concept_word || t == concept_word + "s";
    CHECK(said);
  }
  // 5 images per concept, round(0.4 * 5) = 2 of each in train.
  CHECK(nvc_splits == std::map<std::string, int>{{"train", 4}, {"test", 6}});
}

TEST_CASE("shapes_info.json summarises the run, bad options and paths give clear errors") {
  TempDir d("errors");
  generate_shapes_world(small_options(), d.path.string());
  const json info = load(d.path / "shapes_info.json");
  CHECK(info["seed"] == 9);
  CHECK(info["splits"]["novel"] == 6);
  CHECK(info["vocabulary"].get<std::vector<std::string>>() == shapes::shapes_vocabulary());
  CHECK(info["novel_shapes"] == json({"star", "hexagon"}));

  // An output path below a regular file cannot be created.
  const fs::path file = d.path / "not_a_folder";
  std::ofstream(file) << "x";
  CHECK_THROWS_WITH(generate_shapes_world(small_options(), (file / "out").string()),
                    Catch::Contains("cannot create output folder") && Catch::Contains("not_a_folder"));
  ShapesWorldOptions bad = small_options();
  bad.image_size = 16;
  CHECK_THROWS_WITH(generate_shapes_world(bad, d.path.string()), Catch::Contains("image_size"));
  bad = small_options();
  bad.n_val = -1;
  CHECK_THROWS_WITH(validate(bad), Catch::Contains("split sizes"));
  bad = small_options();
  bad.max_objects = 5;
  CHECK_THROWS_WITH(validate(bad), Catch::Contains("max_objects"));
  bad = small_options();
  bad.captions_per_image = 0;
  CHECK_THROWS_WITH(validate(bad), Catch::Contains("captions_per_image"));
}
