// How ShapesWorld objects look: each shape's geometry in its unit frame, and drawing a scene into
// an anti-aliased RGB image (and PNG bytes). Kept apart from the scene logic so the tests can check
// pixels against the geometry directly.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/shapes_world.h"

namespace mrnn {
namespace shapes {

// Axis-aligned extent of a shape in its unit frame (y grows downwards, like image rows).
struct Extent {
  double xmin, xmax, ymin, ymax;
};
Extent unit_extent(Shape s);

// Ensures: whether unit-frame point (u, v) is inside shape s. (0, 0) is inside every shape, at
// least 0.3 units from its border.
bool shape_contains(Shape s, double u, double v);

// Ensures: the shape's outline as a closed polygon in the unit frame (a circle as a 32-gon),
// clockwise in image coordinates, first vertex not repeated.
std::vector<std::pair<double, double>> unit_outline(Shape s);

// Interleaved 8-bit RGB, row-major, no padding.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
  const uint8_t* at(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

// Ensures: the scene drawn on its background: each object's pixels blended with its colour by the
// fraction of supersample × supersample subpixel centres inside the shape, then ±scene.noise
// uniform per-pixel noise per channel (keyed by scene.seed). Deterministic.
Image render_scene(const Scene& scene, int supersample = 4);

// Ensures: each pixel repeated factor × factor times (for viewing small images).
Image upscale_nearest(const Image& image, int factor);

// Ensures: the PNG encoding of `image` (deterministic: same pixels → same bytes).
std::vector<uint8_t> encode_png(const Image& image);
// Ensures: the RGB pixels of a PNG; throws mrnn::Error naming `what` (e.g. the file) if undecodable.
Image decode_png(const std::vector<uint8_t>& bytes, const std::string& what = "PNG data");

}  // namespace shapes
}  // namespace mrnn
