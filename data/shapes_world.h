// ShapesWorld: a seeded generator of small images of coloured shapes with captions, referring
// expressions and questions, written in the public formats of real datasets (Karpathy JSON, Google
// Refexp, VQA v2, NVC) so every task trains and evaluates through the same readers as real data.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mrnn {
namespace shapes {

// ---- vocabulary of the world -----------------------------------------------------------------
// The first kNumBaseShapes shapes appear in train/val/test; star and hexagon are the novel concepts.
enum class Shape : uint8_t { circle, square, triangle, diamond, cross, star, hexagon };
enum class Color : uint8_t { red, green, blue, yellow, purple, orange, gray };
enum class Size : uint8_t { small, large };
inline constexpr int kNumShapes = 7;
inline constexpr int kNumBaseShapes = 5;
inline constexpr int kNumColors = 7;
inline constexpr int kNumSizes = 2;

// Ensures: the lowercase English word ("circle", "circles", "red", "small").
const char* name(Shape s);
const char* plural(Shape s);
const char* name(Color c);
const char* name(Size s);
// Ensures: true for star and hexagon.
inline bool is_novel(Shape s) { return static_cast<int>(s) >= kNumBaseShapes; }

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};
// Ensures: the sRGB colour objects of colour `c` are drawn with before a per-object jitter of ±10.
Rgb nominal_rgb(Color c);

// ---- counter-based random stream ---------------------------------------------------------------
// Word i of the stream with key k is Philox(k, i): what image n draws never depends on what other
// images drew, so images can be generated in any order, on any number of threads, bit-identically.
class Rng {
 public:
  explicit Rng(uint64_t key) : key_(key) {}
  // Ensures: an independent stream determined by (this key, stream); does not advance this one.
  Rng child(uint64_t stream) const;
  uint64_t key() const { return key_; }
  uint32_t next_u32();
  // Ensures: uniform in [0, 1).
  double uniform();
  // Requires: n >= 1. Ensures: uniform integer in [0, n).
  int below(int n);

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
  std::array<uint32_t, 4> block_{};
};

// ---- scenes ----------------------------------------------------------------------------------
// A pixel box [x, x + w) × [y, y + h) (COCO's [x, y, w, h] convention).
struct Box {
  int x = 0, y = 0, w = 0, h = 0;
  double cx() const { return x + 0.5 * w; }
  double cy() const { return y + 0.5 * h; }
};

struct Object {
  Shape shape = Shape::circle;
  Color color = Color::red;
  Size size = Size::small;
  float cx = 0, cy = 0;  // origin of the shape's unit frame, in pixels (always inside the shape)
  float radius = 0;      // pixels per unit of the shape's frame
  Rgb rgb;               // the colour actually drawn
  Box box;               // pixel box spanning the shape's extent (every pixel it touches)
};

struct Scene {
  int width = 64, height = 64;
  Rgb background;
  int noise = 6;      // per-pixel noise amplitude (±noise per channel)
  uint64_t seed = 0;  // the scene's random key (also keys the pixel noise)
  std::vector<Object> objects;
};

struct SceneOptions {
  int image_size = 64;  // width = height
  int min_objects = 1;
  int max_objects = 4;
  int noise = 6;
  // When set (star or hexagon) the scene contains at least one object of this shape and no other
  // novel shape; otherwise it contains base shapes only.
  std::optional<Shape> novel_shape;
};

// Requires: 32 <= image_size <= 1024, 1 <= min_objects <= max_objects <= 4, 0 <= noise <= 32,
//           novel_shape (if set) a novel shape.
// Ensures: a scene of min..max objects whose boxes lie inside the image, 2 pixels or more apart,
//          and in which every object has a unique description (shortest_description succeeds).
//          Same (seed, options) → same scene.
Scene generate_scene(uint64_t seed, const SceneOptions& options);

// ---- spatial relations -------------------------------------------------------------------------
// Strict relations between boxes: a is left of b when a ends before b begins horizontally.
// Any two objects of a generated scene satisfy at least one of the four.
enum class Relation : uint8_t { left_of, right_of, above, below };
bool holds(Relation r, const Box& a, const Box& b);

// Where an object's box centre lies in the image: left/right = outer 35% bands, top/bottom likewise,
// middle = within 10% of the image centre on both axes.
struct Location {
  bool left = false, right = false, top = false, bottom = false, middle = false;
};
Location location_of(const Box& box, int width, int height);
// The bands above as fractions of the image (written to the scene file for caption checking).
struct LocationBands {
  double left = 0.35, right = 0.65, top = 0.35, bottom = 0.65, middle = 0.1;
};
inline constexpr LocationBands kLocationBands{};

// ---- descriptions (the meaning behind referring expressions) --------------------------------
// A description names some attributes of an object and optionally a relative position: "the red
// circle on the left" = among the red circles, the one that lies left of all the others.
enum class Extreme : uint8_t { none, left, right, top, bottom };
struct Description {
  bool size = false, color = false, shape = true;
  Extreme where = Extreme::none;
};

// Ensures: indices of the objects that `d`, filled with the attributes of objects[target], picks
// out in `scene` (attribute matches, then, when d.where is set, only the match that lies strictly
// beyond every other match in that direction).
std::vector<int> resolve(const Scene& scene, int target, const Description& d);

// Ensures: the unique descriptions of objects[target], shortest first: attributes before location,
// colour before size ({}, {colour}, {size}, {size, colour}, then each with left/right/top/bottom).
// `with_shape` / `with_color` false removes descriptions naming the shape / the colour.
std::vector<Description> unique_descriptions(const Scene& scene, int target, bool with_shape = true,
                                             bool with_color = true);

// ---- candidate regions -----------------------------------------------------------------------
struct RegionCandidate {
  Box box;
  std::string name;  // shape word for an object's box or its jittered copies, "background" otherwise
};
// Ensures: every object's box, `jitter_per_object` shifted/rescaled copies of each (clipped to the
// image, at least 3×3), and `random_boxes` boxes anywhere, in a seeded random order.
std::vector<RegionCandidate> region_candidates(const Scene& scene, uint64_t seed,
                                               int jitter_per_object = 2, int random_boxes = 2);

// ---- questions -------------------------------------------------------------------------------
// A question about a scene with its answers (made by ask_questions in data/shapes_language.h).
struct Question {
  std::string question;         // "What color is the small circle?"
  std::string answer;           // one word: "red", "yes", "2"
  std::string answer_sentence;  // "the small circle is red"
  std::string category;         // "color", "shape", "count", "existence" or "relation"
  std::string question_type;    // VQA-style leading words, e.g. "what color is the"
  std::string answer_type;      // VQA answer type: "other", "number" or "yes/no"
};

}  // namespace shapes

// ---- the dataset -------------------------------------------------------------------------------
enum class ShapesSplit : uint8_t { train, val, test, novel };
inline constexpr int kNumShapesSplits = 4;
// Ensures: "train", "val", "test" or "novel".
const char* split_name(ShapesSplit s);

// What to generate. Images of the novel split contain a star (even index) or a hexagon (odd).
struct ShapesWorldOptions {
  uint64_t seed = 1;
  int n_train = 4000, n_val = 500, n_test = 500, n_novel = 400;  // images per split, >= 0
  int image_size = 64;                                            // 32..1024
  int min_objects = 1, max_objects = 4;                           // 1 <= min <= max <= 4
  int captions_per_image = 5;   // 1..9
  int refexps_per_object = 2;   // 1..9
  int questions_per_image = 5;  // 1..9
  int noise = 6;                // per-pixel noise amplitude, 0..32
  // Fraction of each novel concept's images that the NVC file puts in its "train" split.
  double novel_train_fraction = 0.5;
  int threads = 0;  // 0: OpenMP's default
  // Called on the calling thread after each batch of images: (images done, images in total).
  std::function<void(int, int)> progress;
};

// Requires: options within the ranges above (n_* >= 0).
// Ensures: mrnn::Error naming the field and the expected range otherwise.
void validate(const ShapesWorldOptions& options);

// One generated image and everything said about it.
struct ShapesImage {
  ShapesSplit split = ShapesSplit::train;
  int index_in_split = 0;
  int image_id = 0;  // position in the whole dataset: train, then val, test, novel
  std::string filename;  // "shapes_000123.png"
  shapes::Scene scene;
  std::vector<std::string> captions;               // raw sentences
  std::vector<std::vector<std::string>> refexps;   // per object, shortest first
  std::vector<shapes::RegionCandidate> regions;
  std::vector<shapes::Question> questions;
};

// Ensures: the seed of image `index` of `split`; independent of the other splits' sizes.
uint64_t shapes_image_seed(uint64_t seed, ShapesSplit split, int index);

// Requires: validate(options) passes, 0 <= index < size of split.
// Ensures: exactly the image generate_shapes_world writes for (split, index).
ShapesImage make_shapes_image(const ShapesWorldOptions& options, ShapesSplit split, int index);

struct ShapesWorldSummary {
  std::array<int, kNumShapesSplits> images{};  // per split
  int64_t captions = 0, refexps = 0, questions = 0;
  int vocabulary_size = 0;
  std::vector<std::string> files;  // data files written (JSON, and the related-phrase TSV), relative to the output folder
};

// Requires: validate(options) passes; out_dir creatable and writable.
// Ensures: out_dir/images/shapes_NNNNNN.png, dataset_shapes.json (Karpathy),
//          dataset_shapes_nvc.json (NVC), google_refexp_<split>_shapes_coco_aligned.json,
//          v2_OpenEnded_shapes_<split>_questions.json and v2_shapes_<split>_annotations.json for
//          each split, dataset_shapes_related_pairs.tsv (data/shapes_related.h), and shapes_info.json
//          last. Each file is written to a temporary name and
//          renamed, so a killed run never leaves a complete-looking partial file. Same options →
//          byte-identical files, whatever the thread count. Throws mrnn::Error naming the path on
//          any I/O failure. The formats and id scheme are described in docs/shapesworld.md.
ShapesWorldSummary generate_shapes_world(const ShapesWorldOptions& options,
                                         const std::string& out_dir);

}  // namespace mrnn
