#include "data/image.h"

#include <climits>
#include <cstdlib>
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
  const uint64_t row = (bits + 31) / 32 * 4;
  const uint64_t need = offset + row * static_cast<uint64_t>(h - 1) + (bits + 7) / 8;
  MRNN_CHECK(n >= need, "{}: cannot decode BMP image: truncated: {}x{} pixels of {} bits from "
             "offset {} need {} bytes, the file has {}", name, w, h, bpp, offset, need, n);
}

// stb_image 2.27 (Debian's snapshot) does not initialise its Huffman and quantization tables, so
// a JPEG whose scan uses a table the file never defined decodes from uninitialised memory (an
// out-of-bounds read or an assertion abort in stbi__jpeg_huff_decode; found by fuzz_image), a
// component that no scan codes comes out as uninitialised pixels, and a Huffman table of more
// than 256 codes overflows stb's arrays. This walk over the marker segments refuses such files;
// anything else malformed is left to stb's own errors.
void check_jpeg_tables(const uint8_t* d, size_t n, const std::string& name) {
  bool dc[4] = {}, ac[4] = {}, dqt[4] = {};
  bool progressive = false, have_sof = false;
  struct Component { int id, tq; bool coded; };
  std::vector<Component> comps;
  auto fail = [&](const std::string& what) {
    MRNN_FAIL("{}: cannot decode JPEG image: {}", name, what);
  };
  size_t pos = 2;  // after SOI
  for (;;) {
    while (pos + 1 < n && d[pos] == 0xff && d[pos + 1] == 0xff) ++pos;  // fill bytes
    if (pos + 1 >= n || d[pos] != 0xff) return;                       // stb reports it
    const uint8_t marker = d[pos + 1];
    pos += 2;
    if (marker == 0xd9) break;  // EOI
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (pos + 2 > n) return;
    const size_t len = size_t{d[pos]} << 8 | d[pos + 1];
    if (len < 2 || pos + len > n) return;
    const uint8_t* seg = d + pos + 2;
    const size_t sn = len - 2;
    if (marker == 0xc4) {  // DHT: one or more tables
      for (size_t at = 0; at + 17 <= sn;) {
        const int tc = seg[at] >> 4, th = seg[at] & 15;
        if (tc > 1 || th > 3) return;
        size_t count = 0;
        for (int i = 1; i <= 16; ++i) count += seg[at + i];
        // stb writes the code lengths and symbols into 257- and 256-entry arrays unchecked.
        if (count > 256)
          fail(fmt::format("a Huffman table has {} codes (at most 256)", count));
        (tc == 0 ? dc : ac)[th] = true;
        at += 17 + count;
      }
    } else if (marker == 0xdb) {  // DQT
      for (size_t at = 0; at < sn;) {
        const int pq = seg[at] >> 4, tq = seg[at] & 15;
        if (tq > 3) return;
        dqt[tq] = true;
        at += 1 + (pq ? 128 : 64);
      }
    } else if (marker >= 0xc0 && marker <= 0xc2 && !have_sof) {  // the SOF stb uses
      have_sof = true;
      progressive = marker == 0xc2;
      if (sn < 6) return;
      for (size_t i = 0; i < seg[5] && 8 + 3 * i < sn; ++i)
        comps.push_back({seg[6 + 3 * i], seg[8 + 3 * i], false});
    } else if (marker == 0xda) {  // SOS, then entropy-coded data up to the next marker
      if (!have_sof || sn < 1 || sn < 4 + 2 * size_t{seg[0]}) return;
      const int ns = seg[0];
      const int ss = seg[1 + 2 * ns], ah = seg[3 + 2 * ns] >> 4;
      for (int i = 0; i < ns; ++i) {
        const int id = seg[1 + 2 * i], td = seg[2 + 2 * i] >> 4, ta = seg[2 + 2 * i] & 15;
        if (td > 3 || ta > 3) return;
        for (Component& c : comps) {
          if (c.id != id) continue;
          if (c.tq > 3) return;
          if (!dqt[c.tq])
            fail(fmt::format("component {} uses quantization table {}, which is not defined "
                             "before its scan", id, c.tq));
          const bool uses_dc = !progressive || (ss == 0 && ah == 0);
          const bool uses_ac = !progressive || ss > 0;
          if (uses_dc && !dc[td])
            fail(fmt::format("a scan uses DC Huffman table {}, which is not defined before it",
                             td));
          if (uses_ac && !ac[ta])
            fail(fmt::format("a scan uses AC Huffman table {}, which is not defined before it",
                             ta));
          if (!progressive || (ss == 0 && ah == 0)) c.coded = true;
        }
      }
      pos += len;
      while (pos + 1 < n && !(d[pos] == 0xff && d[pos + 1] != 0 &&
                              !(d[pos + 1] >= 0xd0 && d[pos + 1] <= 0xd7)))
        ++pos;
      continue;
    }
    pos += len;
  }
  for (const Component& c : comps)
    if (!c.coded)
      fail(fmt::format("component {} is never coded{}", c.id, progressive ? " by a DC scan" : ""));
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
  if (format[0] == 'J') check_jpeg_tables(data, size, name);
  int w = 0, h = 0, channels = 0;
  // Refuse huge images before decoding allocates for them. When stb cannot read the header here,
  // the decode below fails at the same place and reports the format's own reason (stbi_info's
  // reason is only that no format matched).
  if (stbi_info_from_memory(data, len, &w, &h, &channels)) {
    // stbi_info reports a top-down BMP's height as negative (found by fuzz_image).
    const int64_t aw = std::abs(int64_t{w}), ah = std::abs(int64_t{h});
    MRNN_CHECK(aw * ah <= kMaxImagePixels, "{}: {} image of {}x{} pixels exceeds the limit of {} "
               "pixels (corrupt header?)", name, format, aw, ah, kMaxImagePixels);
    if (format[0] == 'B' && aw > 0 && ah > 0)
      check_bmp_size(data, size, static_cast<int>(aw), static_cast<int>(ah), name);
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
  const size_t bytes = size_t{3} * static_cast<size_t>(w) * static_cast<size_t>(h);
  img.rgb.assign(pixels.get(), pixels.get() + bytes);
  return img;
}

Image load_image(const std::string& path) {
  const std::vector<uint8_t> bytes = InputFile(path).read_all();
  return decode_image(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode_png(const Image& img) {
  MRNN_CHECK(img.width > 0 && img.height > 0 &&
                 img.rgb.size() == size_t{3} * static_cast<size_t>(img.width) *
                                       static_cast<size_t>(img.height),
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
