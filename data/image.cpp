#include "data/image.h"

#include <climits>
#include <cstring>
#include <memory>

#include <stb_image.h>
#include <stb_image_write.h>

#include "core/error.h"
#include "data/raw_array.h"

namespace mrnn {
namespace {

// The formats we hand to stb_image, by signature. stb would also try TGA, which has no
// signature and so "decodes" many non-image files; we accept only what the datasets use.
const char* sniff_format(const uint8_t* d, size_t n) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 8 && std::memcmp(d, kPng, 8) == 0) return "PNG";
  if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return "JPEG";
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return "BMP";
  return nullptr;
}

// stb_image reads past the end of a BMP as zeros, so a cut-short BMP would decode to silent
// garbage: require the pixel rows that the header announces (the last row's padding may be
// missing). w and h come from stbi_info (already within kMaxImagePixels). Headers stb rejects
// anyway (RLE, odd bit depths) are left to its error.
void check_bmp_size(const uint8_t* d, size_t n, int w, int h, const std::string& name) {
  auto u16 = [&](size_t at) { return uint32_t{d[at]} | uint32_t{d[at + 1]} << 8; };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  if (n < 30) return;
  const uint32_t offset = u32(10), header = u32(14);
  const uint32_t bpp = header == 12 ? u16(24) : u16(28);
  if (header != 12 && (n < 34 || (u32(30) != 0 && u32(30) != 3))) return;
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) return;
  const uint64_t bits = uint64_t{bpp} * static_cast<uint64_t>(w);
  const uint64_t need = offset + (bits + 31) / 32 * 4 * static_cast<uint64_t>(h - 1) + (bits + 7) / 8;
  MRNN_CHECK(n >= need, "{}: cannot decode BMP image: truncated: {}x{} pixels of {} bits from "
             "offset {} need {} bytes, the file has {}", name, w, h, bpp, offset, need, n);
}

struct StbiFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

}  // namespace

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  const char* format = sniff_format(data, size);
  if (!format) {
    std::string head;
    for (size_t i = 0; i < size && i < 8; ++i) head += fmt::format("{:02x}", data[i]);
    MRNN_FAIL("{}: not a PNG, JPEG or BMP image (first bytes: {})", name,
              head.empty() ? std::string("none, the file is empty") : head);
  }
  MRNN_CHECK(size <= static_cast<size_t>(INT_MAX), "{}: {} bytes is too large to decode", name,
             size);
  const int len = static_cast<int>(size);
  int w = 0, h = 0, channels = 0;
  // Refuse huge images before decoding allocates for them. When stb cannot read the header here,
  // the decode below fails at the same place and reports the format's own reason (stbi_info's
  // reason is only that no format matched).
  if (stbi_info_from_memory(data, len, &w, &h, &channels)) {
    MRNN_CHECK(int64_t{w} * h <= kMaxImagePixels, "{}: {} image of {}x{} pixels exceeds the limit "
               "of {} pixels (corrupt header?)", name, format, w, h, kMaxImagePixels);
    if (format[0] == 'B' && w > 0 && h > 0) check_bmp_size(data, size, w, h, name);
  }
  stbi_set_flip_vertically_on_load_thread(0);
  std::unique_ptr<stbi_uc, StbiFree> pixels(stbi_load_from_memory(data, len, &w, &h, &channels, 3));
  MRNN_CHECK(pixels != nullptr, "{}: cannot decode {} image: {}", name, format,
             stbi_failure_reason());
  MRNN_CHECK(w > 0 && h > 0 && int64_t{w} * h <= kMaxImagePixels, "{}: {} image of {}x{} pixels "
             "exceeds the limit of {} pixels", name, format, w, h, kMaxImagePixels);
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(pixels.get(), pixels.get() + size_t{3} * static_cast<size_t>(w) * static_cast<size_t>(h));
  return img;
}

Image load_image(const std::string& path) {
  const std::vector<uint8_t> bytes = InputFile(path).read_all();
  return decode_image(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode_png(const Image& img) {
  MRNN_CHECK(img.width > 0 && img.height > 0 &&
                 img.rgb.size() == size_t{3} * static_cast<size_t>(img.width) * static_cast<size_t>(img.height),
             "encode_png: image of {}x{} pixels holds {} bytes (expected 3 per pixel, non-empty)",
             img.width, img.height, img.rgb.size());
  MRNN_CHECK(int64_t{img.width} * 3 <= INT_MAX, "encode_png: rows of {} pixels are too wide",
             img.width);
  std::vector<uint8_t> out;
  auto append = [](void* ctx, void* bytes, int n) {
    auto* v = static_cast<std::vector<uint8_t>*>(ctx);
    v->insert(v->end(), static_cast<uint8_t*>(bytes), static_cast<uint8_t*>(bytes) + n);
  };
  const int ok = stbi_write_png_to_func(append, &out, img.width, img.height, 3, img.rgb.data(),
                                        img.width * 3);
  MRNN_CHECK(ok != 0 && !out.empty(), "encode_png: stb_image_write failed on a {}x{} image",
             img.width, img.height);
  return out;
}

void save_png(const std::string& path, const Image& img) {
  const std::vector<uint8_t> png = encode_png(img);
  write_file_atomic(path, {{png.data(), png.size()}});
}

}  // namespace mrnn
