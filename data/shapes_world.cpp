// ShapesWorld scenes (data/shapes_world.h): names, the random stream, relations and locations,
// descriptions that pick out one object, scene generation and region candidates. The dataset on
// disk (per-split images and the JSON files) is data/shapes_dataset.cpp.
#include "data/shapes_world.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/shapes_language.h"
#include "data/shapes_render.h"
#include "core/philox.h"

namespace mrnn {
namespace shapes {

// ---- names -------------------------------------------------------------------------------------
namespace {
constexpr const char* kShapeNames[kNumShapes] = {"circle", "square", "triangle", "diamond",
                                                 "cross",  "star",   "hexagon"};
constexpr const char* kShapePlurals[kNumShapes] = {"circles", "squares", "triangles", "diamonds",
                                                   "crosses", "stars",   "hexagons"};
constexpr const char* kColorNames[kNumColors] = {"red",    "green",  "blue", "yellow",
                                                 "purple", "orange", "gray"};
constexpr Rgb kColorRgb[kNumColors] = {{215, 45, 45},  {50, 175, 70},  {45, 95, 225},  {235, 210, 50},
                                       {150, 70, 200}, {240, 135, 35}, {145, 145, 145}};
constexpr const char* kSizeNames[kNumSizes] = {"small", "large"};
}  // namespace

const char* name(Shape s) { return kShapeNames[static_cast<int>(s)]; }
const char* plural(Shape s) { return kShapePlurals[static_cast<int>(s)]; }
const char* name(Color c) { return kColorNames[static_cast<int>(c)]; }
const char* name(Size s) { return kSizeNames[static_cast<int>(s)]; }
Rgb nominal_rgb(Color c) { return kColorRgb[static_cast<int>(c)]; }

// ---- Rng ---------------------------------------------------------------------------------------
Rng Rng::child(uint64_t stream) const {
  Philox4 r = philox4x32_10(stream, 0x5348415045530000ull /* "SHAPES" */, key_);
  return Rng(static_cast<uint64_t>(r.v[0]) | (static_cast<uint64_t>(r.v[1]) << 32));
}

uint32_t Rng::next_u32() {
  if ((counter_ & 3) == 0) {
    Philox4 r = philox4x32_10(counter_ >> 2, 0, key_);
    block_ = {r.v[0], r.v[1], r.v[2], r.v[3]};
  }
  return block_[counter_++ & 3];
}

double Rng::uniform() {
  uint32_t a = next_u32(), b = next_u32();
  return uniform53_from_words(a, b);
}

int Rng::below(int n) {
  MRNN_CHECK(n >= 1, "Rng::below: n must be >= 1, got {}", n);
  return std::min(n - 1, static_cast<int>(uniform() * n));
}

// ---- relations and locations -------------------------------------------------------------------
bool holds(Relation r, const Box& a, const Box& b) {
  switch (r) {
    case Relation::left_of: return a.x + a.w <= b.x;
    case Relation::right_of: return b.x + b.w <= a.x;
    case Relation::above: return a.y + a.h <= b.y;
    case Relation::below: return b.y + b.h <= a.y;
  }
  return false;
}

Location location_of(const Box& box, int width, int height) {
  Location l;
  double fx = box.cx() / width, fy = box.cy() / height;
  const LocationBands& b = kLocationBands;
  l.left = fx < b.left;
  l.right = fx > b.right;
  l.top = fy < b.top;
  l.bottom = fy > b.bottom;
  l.middle = std::fabs(fx - 0.5) < b.middle && std::fabs(fy - 0.5) < b.middle;
  return l;
}

// ---- descriptions ------------------------------------------------------------------------------
namespace {
bool beyond(Extreme where, const Box& a, const Box& b) {
  switch (where) {
    case Extreme::left: return holds(Relation::left_of, a, b);
    case Extreme::right: return holds(Relation::right_of, a, b);
    case Extreme::top: return holds(Relation::above, a, b);
    case Extreme::bottom: return holds(Relation::below, a, b);
    case Extreme::none: return true;
  }
  return false;
}
}  // namespace

std::vector<int> resolve(const Scene& scene, int target, const Description& d) {
  MRNN_CHECK(target >= 0 && target < static_cast<int>(scene.objects.size()),
             "resolve: target {} out of range for a scene of {} objects", target, scene.objects.size());
  const Object& t = scene.objects[target];
  std::vector<int> matches;
  for (int i = 0; i < static_cast<int>(scene.objects.size()); ++i) {
    const Object& o = scene.objects[i];
    if ((d.size && o.size != t.size) || (d.color && o.color != t.color) || (d.shape && o.shape != t.shape))
      continue;
    matches.push_back(i);
  }
  if (d.where == Extreme::none) return matches;
  std::vector<int> extreme;
  for (int i : matches) {
    bool ok = true;
    for (int j : matches)
      if (j != i && !beyond(d.where, scene.objects[i].box, scene.objects[j].box)) ok = false;
    if (ok) extreme.push_back(i);
  }
  return extreme;
}

std::vector<Description> unique_descriptions(const Scene& scene, int target, bool with_shape,
                                             bool with_color) {
  // Attribute sets, shortest first, colour preferred over size.
  std::vector<Description> attrs;
  for (int k = 0; k < 4; ++k) {
    Description d;
    d.shape = with_shape;
    d.color = (k == 1 || k == 3);
    d.size = (k == 2 || k == 3);
    if (d.color && !with_color) continue;
    attrs.push_back(d);
  }
  std::vector<Description> out;
  for (const Description& d : attrs)
    if (resolve(scene, target, d).size() == 1) out.push_back(d);
  // A location only helps where the attributes alone are ambiguous.
  for (const Description& base : attrs) {
    if (resolve(scene, target, base).size() < 2) continue;
    for (Extreme e : {Extreme::left, Extreme::right, Extreme::top, Extreme::bottom}) {
      Description d = base;
      d.where = e;
      std::vector<int> m = resolve(scene, target, d);
      if (m.size() == 1 && m[0] == target) out.push_back(d);
    }
  }
  return out;
}

// ---- scenes ------------------------------------------------------------------------------------
namespace {

uint8_t jitter_channel(uint8_t v, Rng& rng) {
  int j = static_cast<int>(v) + rng.below(21) - 10;
  return static_cast<uint8_t>(std::clamp(j, 0, 255));
}

Box box_of(Shape shape, double cx, double cy, double r) {
  Extent e = unit_extent(shape);
  Box b;
  b.x = static_cast<int>(std::floor(cx + r * e.xmin));
  b.y = static_cast<int>(std::floor(cy + r * e.ymin));
  b.w = static_cast<int>(std::ceil(cx + r * e.xmax)) - b.x;
  b.h = static_cast<int>(std::ceil(cy + r * e.ymax)) - b.y;
  return b;
}

bool apart(const Box& a, const Box& b, int gap) {
  return a.x + a.w + gap <= b.x || b.x + b.w + gap <= a.x || a.y + a.h + gap <= b.y ||
         b.y + b.h + gap <= a.y;
}

Scene try_scene(Rng& rng, const SceneOptions& opt) {
  Scene s;
  s.width = s.height = opt.image_size;
  s.noise = opt.noise;
  s.seed = rng.child(1).key();
  const double size = opt.image_size;
  int g = 18 + rng.below(28);
  s.background = {static_cast<uint8_t>(g + rng.below(9) - 4), static_cast<uint8_t>(g + rng.below(9) - 4),
                  static_cast<uint8_t>(g + rng.below(9) - 4)};
  int n = opt.min_objects + rng.below(opt.max_objects - opt.min_objects + 1);
  for (int i = 0; i < n; ++i) {
    Object o;
    if (opt.novel_shape && (i == 0 || rng.uniform() < 0.2))
      o.shape = *opt.novel_shape;
    else
      o.shape = static_cast<Shape>(rng.below(kNumBaseShapes));
    o.color = static_cast<Color>(rng.below(kNumColors));
    o.size = static_cast<Size>(rng.below(kNumSizes));
    o.radius = static_cast<float>(size * (o.size == Size::small ? 0.095 + 0.015 * rng.uniform()
                                                                 : 0.16 + 0.02 * rng.uniform()));
    Rgb base = nominal_rgb(o.color);
    o.rgb = {jitter_channel(base.r, rng), jitter_channel(base.g, rng), jitter_channel(base.b, rng)};
    const Extent e = unit_extent(o.shape);
    const double r = o.radius;
    const double lo_x = 1 - r * e.xmin, hi_x = size - 1 - r * e.xmax;
    const double lo_y = 1 - r * e.ymin, hi_y = size - 1 - r * e.ymax;
    bool placed = false;
    for (int attempt = 0; attempt < 100 && !placed; ++attempt) {
      // Positions on a 1/8 pixel grid keep the geometry exact in float.
      o.cx = static_cast<float>(std::round((lo_x + rng.uniform() * (hi_x - lo_x)) * 8) / 8);
      o.cy = static_cast<float>(std::round((lo_y + rng.uniform() * (hi_y - lo_y)) * 8) / 8);
      o.box = box_of(o.shape, o.cx, o.cy, r);
      if (o.box.x < 0 || o.box.y < 0 || o.box.x + o.box.w > s.width || o.box.y + o.box.h > s.height)
        continue;
      placed = std::all_of(s.objects.begin(), s.objects.end(),
                           [&](const Object& p) { return apart(p.box, o.box, 2); });
    }
    if (placed) s.objects.push_back(o);
  }
  return s;
}

bool all_describable(const Scene& s) {
  for (int i = 0; i < static_cast<int>(s.objects.size()); ++i)
    if (unique_descriptions(s, i).empty()) return false;
  return true;
}

}  // namespace

Scene generate_scene(uint64_t seed, const SceneOptions& opt) {
  MRNN_CHECK(opt.image_size >= 32 && opt.image_size <= 1024,
             "SceneOptions.image_size must be in [32, 1024], got {}", opt.image_size);
  MRNN_CHECK(opt.min_objects >= 1 && opt.min_objects <= opt.max_objects && opt.max_objects <= 4,
             "SceneOptions.min_objects/max_objects must satisfy 1 <= min <= max <= 4, got {} and {}",
             opt.min_objects, opt.max_objects);
  MRNN_CHECK(opt.noise >= 0 && opt.noise <= 32, "SceneOptions.noise must be in [0, 32], got {}", opt.noise);
  MRNN_CHECK(!opt.novel_shape || is_novel(*opt.novel_shape),
             "SceneOptions.novel_shape must be star or hexagon, got {}",
             opt.novel_shape ? name(*opt.novel_shape) : "");
  const Rng root(seed);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Rng rng = root.child(attempt);
    Scene s = try_scene(rng, opt);
    if (static_cast<int>(s.objects.size()) >= opt.min_objects && all_describable(s)) return s;
  }
  MRNN_FAIL("generate_scene: no valid scene of {}..{} objects at {}x{} after 1000 attempts (seed {})",
            opt.min_objects, opt.max_objects, opt.image_size, opt.image_size, seed);
}

// ---- candidate regions -------------------------------------------------------------------------
std::vector<RegionCandidate> region_candidates(const Scene& scene, uint64_t seed, int jitter_per_object,
                                               int random_boxes) {
  Rng rng(seed);
  const int W = scene.width, H = scene.height;
  std::vector<RegionCandidate> out;
  for (const Object& o : scene.objects) out.push_back({o.box, name(o.shape)});
  for (const Object& o : scene.objects) {
    for (int k = 0; k < jitter_per_object; ++k) {
      double w = o.box.w * (0.75 + 0.55 * rng.uniform());
      double h = o.box.h * (0.75 + 0.55 * rng.uniform());
      double cx = o.box.cx() + (rng.uniform() - 0.5) * 0.5 * o.box.w;
      double cy = o.box.cy() + (rng.uniform() - 0.5) * 0.5 * o.box.h;
      int x0 = std::clamp(static_cast<int>(std::lround(cx - w / 2)), 0, W - 3);
      int y0 = std::clamp(static_cast<int>(std::lround(cy - h / 2)), 0, H - 3);
      int x1 = std::clamp(static_cast<int>(std::lround(cx + w / 2)), x0 + 3, W);
      int y1 = std::clamp(static_cast<int>(std::lround(cy + h / 2)), y0 + 3, H);
      out.push_back({Box{x0, y0, x1 - x0, y1 - y0}, name(o.shape)});
    }
  }
  for (int k = 0; k < random_boxes; ++k) {
    int w = 6 + rng.below(W / 2 - 5), h = 6 + rng.below(H / 2 - 5);
    int x = rng.below(W - w + 1), y = rng.below(H - h + 1);
    out.push_back({Box{x, y, w, h}, "background"});
  }
  for (int i = static_cast<int>(out.size()) - 1; i > 0; --i) std::swap(out[i], out[rng.below(i + 1)]);
  return out;
}

}  // namespace shapes

}  // namespace mrnn
