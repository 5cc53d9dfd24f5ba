#include "data/shapes_related.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "data/shapes_render.h"
#include "data/shapes_world.h"

namespace mrnn {
namespace shapes {

namespace {

// Mean radius of each size as the generator draws it (a fraction of the image size).
double mean_radius(Size s, int image_size) { return image_size * (s == Size::small ? 0.1025 : 0.17); }

// One object alone on black, noise 0, centred: the renderer's own pixels.
Image render_alone(Shape shape, Rgb rgb, double radius, int image_size) {
  Scene sc;
  sc.width = sc.height = image_size;
  sc.background = {0, 0, 0};
  sc.noise = 0;
  Object o;
  o.shape = shape;
  o.rgb = rgb;
  o.cx = o.cy = static_cast<float>(image_size / 2);
  o.radius = static_cast<float>(radius);
  o.box = {0, 0, image_size, image_size};
  sc.objects.push_back(o);
  return render_scene(sc);
}

// Per-pixel coverage in [0, 1] of a white shape.
std::vector<double> coverage(Shape shape, double radius, int image_size) {
  const Image im = render_alone(shape, {255, 255, 255}, radius, image_size);
  std::vector<double> c(static_cast<size_t>(image_size) * image_size);
  for (size_t p = 0; p < c.size(); ++p) c[p] = im.rgb[p * 3] / 255.0;
  return c;
}

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

// 1 - soft IoU of two coverage masks: sum min / sum max.
double mask_distance(const std::vector<double>& a, const std::vector<double>& b) {
  double inter = 0, uni = 0;
  for (size_t p = 0; p < a.size(); ++p) {
    inter += std::fmin(a[p], b[p]);
    uni += std::fmax(a[p], b[p]);
  }
  return uni > 0 ? 1.0 - inter / uni : 0.0;
}

// Mean rendered colour over the pixels a large circle fully covers.
std::array<double, 3> rendered_rgb(Color c, int image_size) {
  const double r = mean_radius(Size::large, image_size);
  const Image im = render_alone(Shape::circle, nominal_rgb(c), r, image_size);
  const std::vector<double> cov = coverage(Shape::circle, r, image_size);
  std::array<double, 3> m{0, 0, 0};
  double n = 0;
  for (size_t p = 0; p < cov.size(); ++p)
    if (cov[p] == 1.0) {
      for (int k = 0; k < 3; ++k) m[k] += im.rgb[p * 3 + k];
      n += 1;
    }
  for (double& v : m) v /= n;
  return m;
}

// Items for every query and unordered candidate pair of `names` with distance dist(i, j).
template <typename Dist>
void add_items(const std::vector<std::string>& names, const std::string& category, Dist dist,
               std::vector<RelatedItem>* out) {
  const int n = static_cast<int>(names.size());
  for (int q = 0; q < n; ++q)
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        if (i == q || j == q) continue;
        const double di = dist(q, i), dj = dist(q, j);
        const double near = std::fmin(di, dj), far = std::fmax(di, dj);
        if (!(far > 0 && far >= kRelatedMargin * near)) continue;
        RelatedItem it;
        it.category = category;
        it.query = names[q];
        const int rel = di < dj ? i : j, other = di < dj ? j : i;
        const bool related_first = out->size() % 2 == 0;  // alternate the answer's position
        it.a = names[related_first ? rel : other];
        it.b = names[related_first ? other : rel];
        it.a_related = related_first;
        it.dist_a = related_first ? std::fmin(di, dj) : std::fmax(di, dj);
        it.dist_b = related_first ? std::fmax(di, dj) : std::fmin(di, dj);
        out->push_back(it);
      }
}

}  // namespace

std::vector<RelatedItem> related_items(int image_size) {
  MRNN_CHECK(image_size >= 32 && image_size <= 1024, "related_items: image_size must be in [32, 1024], got {}",
             image_size);
  std::vector<RelatedItem> out;
  // Colours: Euclidean distance of the rendered RGB.
  std::vector<std::string> colors;
  std::vector<std::array<double, 3>> rgb;
  for (int c = 0; c < kNumColors; ++c) {
    colors.push_back(name(static_cast<Color>(c)));
    rgb.push_back(rendered_rgb(static_cast<Color>(c), image_size));
  }
  add_items(colors, "color", [&](int a, int b) {
    double s = 0;
    for (int k = 0; k < 3; ++k) s += (rgb[a][k] - rgb[b][k]) * (rgb[a][k] - rgb[b][k]);
    return std::sqrt(s);
  }, &out);
  // Shapes: 1 - IoU of the masks drawn at the same centre and radius (a large object's).
  std::vector<std::string> shapes_names;
  std::vector<std::vector<double>> masks;
  std::vector<std::array<double, kNumSizes>> area(kNumBaseShapes);
  for (int s = 0; s < kNumBaseShapes; ++s) {
    const Shape sh = static_cast<Shape>(s);
    shapes_names.push_back(name(sh));
    masks.push_back(coverage(sh, mean_radius(Size::large, image_size), image_size));
    for (int z = 0; z < kNumSizes; ++z)
      area[s][z] = sum_of(coverage(sh, mean_radius(static_cast<Size>(z), image_size), image_size));
  }
  add_items(shapes_names, "shape", [&](int a, int b) { return mask_distance(masks[a], masks[b]); }, &out);
  // Sizes: "size shape" phrases by rendered area. Each item's candidates share one word with the
  // query each (the same size with another shape, the other size with the same shape), so word
  // overlap alone cannot answer it.
  for (int z = 0; z < kNumSizes; ++z)
    for (int q = 0; q < kNumBaseShapes; ++q)
      for (int s = 0; s < kNumBaseShapes; ++s) {
        if (s == q) continue;
        const int oz = 1 - z;
        const double aq = area[q][z];
        const double d_same = std::fabs(area[s][z] - aq), d_other = std::fabs(area[q][oz] - aq);
        const double near = std::fmin(d_same, d_other), far = std::fmax(d_same, d_other);
        if (!(far > 0 && far >= kRelatedMargin * near)) continue;
        const std::string same = std::string(name(static_cast<Size>(z))) + " " + name(static_cast<Shape>(s));
        const std::string other = std::string(name(static_cast<Size>(oz))) + " " + name(static_cast<Shape>(q));
        const bool same_related = d_same < d_other;
        const std::string rel = same_related ? same : other, unrel = same_related ? other : same;
        RelatedItem it;
        it.category = "size";
        it.query = std::string(name(static_cast<Size>(z))) + " " + name(static_cast<Shape>(q));
        const bool related_first = out.size() % 2 == 0;
        it.a = related_first ? rel : unrel;
        it.b = related_first ? unrel : rel;
        it.a_related = related_first;
        it.dist_a = related_first ? near : far;
        it.dist_b = related_first ? far : near;
        out.push_back(it);
      }
  return out;
}

std::string related_items_tsv(int image_size) {
  std::string s =
      "# ShapesWorld related-phrase ranking (docs/embeddings.md). Fields: query, candidate A, candidate B,\n"
      "# the related candidate (A|B), category. Truth from the rendered world, not the captions: colour =\n"
      "# distance of rendered RGB; shape = 1 - IoU of rendered masks; size = difference of rendered area of\n"
      "# 'size shape' phrases. An item is kept when the far candidate is >= 1.5x as far as the near one.\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "# image size %d\n", image_size);
  s += buf;
  for (const RelatedItem& it : related_items(image_size))
    s += it.query + "\t" + it.a + "\t" + it.b + "\t" + (it.a_related ? "A" : "B") + "\t" + it.category + "\n";
  return s;
}

}  // namespace shapes
}  // namespace mrnn
