// ShapesWorld scenes and rendering: layout invariants, geometry, pixels, PNG round trip.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "data/shapes_render.h"
#include "data/shapes_world.h"

using namespace mrnn::shapes;

namespace {

Scene scene_n(uint64_t seed, std::optional<Shape> novel = std::nullopt, int noise = 6) {
  SceneOptions o;
  o.novel_shape = novel;
  o.noise = noise;
  return generate_scene(seed, o);
}

int channel_diff(const uint8_t* p, Rgb c) {
  return std::max({std::abs(p[0] - c.r), std::abs(p[1] - c.g), std::abs(p[2] - c.b)});
}

}  // namespace

TEST_CASE("Rng streams are counter based and reproducible") {
  Rng a(42), b(42), c(43);
  std::vector<uint32_t> va, vb, vc;
  for (int i = 0; i < 10; ++i) {
    va.push_back(a.next_u32());
    vb.push_back(b.next_u32());
    vc.push_back(c.next_u32());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  // Word i of a stream is Philox word i of its key: independent of how it is consumed.
  Rng d(42);
  CHECK(d.next_u32() == va[0]);
  CHECK(Rng(42).child(5).key() == Rng(42).child(5).key());
  CHECK(Rng(42).child(5).key() != Rng(42).child(6).key());
  Rng e(7);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 3000; ++i) counts[e.below(3)]++;
  for (int k : counts) CHECK(std::abs(k - 1000) < 120);  // ~4 sigma
}

TEST_CASE("shape geometry: origin inside, outline inside extent and touching it, areas agree") {
  for (int si = 0; si < kNumShapes; ++si) {
    const Shape s = static_cast<Shape>(si);
    INFO(name(s));
    CHECK(shape_contains(s, 0, 0));
    CHECK(shape_contains(s, 0.29, 0));
    CHECK(shape_contains(s, 0, -0.29));
    CHECK_FALSE(shape_contains(s, 1.01, 1.01));
    const Extent e = unit_extent(s);
    auto pts = unit_outline(s);
    double xmin = 9, xmax = -9, ymin = 9, ymax = -9, area2 = 0;
    for (size_t i = 0; i < pts.size(); ++i) {
      xmin = std::min(xmin, pts[i].first);
      xmax = std::max(xmax, pts[i].first);
      ymin = std::min(ymin, pts[i].second);
      ymax = std::max(ymax, pts[i].second);
      const auto& q = pts[(i + 1) % pts.size()];
      area2 += pts[i].first * q.second - q.first * pts[i].second;
    }
    CHECK(xmin == Approx(e.xmin).margin(1e-9));
    CHECK(xmax == Approx(e.xmax).margin(1e-9));
    CHECK(ymin == Approx(e.ymin).margin(1e-9));
    CHECK(ymax == Approx(e.ymax).margin(1e-9));
    CHECK(area2 > 0);  // clockwise on screen (y down) = positive shoelace sum
    // The inside test and the outline describe the same region: grid area vs polygon area.
    int inside = 0, n = 400;
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x)
        inside += shape_contains(s, -1.2 + 2.4 * (x + 0.5) / n, -1.2 + 2.4 * (y + 0.5) / n) ? 1 : 0;
    const double grid_area = inside * (2.4 * 2.4) / (n * n);
    const double poly_area = area2 / 2;
    const double tol = s == Shape::circle ? 0.02 : 0.01;  // the 32-gon is 0.6% smaller than the circle
    CHECK(grid_area == Approx(poly_area).epsilon(tol));
  }
  CHECK(shape_contains(Shape::circle, 0.7, 0.7));
  CHECK_FALSE(shape_contains(Shape::square, 0.7, 0.9));
  CHECK_FALSE(shape_contains(Shape::cross, 0.6, 0.6));   // between the arms
  CHECK_FALSE(shape_contains(Shape::star, 0.0, 0.6));    // notch between the two lower points
  CHECK_FALSE(shape_contains(Shape::triangle, 0.8, -0.5));
}

TEST_CASE("scenes: 1-4 objects inside the image, 2 px apart, sizes distinct, base shapes only") {
  std::set<int> counts;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Scene s = scene_n(seed);
    INFO("seed " << seed);
    REQUIRE(s.objects.size() >= 1);
    REQUIRE(s.objects.size() <= 4);
    counts.insert(static_cast<int>(s.objects.size()));
    for (size_t i = 0; i < s.objects.size(); ++i) {
      const Object& o = s.objects[i];
      CHECK_FALSE(is_novel(o.shape));
      CHECK(o.box.x >= 0);
      CHECK(o.box.y >= 0);
      CHECK(o.box.x + o.box.w <= s.width);
      CHECK(o.box.y + o.box.h <= s.height);
      // small radius 6.1..7.0 px, large 10.2..11.5 px at 64x64
      if (o.size == Size::small) CHECK((o.radius >= 6.0f && o.radius <= 7.1f));
      else CHECK((o.radius >= 10.2f && o.radius <= 11.6f));
      for (size_t j = 0; j < i; ++j) {
        const Box &a = o.box, &b = s.objects[j].box;
        bool apart = a.x + a.w + 2 <= b.x || b.x + b.w + 2 <= a.x || a.y + a.h + 2 <= b.y || b.y + b.h + 2 <= a.y;
        CHECK(apart);
      }
      CHECK(!unique_descriptions(s, static_cast<int>(i)).empty());
    }
  }
  CHECK(counts == std::set<int>{1, 2, 3, 4});
  // Same seed, same scene; another seed, another scene.
  Scene a = scene_n(5), b = scene_n(5), c = scene_n(6);
  REQUIRE(a.objects.size() == b.objects.size());
  for (size_t i = 0; i < a.objects.size(); ++i) {
    CHECK(a.objects[i].cx == b.objects[i].cx);
    CHECK(a.objects[i].shape == b.objects[i].shape);
  }
  CHECK((a.objects.size() != c.objects.size() || a.objects[0].cx != c.objects[0].cx));
}

TEST_CASE("novel scenes contain their novel shape and never the other one") {
  for (Shape novel : {Shape::star, Shape::hexagon}) {
    const Shape other = novel == Shape::star ? Shape::hexagon : Shape::star;
    for (uint64_t seed = 0; seed < 100; ++seed) {
      Scene s = scene_n(seed, novel);
      int n_novel = 0;
      for (const Object& o : s.objects) {
        CHECK(o.shape != other);
        n_novel += o.shape == novel ? 1 : 0;
      }
      CHECK(n_novel >= 1);
    }
  }
  SceneOptions bad;
  bad.novel_shape = Shape::circle;
  CHECK_THROWS_AS(generate_scene(1, bad), mrnn::Error);
  SceneOptions tiny;
  tiny.image_size = 8;
  CHECK_THROWS_WITH(generate_scene(1, tiny), Catch::Contains("image_size"));
}

TEST_CASE("relations: every pair of objects is related along at least one axis") {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Scene s = scene_n(seed);
    for (size_t i = 0; i < s.objects.size(); ++i)
      for (size_t j = 0; j < s.objects.size(); ++j) {
        if (i == j) continue;
        const Box &a = s.objects[i].box, &b = s.objects[j].box;
        int n = 0;
        for (Relation r : {Relation::left_of, Relation::right_of, Relation::above, Relation::below}) n += holds(r, a, b);
        CHECK(n >= 1);
        CHECK(holds(Relation::left_of, a, b) == holds(Relation::right_of, b, a));
        CHECK_FALSE((holds(Relation::left_of, a, b) && holds(Relation::right_of, a, b)));
      }
  }
  // Hand-made boxes.
  Box a{0, 0, 10, 10}, b{12, 5, 10, 10}, c{5, 10, 4, 4};
  CHECK(holds(Relation::left_of, a, b));
  CHECK_FALSE(holds(Relation::above, a, b));  // rows 0..9 and 5..14 overlap
  CHECK(holds(Relation::above, a, c));        // a ends at row 10, c starts there
  Location l = location_of(Box{2, 2, 10, 10}, 64, 64);  // centre (7, 7)
  CHECK((l.left && l.top && !l.right && !l.bottom && !l.middle));
  l = location_of(Box{27, 27, 10, 10}, 64, 64);  // centre (32, 32)
  CHECK((l.middle && !l.left && !l.top));
}

TEST_CASE("rendering: object centres have the object's colour, background elsewhere, edges anti-aliased") {
  for (uint64_t seed = 0; seed < 60; ++seed) {
    Scene s = scene_n(seed, seed % 3 == 0 ? std::optional<Shape>(Shape::star) : std::nullopt);
    Image img = render_scene(s);
    REQUIRE(img.width == 64);
    REQUIRE(img.height == 64);
    REQUIRE(img.rgb.size() == 64u * 64u * 3u);
    for (const Object& o : s.objects) {
      const uint8_t* p = img.at(static_cast<int>(o.cx), static_cast<int>(o.cy));
      INFO("seed " << seed << " " << name(o.color) << " " << name(o.shape));
      CHECK(channel_diff(p, o.rgb) <= s.noise + 1);
      CHECK(channel_diff(p, nominal_rgb(o.color)) <= 10 + s.noise + 1);
      // Covered area: the pixels of the object's colour roughly cover the shape's area.
      int close = 0;
      for (int y = o.box.y; y < o.box.y + o.box.h; ++y)
        for (int x = o.box.x; x < o.box.x + o.box.w; ++x) close += channel_diff(img.at(x, y), o.rgb) <= s.noise + 1;
      auto outline = unit_outline(o.shape);
      double area2 = 0;
      for (size_t i = 0; i < outline.size(); ++i) {
        const auto &a = outline[i], &b = outline[(i + 1) % outline.size()];
        area2 += a.first * b.second - b.first * a.second;
      }
      CHECK(close >= 0.4 * area2 / 2 * o.radius * o.radius);
      CHECK(close <= 1.2 * area2 / 2 * o.radius * o.radius + 4);
    }
    // Pixels outside every box are background plus noise.
    for (int y = 0; y < 64; y += 3)
      for (int x = 0; x < 64; x += 3) {
        bool in_box = false;
        for (const Object& o : s.objects)
          in_box |= x >= o.box.x && x < o.box.x + o.box.w && y >= o.box.y && y < o.box.y + o.box.h;
        if (!in_box) CHECK(channel_diff(img.at(x, y), s.background) <= s.noise);
      }
  }
  // Without noise a circle's border has intermediate values (supersampling), its middle does not.
  Scene s;
  s.noise = 0;
  s.background = {0, 0, 0};
  Object o;
  o.shape = Shape::circle;
  o.radius = 10;
  o.cx = o.cy = 32;
  o.rgb = {200, 200, 200};
  o.box = {22, 22, 20, 20};
  s.objects = {o};
  Image img = render_scene(s);
  CHECK(img.at(32, 32)[0] == 200);
  CHECK(img.at(5, 5)[0] == 0);
  int partial = 0;
  for (int x = 20; x < 44; ++x) {
    uint8_t v = img.at(x, 32 - 7)[0];  // a row crossing the border twice
    partial += (v > 0 && v < 200) ? 1 : 0;
  }
  CHECK(partial >= 2);
  // Exact coverage: a square centred at x = 32.5 with half side 8.2 ends at x = 40.7, so 3 of the
  // 4 subsample columns of pixel column 40 (x = 40.125, 40.375, 40.625, 40.875) are inside.
  s.objects[0].shape = Shape::square;
  s.objects[0].cx = 32.5f;
  s.objects[0].box = {24, 23, 17, 18};
  Image sq = render_scene(s);
  CHECK(sq.at(40, 32)[0] == 150);
  CHECK(sq.at(39, 32)[0] == 200);
  CHECK(sq.at(41, 32)[0] == 0);
  // Same scene, same pixels; different noise keys, different pixels.
  Scene n1 = scene_n(3), n2 = scene_n(3);
  CHECK(render_scene(n1).rgb == render_scene(n2).rgb);
  n2.seed ^= 1;
  CHECK(render_scene(n1).rgb != render_scene(n2).rgb);
}

TEST_CASE("PNG encode/decode round trip and upscaling") {
  Scene s = scene_n(11);
  Image img = render_scene(s);
  std::vector<uint8_t> png = encode_png(img);
  REQUIRE(png.size() > 8);
  CHECK(png[0] == 0x89);
  CHECK(png[1] == 'P');
  CHECK(png[2] == 'N');
  CHECK(png[3] == 'G');
  CHECK(encode_png(img) == png);
  Image back = decode_png(png);
  CHECK(back.width == img.width);
  CHECK(back.height == img.height);
  CHECK(back.rgb == img.rgb);
  Image big = upscale_nearest(img, 4);
  CHECK(big.width == 256);
  CHECK(big.height == 256);
  for (int y : {0, 17, 255})
    for (int x : {0, 100, 255}) CHECK(std::equal(big.at(x, y), big.at(x, y) + 3, img.at(x / 4, y / 4)));
  CHECK_THROWS_WITH(decode_png({1, 2, 3}, "broken.png"), Catch::Contains("broken.png"));
}
