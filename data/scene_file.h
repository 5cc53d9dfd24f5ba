// The scene file: what each image of a dataset contains (objects with shape, colour and size words
// and a pixel box), plus the words that name them. ShapesWorld writes one (dataset_shapes_scenes.json) beside
// its Karpathy file; any dataset with object annotations can be converted to it.
// Why: with the scenes known, a caption can be checked claim by claim (data/scene_check.h), not
// only scored against reference sentences.
//
// Format (docs/data.md):
//   {"vocabulary": {"shapes": {"circle": "circles", ...}, "colors": ["red", ...], "sizes": ["small", ...]},
//    "locations": {"left": 0.35, "right": 0.65, "top": 0.35, "bottom": 0.65, "middle": 0.1},   (optional)
//    "images": [{"file_name": "shapes_000123.png", "width": 64, "height": 64,
//                "objects": [{"shape": "circle", "color": "red", "size": "small", "bbox": [x, y, w, h]}]}]}
// Required: vocabulary.shapes, images[].file_name, width, height, objects[].shape, objects[].bbox.
// Optional: vocabulary.colors/sizes and objects[].color/size (an object without a colour matches no
// colour word), "locations" (the defaults shown), images[].image_id.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mrnn {

struct SceneVocabulary {
  std::map<std::string, std::string> shapes;  // singular -> plural
  std::vector<std::string> colors, sizes;
  // Location bands, as fractions of the image: a box centre with x/w < left is "on the left", etc.;
  // "in the middle" when both |x/w - 0.5| and |y/h - 0.5| are below `middle`.
  double left = 0.35, right = 0.65, top = 0.35, bottom = 0.65, middle = 0.1;
};

struct SceneObject {
  std::string shape, color, size;  // words of the vocabulary ("" = not annotated)
  double x = 0, y = 0, w = 0, h = 0;  // pixel box [x, x + w) x [y, y + h)
};

struct SceneImage {
  std::string file_name;
  int64_t image_id = -1;  // -1 when absent
  int width = 0, height = 0;
  std::vector<SceneObject> objects;
};

struct SceneFile {
  SceneVocabulary vocabulary;
  std::vector<SceneImage> images;
  // Ensures: the image with this file name, or nullptr.
  const SceneImage* find(const std::string& file_name) const;
  std::map<std::string, size_t> by_file_name;  // filled by load_scene_file
};

// Requires: path names a scene file as above.
// Ensures: its contents; throws mrnn::Error naming the file, the JSON path and what was expected for
// a missing required field, a present field of the wrong type, a word outside the vocabulary, a box
// with negative size, or a repeated file name.
SceneFile load_scene_file(const std::string& path);

}  // namespace mrnn
