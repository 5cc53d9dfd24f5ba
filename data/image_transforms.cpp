#include "data/image_transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <stb_image_resize.h>

#include "core/error.h"

namespace mrnn {
namespace {

void check_image(const Image& img, const char* op) {
  MRNN_CHECK(img.width > 0 && img.height > 0 &&
                 img.rgb.size() == size_t{3} * static_cast<size_t>(img.width) *
                                       static_cast<size_t>(img.height),
             "{}: invalid image of {}x{} pixels holding {} bytes (expected 3 per pixel)", op,
             img.width, img.height, img.rgb.size());
}

Image blank(int width, int height) {
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.resize(size_t{3} * static_cast<size_t>(width) * static_cast<size_t>(height));
  return out;
}

void check_window(const Image& img, int x, int y, int width, int height, const char* op) {
  MRNN_CHECK(width > 0 && height > 0 && x >= 0 && y >= 0 && x <= img.width - width &&
                 y <= img.height - height,
             "{}: window of {}x{} at ({}, {}) does not fit in the {}x{} image", op, width, height,
             x, y, img.width, img.height);
}

}  // namespace

Image resize(const Image& img, int width, int height) {
  check_image(img, "resize");
  MRNN_CHECK(width > 0 && height > 0 && int64_t{width} * height <= kMaxImagePixels,
             "resize: target size {}x{} must be positive and at most {} pixels", width, height,
             kMaxImagePixels);
  if (width == img.width && height == img.height) return img;
  Image out = blank(width, height);
  const int ok = stbir_resize_uint8_generic(
      img.rgb.data(), img.width, img.height, img.width * 3, out.rgb.data(), width, height,
      width * 3, 3, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM,
      STBIR_COLORSPACE_LINEAR, nullptr);
  MRNN_CHECK(ok != 0, "resize: stb_image_resize failed ({}x{} -> {}x{})", img.width, img.height,
             width, height);
  return out;
}

Image resize_shorter_side(const Image& img, int shorter) {
  check_image(img, "resize_shorter_side");
  MRNN_CHECK(shorter > 0, "resize_shorter_side: size must be positive, got {}", shorter);
  const bool wide = img.width >= img.height;
  const int64_t short_side = wide ? img.height : img.width;
  const int64_t long_side = wide ? img.width : img.height;
  const int64_t scaled = std::max<int64_t>(1, int64_t{shorter} * long_side / short_side);
  MRNN_CHECK(scaled <= kMaxImagePixels, "resize_shorter_side: {}x{} with shorter side {} is too "
             "large", img.width, img.height, shorter);
  const int other = static_cast<int>(scaled);
  return wide ? resize(img, other, shorter) : resize(img, shorter, other);
}

Image crop(const Image& img, int x, int y, int width, int height) {
  check_image(img, "crop");
  check_window(img, x, y, width, height, "crop");
  Image out = blank(width, height);
  const size_t row = size_t{3} * static_cast<size_t>(width);
  for (int r = 0; r < height; ++r) {
    const size_t src = (static_cast<size_t>(y + r) * static_cast<size_t>(img.width) +
                        static_cast<size_t>(x)) * 3;
    std::memcpy(out.rgb.data() + static_cast<size_t>(r) * row, img.rgb.data() + src, row);
  }
  return out;
}

Image center_crop(const Image& img, int width, int height) {
  check_image(img, "center_crop");
  check_window(img, 0, 0, width, height, "center_crop");
  // torchvision: int(round((W - w) / 2.0)), Python rounding halves to even.
  auto origin = [](int slack) {
    return slack / 2 + ((slack % 2 == 1 && (slack / 2) % 2 == 1) ? 1 : 0);
  };
  return crop(img, origin(img.width - width), origin(img.height - height), width, height);
}

CropOrigin crop_origin_from_uniform(double u1, double u2, int img_w, int img_h, int crop_w,
                                    int crop_h) {
  MRNN_CHECK(crop_w > 0 && crop_h > 0 && crop_w <= img_w && crop_h <= img_h,
             "crop_origin_from_uniform: window of {}x{} does not fit in {}x{}", crop_w, crop_h,
             img_w, img_h);
  MRNN_CHECK(u1 >= 0 && u1 < 1 && u2 >= 0 && u2 < 1,
             "crop_origin_from_uniform: draws must lie in [0, 1), got {} and {}", u1, u2);
  auto pick = [](double u, int slack) {
    return std::min(slack, static_cast<int>(std::floor(u * (slack + 1))));
  };
  return {pick(u1, img_w - crop_w), pick(u2, img_h - crop_h)};
}

Image flip_horizontal(const Image& img) {
  check_image(img, "flip_horizontal");
  Image out = blank(img.width, img.height);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* src = img.rgb.data() + static_cast<size_t>(y) * img.width * 3;
    uint8_t* dst = out.rgb.data() + static_cast<size_t>(y) * img.width * 3;
    for (int x = 0; x < img.width; ++x)
      std::memcpy(dst + static_cast<size_t>(img.width - 1 - x) * 3,
                  src + static_cast<size_t>(x) * 3, 3);
  }
  return out;
}

std::vector<float> to_chw_float(const Image& img, const std::array<float, 3>& mean,
                                const std::array<float, 3>& std) {
  check_image(img, "to_chw_float");
  for (int c = 0; c < 3; ++c)
    MRNN_CHECK(std[c] != 0.f, "to_chw_float: std[{}] is zero", c);
  const size_t plane = static_cast<size_t>(img.width) * static_cast<size_t>(img.height);
  std::vector<float> out(3 * plane);
  // The same float operations as torchvision's ToTensor (divide by 255) then Normalize.
  for (int c = 0; c < 3; ++c) {
    float* dst = out.data() + static_cast<size_t>(c) * plane;
    for (size_t i = 0; i < plane; ++i)
      dst[i] = (static_cast<float>(img.rgb[i * 3 + c]) / 255.f - mean[c]) / std[c];
  }
  return out;
}

}  // namespace mrnn
