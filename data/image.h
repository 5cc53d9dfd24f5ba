// Image: an 8-bit RGB picture (HWC), loaded from PNG, JPEG or BMP through stb_image and saved as
// PNG. Why: every captioning / retrieval dataset starts from image files; one pixel layout keeps
// the transforms and the CNN input simple.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace mrnn {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // height rows of width pixels of R, G, B: 3 * width * height bytes

  // Channel c (0 = R, 1 = G, 2 = B) of pixel (x, y); requires them in range (unchecked).
  uint8_t at(int x, int y, int c) const {
    return rgb[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3 +
               static_cast<size_t>(c)];
  }
};

// Largest image the loaders accept (width * height), so a corrupt header cannot request gigabytes.
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;  // 8192 x 8192

// Decodes the image bytes data[0, size) named `name` in errors.
// Requires: nothing (the bytes are untrusted).
// Ensures: a PNG (1, 2, 4, 8 or 16 bits; gray, gray+alpha, palette, RGB, RGBA), JPEG (baseline or
// progressive) or BMP is returned as 8-bit RGB: gray is replicated to R = G = B; alpha is dropped
// (not composited), as PIL's convert("RGB") does; 16-bit samples keep their high byte.
// Throws Error naming `name` and the reason: unknown signature, stb_image's failure reason (e.g.
// a truncated PNG or JPEG), a BMP shorter than its pixel rows, or more than kMaxImagePixels.
Image decode_image(const uint8_t* data, size_t size, const std::string& name);

// Reads and decodes the file at path (the format comes from its bytes, not its extension).
// Throws Error naming path when it cannot be read or decoded.
Image load_image(const std::string& path);

// The PNG bytes of img (8-bit RGB, zlib-compressed by stb_image_write).
// Requires width, height > 0 and rgb.size() == 3 * width * height; throws Error otherwise.
std::vector<uint8_t> encode_png(const Image& img);

// Writes encode_png(img) to path atomically (temp file in the same directory, fsync, rename).
void save_png(const std::string& path, const Image& img);

}  // namespace mrnn
