// The scene file and the caption checker: every caption ShapesWorld writes is true of its scene, so
// the checker must understand all of them and find every claim true; a caption made false by one
// word must be found false; hand-made scenes pin each claim's meaning; bad scene files are refused
// naming the field.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "data/scene_check.h"
#include "data/scene_file.h"
#include "data/shapes_language.h"
#include "data/shapes_world.h"

namespace fs = std::filesystem;
using namespace mrnn;

namespace {

struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("mrnn_scene_" + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

SceneVocabulary toy_vocab() {
  SceneVocabulary v;
  v.shapes = {{"circle", "circles"}, {"square", "squares"}, {"triangle", "triangles"}};
  v.colors = {"red", "blue", "green"};
  v.sizes = {"small", "large"};
  return v;
}

// 100 x 100: a small red circle top-left, a large blue square bottom-right, a small blue circle
// top-right.
SceneImage toy_scene() {
  SceneImage s;
  s.file_name = "toy.png";
  s.width = s.height = 100;
  s.objects = {{"circle", "red", "small", 5, 5, 10, 10}, {"square", "blue", "large", 70, 70, 25, 25},
               {"circle", "blue", "small", 80, 5, 10, 10}};
  return s;
}

CaptionCheck check(const std::string& caption) { return check_caption(split_words(caption), toy_scene(), toy_vocab()); }

}  // namespace

TEST_CASE("scene check: every ShapesWorld caption is understood and true, and one false word makes it false") {
  ScratchDir dir("gen");
  ShapesWorldOptions o;
  o.seed = 4;
  o.n_train = 150;
  o.n_val = o.n_test = 10;
  o.n_novel = 10;
  generate_shapes_world(o, dir.path.string());
  const SceneFile scenes = load_scene_file((dir.path / "dataset_shapes_scenes.json").string());
  REQUIRE(scenes.images.size() == 180);
  const std::vector<std::string> colors = scenes.vocabulary.colors;
  size_t checked = 0, falsified = 0;
  SceneCheckSummary summary;
  for (int i = 0; i < o.n_train; ++i) {
    const ShapesImage im = make_shapes_image(o, ShapesSplit::train, i);
    const SceneImage* scene = scenes.find(im.filename);
    REQUIRE(scene != nullptr);
    REQUIRE(scene->objects.size() == im.scene.objects.size());
    std::set<std::string> present;
    for (const SceneObject& ob : scene->objects) present.insert(ob.color);
    for (const std::string& raw : im.captions) {
      const std::vector<std::string> words = shapes::words_of(raw);
      const CaptionCheck c = check_caption(words, *scene, scenes.vocabulary);
      INFO(raw);
      CHECK(c.parsed);
      CHECK(c.correct());
      add(summary, c);
      ++checked;
      // Replace the first colour word with one no object has: some claim must now be false.
      for (size_t k = 0; k < words.size(); ++k) {
        if (std::find(colors.begin(), colors.end(), words[k]) == colors.end()) continue;
        for (const std::string& absent : colors) {
          if (present.count(absent)) continue;
          std::vector<std::string> wrong = words;
          wrong[k] = absent;
          const CaptionCheck w = check_caption(wrong, *scene, scenes.vocabulary);
          CHECK(w.parsed);
          CHECK_FALSE(w.correct());
          ++falsified;
          break;
        }
        break;
      }
    }
  }
  CHECK(checked == 150u * o.captions_per_image);
  CHECK(falsified > 100);
  CHECK(summary.correct_percent() == 100.0);
  for (int k = 0; k < kNumClaimKinds; ++k) {  // the generator uses every kind of claim
    INFO(claim_kind_name(static_cast<ClaimKind>(k)));
    CHECK(summary.claims[k] > 20);
    CHECK(summary.precision_percent(static_cast<ClaimKind>(k)) == 100.0);
  }
}

TEST_CASE("scene check: each kind of claim means what the header says") {
  CHECK(check("a small red circle").correct());
  CHECK(check("a circle").correct());                      // "a" = at least one (there are two)
  CHECK_FALSE(check("one circle").correct());              // a number = exactly
  CHECK(check("two circles and a large blue square").correct());
  CHECK(check("there are three shapes").correct());
  CHECK_FALSE(check("there are four objects").correct());
  CHECK(check("there is only one red shape").correct());
  CHECK(check("there are no triangles").correct());
  CHECK_FALSE(check("a green circle").correct());
  CHECK_FALSE(check("a large circle").correct());
  CHECK(check("a red circle is to the left of a blue circle").correct());
  CHECK_FALSE(check("a red circle is right of a blue circle").correct());
  CHECK(check("a red circle above a square").correct());
  CHECK_FALSE(check("a square above a square").correct());  // A and B must be different objects
  CHECK(check("a square in the bottom right corner").correct());
  CHECK(check("there is a blue circle at the top").correct());
  CHECK_FALSE(check("a red circle on the right").correct());
  CHECK_FALSE(check("a red shape in the middle").correct());

  const CaptionCheck c = check("a large blue triangle is above a small red circle .");
  REQUIRE(c.parsed);
  REQUIRE(c.claims.size() == 3);
  CHECK(c.claims[0].kind == ClaimKind::object);
  CHECK_FALSE(c.claims[0].holds);
  CHECK((c.claims[0].word_begin == 0 && c.claims[0].word_end == 4));
  CHECK(c.claims[1].kind == ClaimKind::relation);
  CHECK((c.claims[1].word_begin == 4 && c.claims[1].word_end == 6));
  CHECK_FALSE(c.claims[1].holds);
  CHECK(c.claims[2].holds);

  const CaptionCheck bad = check("a red circle is happy");
  CHECK_FALSE(bad.parsed);
  CHECK_FALSE(bad.correct());
  CHECK_FALSE(check("red circle").parsed);
  CHECK_FALSE(check("a circle is").parsed);
  CHECK_FALSE(check("").correct());
}

TEST_CASE("scene check: the summary counts captions, parses and claims per kind") {
  SceneCheckSummary s;
  add(s, check("a small red circle"));
  add(s, check("a green circle"));
  add(s, check("two circles left of a square"));
  add(s, check("circles everywhere"));
  CHECK(s.captions == 4);
  CHECK(s.parsed == 3);
  CHECK(s.correct == 2);
  CHECK(s.correct_percent() == Approx(50.0));
  CHECK(s.claims[static_cast<int>(ClaimKind::object)] == 3);
  CHECK(s.precision_percent(ClaimKind::object) == Approx(200.0 / 3));
  CHECK(s.precision_percent(ClaimKind::count) == Approx(100.0));
  CHECK(s.precision_percent(ClaimKind::location) == 0.0);
}

TEST_CASE("scene file: the minimal file reads, and bad fields are refused naming the field") {
  ScratchDir dir("file");
  const std::string minimal = write(dir.path / "min.json", R"({"vocabulary": {"shapes": {"cat": "cats"}},
    "images": [{"file_name": "a.jpg", "width": 10, "height": 8, "objects": [{"shape": "cat", "bbox": [1, 2, 3, 4]}]},
               {"file_name": "b.jpg", "width": 10, "height": 8, "objects": [], "extra": {"ignored": true}}],
    "unknown": 1})");
  const SceneFile f = load_scene_file(minimal);
  REQUIRE(f.images.size() == 2);
  CHECK(f.images[0].objects[0].color.empty());
  CHECK(f.images[0].objects[0].h == 4);
  CHECK(f.find("b.jpg") == &f.images[1]);
  CHECK(f.find("c.jpg") == nullptr);
  CHECK(f.vocabulary.left == 0.35);

  auto refused = [&](const std::string& name, const std::string& text, const std::string& expect) {
    const std::string p = write(dir.path / name, text);
    INFO(name);
    CHECK_THROWS_WITH(load_scene_file(p), Catch::Contains(expect) && Catch::Contains(name));
  };
  const std::string v = R"("vocabulary": {"shapes": {"cat": "cats"}, "colors": ["black"]})";
  refused("nobox.json", "{" + v + R"(, "images": [{"file_name": "a", "width": 1, "height": 1, "objects": [{"shape": "cat"}]}]})",
          "images[0].objects[0].bbox: missing field");
  refused("word.json", "{" + v + R"(, "images": [{"file_name": "a", "width": 1, "height": 1, "objects": [{"shape": "dog", "bbox": [0,0,1,1]}]}]})",
          "images[0].objects[0].shape: \"dog\" is not in vocabulary.shapes");
  refused("color.json", "{" + v + R"(, "images": [{"file_name": "a", "width": 1, "height": 1, "objects": [{"shape": "cat", "color": 3, "bbox": [0,0,1,1]}]}]})",
          "images[0].objects[0].color: expected a string");
  refused("neg.json", "{" + v + R"(, "images": [{"file_name": "a", "width": 1, "height": 1, "objects": [{"shape": "cat", "bbox": [0,0,-1,1]}]}]})",
          "images[0].objects[0].bbox: expected a box with width and height >= 0");
  refused("dup.json", "{" + v + R"(, "images": [{"file_name": "a", "width": 1, "height": 1, "objects": []}, {"file_name": "a", "width": 1, "height": 1, "objects": []}]})",
          "images[1].file_name: repeated file name");
  refused("novocab.json", R"({"images": []})", "vocabulary: missing field");
  refused("band.json", "{" + v + R"(, "locations": {"left": 2}, "images": []})", "locations.left: expected a fraction");
}
