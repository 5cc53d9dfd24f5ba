#include "data/shapes_render.h"

#include <algorithm>
#include <cmath>

#include <stb_image.h>
#include <stb_image_write.h>

#include "core/error.h"
#include "core/philox.h"

namespace mrnn {
namespace shapes {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kSqrt3 = 1.7320508075688772;
constexpr double kSquareHalf = 0.82;    // square half side
constexpr double kDiamondHalfW = 0.72;  // diamond half width (half height 1)
constexpr double kCrossArm = 0.32;      // half width of the cross's arms
constexpr double kCrossLen = 0.95;      // half length of the arms
constexpr double kTriTop = -0.9, kTriBase = 0.82;  // apex y and base y; base spans x in [-1, 1]
constexpr double kStarInner = 0.42;     // inner radius of the five-pointed star (outer 1)

std::vector<std::pair<double, double>> star_outline() {
  std::vector<std::pair<double, double>> pts;
  for (int k = 0; k < 10; ++k) {
    double a = -kPi / 2 + k * kPi / 5;
    double r = (k % 2 == 0) ? 1.0 : kStarInner;
    pts.emplace_back(r * std::cos(a), r * std::sin(a));
  }
  return pts;
}

const std::vector<std::pair<double, double>>& star_polygon() {
  static const std::vector<std::pair<double, double>> pts = star_outline();
  return pts;
}

// Crossing-number test for a closed polygon.
bool polygon_contains(const std::vector<std::pair<double, double>>& p, double u, double v) {
  bool inside = false;
  for (size_t i = 0, j = p.size() - 1; i < p.size(); j = i++) {
    double xi = p[i].first, yi = p[i].second, xj = p[j].first, yj = p[j].second;
    if ((yi > v) != (yj > v) && u < (xj - xi) * (v - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Triangle as the intersection of three half-planes (apex up).
bool triangle_contains(double u, double v) {
  if (v > kTriBase) return false;
  // Sides from the apex (0, kTriTop) to (±1, kTriBase): |u| <= (v - kTriTop) / (kTriBase - kTriTop).
  return std::fabs(u) <= (v - kTriTop) / (kTriBase - kTriTop);
}

uint8_t clamp_byte(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

Extent unit_extent(Shape s) {
  switch (s) {
    case Shape::circle: return {-1, 1, -1, 1};
    case Shape::square: return {-kSquareHalf, kSquareHalf, -kSquareHalf, kSquareHalf};
    case Shape::triangle: return {-1, 1, kTriTop, kTriBase};
    case Shape::diamond: return {-kDiamondHalfW, kDiamondHalfW, -1, 1};
    case Shape::cross: return {-kCrossLen, kCrossLen, -kCrossLen, kCrossLen};
    case Shape::star: {
      double x = std::cos(kPi / 10), y = std::sin(3 * kPi / 10);  // tips at ±18° and ±54° below
      return {-x, x, -1, y};
    }
    case Shape::hexagon: return {-1, 1, -kSqrt3 / 2, kSqrt3 / 2};
  }
  MRNN_FAIL("unit_extent: unknown shape {}", static_cast<int>(s));
}

bool shape_contains(Shape s, double u, double v) {
  switch (s) {
    case Shape::circle: return u * u + v * v <= 1.0;
    case Shape::square: return std::fabs(u) <= kSquareHalf && std::fabs(v) <= kSquareHalf;
    case Shape::triangle: return triangle_contains(u, v);
    case Shape::diamond: return std::fabs(u) / kDiamondHalfW + std::fabs(v) <= 1.0;
    case Shape::cross: {
      double au = std::fabs(u), av = std::fabs(v);
      return (au <= kCrossArm && av <= kCrossLen) || (av <= kCrossArm && au <= kCrossLen);
    }
    case Shape::star: return polygon_contains(star_polygon(), u, v);
    case Shape::hexagon: {
      double au = std::fabs(u), av = std::fabs(v);
      return av <= kSqrt3 / 2 && kSqrt3 * au + av <= kSqrt3;
    }
  }
  return false;
}

std::vector<std::pair<double, double>> unit_outline(Shape s) {
  switch (s) {
    case Shape::circle: {
      std::vector<std::pair<double, double>> pts;
      for (int k = 0; k < 32; ++k) pts.emplace_back(std::cos(k * kPi / 16), std::sin(k * kPi / 16));
      return pts;
    }
    case Shape::square: {
      double h = kSquareHalf;
      return {{-h, -h}, {h, -h}, {h, h}, {-h, h}};
    }
    case Shape::triangle: return {{0, kTriTop}, {1, kTriBase}, {-1, kTriBase}};
    case Shape::diamond: return {{0, -1}, {kDiamondHalfW, 0}, {0, 1}, {-kDiamondHalfW, 0}};
    case Shape::cross: {
      double a = kCrossArm, l = kCrossLen;
      return {{-a, -l}, {a, -l}, {a, -a}, {l, -a}, {l, a},  {a, a},
              {a, l},   {-a, l}, {-a, a}, {-l, a}, {-l, -a}, {-a, -a}};
    }
    case Shape::star: return star_outline();
    case Shape::hexagon: {
      std::vector<std::pair<double, double>> pts;
      for (int k = 0; k < 6; ++k) pts.emplace_back(std::cos(k * kPi / 3), std::sin(k * kPi / 3));
      return pts;
    }
  }
  return {};
}

Image render_scene(const Scene& scene, int supersample) {
  MRNN_CHECK(supersample >= 1 && supersample <= 16, "render_scene: supersample must be in [1, 16], got {}",
             supersample);
  Image img;
  img.width = scene.width;
  img.height = scene.height;
  const size_t n_pixels = static_cast<size_t>(scene.width) * scene.height;
  std::vector<float> buf(n_pixels * 3);
  for (size_t p = 0; p < n_pixels; ++p) {
    buf[p * 3 + 0] = scene.background.r;
    buf[p * 3 + 1] = scene.background.g;
    buf[p * 3 + 2] = scene.background.b;
  }
  const int ss = supersample;
  const double inv_ss = 1.0 / ss;
  for (const Object& o : scene.objects) {
    const double inv_r = 1.0 / o.radius;
    const int x0 = std::max(o.box.x, 0), x1 = std::min(o.box.x + o.box.w, scene.width);
    const int y0 = std::max(o.box.y, 0), y1 = std::min(o.box.y + o.box.h, scene.height);
    // For a convex shape a pixel whose four corners are inside is covered entirely: skip its subsamples.
    const bool convex = o.shape != Shape::cross && o.shape != Shape::star;
    for (int py = y0; py < y1; ++py) {
      for (int px = x0; px < x1; ++px) {
        int inside = 0;
        if (convex) {
          const double u0 = (px - o.cx) * inv_r, u1 = (px + 1 - o.cx) * inv_r;
          const double v0 = (py - o.cy) * inv_r, v1 = (py + 1 - o.cy) * inv_r;
          if (shape_contains(o.shape, u0, v0) && shape_contains(o.shape, u1, v0) &&
              shape_contains(o.shape, u0, v1) && shape_contains(o.shape, u1, v1))
            inside = ss * ss;
        }
        if (inside == 0) {
          for (int sy = 0; sy < ss; ++sy) {
            double v = (py + (sy + 0.5) * inv_ss - o.cy) * inv_r;
            for (int sx = 0; sx < ss; ++sx) {
              double u = (px + (sx + 0.5) * inv_ss - o.cx) * inv_r;
              inside += shape_contains(o.shape, u, v) ? 1 : 0;
            }
          }
        }
        if (inside == 0) continue;
        float cov = static_cast<float>(inside) / static_cast<float>(ss * ss);
        float* d = &buf[(static_cast<size_t>(py) * scene.width + px) * 3];
        d[0] += cov * (o.rgb.r - d[0]);
        d[1] += cov * (o.rgb.g - d[1]);
        d[2] += cov * (o.rgb.b - d[2]);
      }
    }
  }
  // Noise: one Philox block gives 16 bytes = 4 pixels × (3 channels + 1 unused).
  img.rgb.resize(n_pixels * 3);
  const int amp = scene.noise;
  const uint64_t noise_key = scene.seed ^ 0x6E6F697365ull;  // "noise"
  for (size_t p = 0; p < n_pixels; p += 4) {
    Philox4 r = philox4x32_10(p / 4, 7, noise_key);
    for (size_t k = 0; k < 4 && p + k < n_pixels; ++k) {
      for (int c = 0; c < 3; ++c) {
        uint32_t byte = (r.v[k] >> (8 * c)) & 0xFFu;
        int offset = amp == 0 ? 0 : static_cast<int>((byte * (2u * amp + 1u)) >> 8) - amp;
        img.rgb[(p + k) * 3 + c] = clamp_byte(buf[(p + k) * 3 + c] + offset);
      }
    }
  }
  return img;
}

Image upscale_nearest(const Image& image, int factor) {
  MRNN_CHECK(factor >= 1, "upscale_nearest: factor must be >= 1, got {}", factor);
  Image out;
  out.width = image.width * factor;
  out.height = image.height * factor;
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      std::copy_n(image.at(x / factor, y / factor), 3,
                  &out.rgb[(static_cast<size_t>(y) * out.width + x) * 3]);
  return out;
}

std::vector<uint8_t> encode_png(const Image& image) {
  MRNN_CHECK(image.width > 0 && image.height > 0 &&
                 image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3,
             "encode_png: image of {}x{} has {} bytes, expected width*height*3", image.width,
             image.height, image.rgb.size());
  std::vector<uint8_t> out;
  int ok = stbi_write_png_to_func(append_bytes, &out, image.width, image.height, 3, image.rgb.data(),
                                  image.width * 3);
  MRNN_CHECK(ok != 0, "encode_png: stb_image_write failed for a {}x{} image", image.width, image.height);
  return out;
}

Image decode_png(const std::vector<uint8_t>& bytes, const std::string& what) {
  int w = 0, h = 0, channels = 0;
  stbi_uc* data = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, 3);
  MRNN_CHECK(data != nullptr, "{}: not a decodable image ({})", what,
             stbi_failure_reason() ? stbi_failure_reason() : "unknown reason");
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(data, data + static_cast<size_t>(w) * h * 3);
  stbi_image_free(data);
  return img;
}

}  // namespace shapes
}  // namespace mrnn
