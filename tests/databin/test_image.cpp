// Image loading (stb_image) and transforms. Fixtures come from
// tests/fixtures/databin/make_images.py (Pillow, plus a minimal 16-bit PNG encoder); pattern()
// below recomputes their pixel formulas.
// Lossless formats must match exactly, JPEG within a few levels; resize is compared with Pillow's
// BILINEAR resize (what torchvision applies to PIL images).
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/image_transforms.h"
#include "data/raw_array.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

constexpr int W = 7, H = 5;

std::string fixture(const std::string& name) {
  return std::string(MRNN_TEST_DATA_DIR) + "/databin/images/" + name;
}

std::array<int, 3> pattern(int x, int y) {
  return {(x * 40 + y * 7) % 256, (y * 50 + x * 3) % 256, (x * y * 11 + 60) % 256};
}
int gray(int x, int y) { return (x * 30 + y * 20) % 256; }
std::array<int, 3> smooth(int x, int y) { return {x * 16, y * 16, 128 + (x - y) * 4}; }

const std::array<std::array<int, 3>, 8> kPalette = {{{255, 0, 0}, {0, 255, 0}, {0, 0, 255},
                                                     {255, 255, 0}, {0, 255, 255}, {255, 0, 255},
                                                     {17, 34, 51}, {200, 100, 50}}};

template <typename F> Image make(int w, int h, F f) {
  Image img;
  img.width = w;
  img.height = h;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int v : f(x, y)) img.rgb.push_back(static_cast<uint8_t>(v));
  return img;
}

// Largest |a - b| over all samples; requires equal sizes.
int max_diff(const Image& a, const Image& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  int m = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) m = std::max(m, std::abs(a.rgb[i] - b.rgb[i]));
  return m;
}

std::string decode_error(const std::vector<uint8_t>& bytes, const std::string& name) {
  try {
    decode_image(bytes.data(), bytes.size(), name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("image: lossless formats decode to exact RGB", "[image]") {
  const Image expected = make(W, H, pattern);
  for (const char* name : {"rgb.png", "rgba.png", "rgb.bmp", "rgb16.png"}) {
    INFO(name);  // RGBA: alpha dropped; 16-bit: high byte kept
    const Image img = load_image(fixture(name));
    CHECK(img.width == W);
    CHECK(img.height == H);
    CHECK(img.rgb == expected.rgb);
  }
  const Image grey = make(W, H, [](int x, int y) {
    return std::array<int, 3>{gray(x, y), gray(x, y), gray(x, y)};
  });
  for (const char* name : {"gray.png", "gray_alpha.png", "gray16.png"}) {
    INFO(name);
    CHECK(load_image(fixture(name)).rgb == grey.rgb);
  }
  const Image pal = make(W, H, [](int x, int y) { return kPalette[(x + 2 * y) % 8]; });
  for (const char* name : {"palette.png", "palette.bmp"}) {  // 4-bit PNG palette, 8-bit BMP
    INFO(name);
    CHECK(load_image(fixture(name)).rgb == pal.rgb);
  }
  const Image bilevel = make(W, H, [](int x, int y) {
    const int v = 255 * ((x + y) % 2);
    return std::array<int, 3>{v, v, v};
  });
  CHECK(load_image(fixture("bilevel.png")).rgb == bilevel.rgb);
  CHECK(load_image(fixture("rgb.png")).at(3, 2, 1) == 109);  // (2*50 + 3*3) % 256
}

TEST_CASE("image: JPEG (baseline, progressive, gray) decodes near the source pixels", "[image]") {
  const Image source = make(16, 16, smooth);
  // Quality 95, 4:4:4: measured max error 3 levels for both encodings.
  CHECK(max_diff(load_image(fixture("smooth.jpg")), source) <= 4);
  CHECK(max_diff(load_image(fixture("smooth_progressive.jpg")), source) <= 4);
  const Image g = load_image(fixture("smooth_gray.jpg"));
  int worst = 0;
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x) {
      const auto [r, gr, b] = smooth(x, y);
      const int luma = (r * 299 + gr * 587 + b * 114 + 500) / 1000;  // Pillow's convert("L")
      CHECK(g.at(x, y, 0) == g.at(x, y, 1));
      CHECK(g.at(x, y, 1) == g.at(x, y, 2));
      worst = std::max(worst, std::abs(g.at(x, y, 0) - luma));
    }
  }
  CHECK(worst <= 2);
}

TEST_CASE("image: memory decoding and PNG save round trip", "[image]") {
  const std::vector<uint8_t> bytes = InputFile(fixture("rgb.bmp")).read_all();
  CHECK(decode_image(bytes.data(), bytes.size(), "mem.bmp").rgb == make(W, H, pattern).rgb);

  const Image img = make(W, H, pattern);
  const std::vector<uint8_t> png = encode_png(img);
  const Image back = decode_image(png.data(), png.size(), "encoded.png");
  CHECK(back.width == W);
  CHECK(back.rgb == img.rgb);

  const std::string path = std::string(MRNN_BINARY_DIR) + "/databin_saved.png";
  save_png(path, img);
  CHECK(load_image(path).rgb == img.rgb);
  std::remove(path.c_str());

  Image bad = img;
  bad.rgb.pop_back();
  CHECK_THROWS_WITH(encode_png(bad), Contains("7x5") && Contains("104 bytes"));
}

TEST_CASE("image: unreadable inputs name the file and the reason", "[image]") {
  CHECK_THROWS_WITH(load_image(fixture("nope.png")),
                    Contains("nope.png") && Contains("cannot open"));
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  CHECK_THAT(decode_error(text, "notes.txt"),
             Contains("notes.txt") && Contains("not a PNG, JPEG or BMP") && Contains("68656c6c6f"));
  CHECK_THAT(decode_error({}, "empty.png"), Contains("empty.png") && Contains("empty"));

  const std::vector<uint8_t> png = InputFile(fixture("rgb.png")).read_all();
  const std::vector<uint8_t> half(png.begin(), png.begin() + static_cast<long>(png.size() / 2));
  const std::string truncated = decode_error(half, "half.png");
  INFO(truncated);
  CHECK_THAT(truncated, Contains("half.png") && Contains("cannot decode PNG"));
  CHECK(truncated.size() > std::string("half.png: cannot decode PNG image: ").size() + 3);  // with a reason

  const std::vector<uint8_t> jpg = InputFile(fixture("smooth.jpg")).read_all();
  const std::vector<uint8_t> jhead(jpg.begin(), jpg.begin() + 20);
  CHECK_THAT(decode_error(jhead, "cut.jpg"), Contains("cut.jpg: cannot decode JPEG image: "));
  const std::vector<uint8_t> jcut(jpg.begin(), jpg.end() - 100);
  CHECK_THAT(decode_error(jcut, "cut2.jpg"), Contains("cut2.jpg: cannot decode JPEG image: "));

  const std::vector<uint8_t> bmp = InputFile(fixture("rgb.bmp")).read_all();  // 24-bit, 7x5
  const std::vector<uint8_t> bmp_cut(bmp.begin(), bmp.end() - 30);
  CHECK_THAT(decode_error(bmp_cut, "cut.bmp"),
             Contains("cut.bmp: cannot decode BMP image: truncated") &&
                 Contains("need 171 bytes, the file has 144"));
  const std::vector<uint8_t> bmp_nopad(bmp.begin(), bmp.end() - 3);  // last row's padding only
  CHECK(decode_error(bmp_nopad, "nopad.bmp").empty());
  // A negative height means rows stored top-down (stbi_info then reports the height negative).
  std::vector<uint8_t> top_down = bmp;
  top_down[22] = 0xfb, top_down[23] = top_down[24] = top_down[25] = 0xff;  // -5
  const Image flipped = decode_image(top_down.data(), top_down.size(), "top_down.bmp");
  CHECK(flipped.rgb == make(W, H, [](int x, int y) { return pattern(x, H - 1 - y); }).rgb);
  const std::vector<uint8_t> top_down_cut(top_down.begin(), top_down.end() - 30);
  CHECK_THAT(decode_error(top_down_cut, "cut_top_down.bmp"), Contains("truncated"));
  top_down[22] = 0x00, top_down[23] = 0x00, top_down[24] = 0x00, top_down[25] = 0x80;  // -2^31
  CHECK_THAT(decode_error(top_down, "tall.bmp"),
             Contains("tall.bmp") && Contains("exceeds the limit"));

  // Headers claiming huge sizes are refused before decoding: by our pixel limit, or by stb's.
  auto with_size = [](std::vector<uint8_t> bytes, uint8_t b1, uint8_t b2, uint8_t b3) {
    for (int i : {16, 20}) bytes[i] = 0, bytes[i + 1] = b1, bytes[i + 2] = b2, bytes[i + 3] = b3;
    return bytes;  // IHDR width and height, big-endian (stb does not check the CRC)
  };
  const std::vector<uint8_t> gray_png = InputFile(fixture("gray.png")).read_all();
  CHECK_THAT(decode_error(with_size(gray_png, 0, 0x27, 0x10), "big.png"),  // 10000 x 10000
             Contains("big.png") && Contains("10000x10000") && Contains("exceeds the limit"));
  CHECK_THAT(decode_error(with_size(gray_png, 0x01, 0x86, 0xa0), "huge.png"),  // 100000^2
             Contains("huge.png") && Contains("cannot decode PNG image: too large"));
}

namespace {
// Offset of the payload (after the length) of the n-th marker segment of a JPEG before its scan.
size_t jpeg_segment(const std::vector<uint8_t>& jpg, uint8_t marker, int n) {
  for (size_t pos = 2; pos + 4 <= jpg.size();) {
    const size_t len = size_t{jpg[pos + 2]} << 8 | jpg[pos + 3];
    if (jpg[pos + 1] == marker && n-- == 0) return pos + 4;
    if (jpg[pos + 1] == 0xda) break;
    pos += 2 + len;
  }
  FAIL("segment not found");
  return 0;
}
}  // namespace

TEST_CASE("image: JPEGs using undefined tables or uncoded components are refused", "[image]") {
  // stb_image 2.27 would decode them from uninitialised memory (fuzz_image found an assertion
  // abort). smooth.jpg: DQT 0, DQT 1, SOF (components 1, 2, 3 using tables 0, 1, 1), DHT DC0,
  // AC0, DC1, AC1, SOS.
  const std::vector<uint8_t> jpg = InputFile(fixture("smooth.jpg")).read_all();
  REQUIRE(decode_error(jpg, "ok.jpg").empty());

  std::vector<uint8_t> b = jpg;
  b[jpeg_segment(b, 0xc4, 3)] = 0x13;  // AC table 1 -> AC table 3
  CHECK_THAT(decode_error(b, "ac.jpg"),
             Contains("ac.jpg: cannot decode JPEG image: a scan uses AC Huffman table 1"));
  b = jpg;
  b[jpeg_segment(b, 0xc4, 2)] = 0x02;  // DC table 1 -> DC table 2
  CHECK_THAT(decode_error(b, "dc.jpg"), Contains("DC Huffman table 1, which is not defined"));
  b = jpg;
  b[jpeg_segment(b, 0xdb, 1)] = 0x02;  // quantization table 1 -> 2
  CHECK_THAT(decode_error(b, "dqt.jpg"), Contains("component 2 uses quantization table 1"));
  b = jpg;
  b[jpeg_segment(b, 0xc0, 0) + 6 + 3 * 2] = 9;  // SOF component id 3 -> 9
  CHECK_THAT(decode_error(b, "comp.jpg"), Contains("component 9 is never coded"));
  b = jpg;
  b[jpeg_segment(b, 0xc4, 1) + 16] = 255;  // AC table 0: 255 instead of 125 codes of length 16
  CHECK_THAT(decode_error(b, "dht.jpg"), Contains("Huffman table has 292 codes (at most 256)"));
}

TEST_CASE("image transforms: crops, flip, crop origins", "[image]") {
  const Image img = make(W, H, pattern);
  const Image c = crop(img, 2, 1, 3, 2);
  CHECK(c.width == 3);
  CHECK(c.height == 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int ch = 0; ch < 3; ++ch) CHECK(c.at(x, y, ch) == pattern(x + 2, y + 1)[ch]);
  CHECK_THROWS_WITH(crop(img, 5, 0, 3, 2), Contains("3x2 at (5, 0)") && Contains("7x5"));
  CHECK_THROWS(crop(img, -1, 0, 3, 2));
  CHECK_THROWS(crop(img, 0, 0, 0, 2));

  // torchvision's origin: round(slack / 2) with Python's half-to-even rounding.
  CHECK(center_crop(img, 4, 3).rgb == crop(img, 2, 1, 4, 3).rgb);  // round(1.5) = 2, round(1) = 1
  CHECK(center_crop(img, 6, 4).rgb == crop(img, 0, 0, 6, 4).rgb);  // round(0.5) = 0 twice
  CHECK(center_crop(img, 2, 1).rgb == crop(img, 2, 2, 2, 1).rgb);  // round(2.5) = 2, round(2) = 2
  const Image wide = make(16, 3, pattern);
  CHECK(center_crop(wide, 9, 3).rgb == crop(wide, 4, 0, 9, 3).rgb);  // round(3.5) = 4
  CHECK(center_crop(wide, 5, 3).rgb == crop(wide, 6, 0, 5, 3).rgb);  // round(5.5) = 6
  CHECK_THROWS(center_crop(img, 8, 3));

  const Image f = flip_horizontal(img);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) CHECK(f.at(x, y, 0) == pattern(W - 1 - x, y)[0]);
  CHECK(flip_horizontal(f).rgb == img.rgb);

  // Slack 7-3 = 4 in x (5 positions), 5-5 = 0 in y.
  CHECK(crop_origin_from_uniform(0.0, 0.0, 7, 5, 3, 5).x == 0);
  CHECK(crop_origin_from_uniform(0.19, 0.0, 7, 5, 3, 5).x == 0);
  CHECK(crop_origin_from_uniform(0.21, 0.0, 7, 5, 3, 5).x == 1);
  CHECK(crop_origin_from_uniform(0.5, 0.9, 7, 5, 3, 5).x == 2);
  CHECK(crop_origin_from_uniform(0.5, 0.9, 7, 5, 3, 5).y == 0);
  CHECK(crop_origin_from_uniform(0.9999999, 0.0, 7, 5, 3, 5).x == 4);
  CHECK_THROWS(crop_origin_from_uniform(1.0, 0.0, 7, 5, 3, 5));
  CHECK_THROWS(crop_origin_from_uniform(0.5, 0.5, 7, 5, 8, 5));
  int hits[5] = {};
  for (int i = 0; i < 1000; ++i)
    ++hits[crop_origin_from_uniform((i + 0.5) / 1000, 0, 7, 5, 3, 5).x];
  for (int h : hits) CHECK(h == 200);  // evenly spread draws hit every origin equally
}

TEST_CASE("image transforms: resize matches Pillow's bicubic", "[image]") {
  const Image src = make(16, 16, smooth);
  // Measured: at most 1 level from Pillow (same Catmull-Rom kernel, antialiased when shrinking;
  // they differ in rounding and at the borders).
  CHECK(max_diff(resize(src, 8, 8), load_image(fixture("smooth_8x8_bicubic.png"))) <= 1);
  CHECK(max_diff(resize(src, 24, 24), load_image(fixture("smooth_24x24_bicubic.png"))) <= 1);
  CHECK(max_diff(resize(src, 11, 7), load_image(fixture("smooth_11x7_bicubic.png"))) <= 1);
  CHECK(resize(src, 16, 16).rgb == src.rgb);

  // Shrink ratios that make stb's triangle filter abort (7 -> 5, 9 -> 7, ...; found by
  // fuzz_image) must work, and a flat image must stay flat at every size.
  const Image flat_col = make(1, 40, [](int, int) { return std::array<int, 3>{90, 91, 92}; });
  for (int in = 2; in <= 40; ++in) {
    const Image col = crop(flat_col, 0, 0, 1, in);
    for (int out = 1; out < in; ++out) {
      const Image r = resize(col, 1, out);
      CHECK(r.rgb == make(1, out, [](int, int) { return std::array<int, 3>{90, 91, 92}; }).rgb);
    }
  }

  const Image flat = make(9, 4, [](int, int) { return std::array<int, 3>{10, 200, 77}; });
  const Image r = resize(flat, 5, 13);
  CHECK(r.width == 5);
  CHECK(r.height == 13);
  CHECK(r.rgb == make(5, 13, [](int, int) { return std::array<int, 3>{10, 200, 77}; }).rgb);
  CHECK_THROWS_WITH(resize(flat, 0, 3), Contains("0x3"));

  const Image wide = resize_shorter_side(make(W, H, pattern), 10);  // 7x5 -> 14x10
  CHECK(wide.width == 14);
  CHECK(wide.height == 10);
  const Image tall = resize_shorter_side(make(H, W, pattern), 10);  // 5x7 -> 10x14
  CHECK(tall.width == 10);
  CHECK(tall.height == 14);
  const Image floor = resize_shorter_side(make(16, 9, smooth), 4);  // 4*16/9 = 7.1 -> 7
  CHECK(floor.width == 7);
  CHECK(floor.height == 4);
}

TEST_CASE("image transforms: to_chw_float normalises into planes", "[image]") {
  const Image img = make(W, H, pattern);
  const std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  const std::array<float, 3> sd = {0.229f, 0.224f, 0.225f};
  const std::vector<float> t = to_chw_float(img, mean, sd);
  REQUIRE(t.size() == size_t{3 * W * H});
  // Pixel (x=3, y=2) = (134, 109, 126); plane c starts at c * W * H.
  const size_t at = 2 * W + 3;
  CHECK(t[at] == Approx((134 / 255.0 - 0.485) / 0.229).epsilon(1e-6));
  CHECK(t[W * H + at] == Approx((109 / 255.0 - 0.456) / 0.224).epsilon(1e-6));
  CHECK(t[2 * W * H + at] == Approx((126 / 255.0 - 0.406) / 0.225).epsilon(1e-6));
  const std::vector<float> unit = to_chw_float(img, {0, 0, 0}, {1, 1, 1});
  CHECK(unit[0] == 0.f);  // pixel (0, 0) red = 0
  CHECK(unit[2 * W * H] == 60.f / 255.f);
  CHECK_THROWS_WITH(to_chw_float(img, mean, {1, 0, 1}), Contains("std[1] is zero"));
}
