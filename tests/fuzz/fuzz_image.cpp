// libFuzzer target for the image decoder (stb_image behind decode_image): any input must either
// decode or throw mrnn::Error. Decoded images must be consistent, survive a PNG round trip, and
// go through the transforms (small images only). Inputs whose header claims more than 2^16
// pixels are skipped: decoding them takes seconds under ASan and they add no new paths (the
// size limit itself is unit-tested).
#include <climits>
#include <cstdint>
#include <cstdlib>

#include <stb_image.h>

#include "core/error.h"
#include "data/image.h"
#include "data/image_transforms.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int w0 = 0, h0 = 0, c0 = 0;
  if (size <= INT_MAX && stbi_info_from_memory(data, static_cast<int>(size), &w0, &h0, &c0) &&
      std::abs(int64_t{w0} * h0) > (int64_t{1} << 16))  // BMP heights can be negative
    return 0;
  mrnn::Image img;
  try {
    img = mrnn::decode_image(data, size, "fuzz.img");
  } catch (const mrnn::Error&) {
    return 0;
  }
  if (img.width <= 0 || img.height <= 0 ||
      img.rgb.size() != 3 * static_cast<size_t>(img.width) * static_cast<size_t>(img.height))
    std::abort();
  if (size < 4 || static_cast<int64_t>(img.width) * img.height > 64 * 64) return 0;

  const std::vector<uint8_t> png = mrnn::encode_png(img);
  const mrnn::Image back = mrnn::decode_image(png.data(), png.size(), "re-encoded.png");
  if (back.width != img.width || back.height != img.height || back.rgb != img.rgb) std::abort();

  // Transform parameters derived from the input bytes.
  const int w = 1 + data[size / 2] % 16, h = 1 + data[size / 3] % 16;
  const mrnn::Image r = mrnn::resize(img, w, h);
  const mrnn::Image s = mrnn::resize_shorter_side(img, 1 + data[size - 1] % 12);
  const int cw = 1 + (img.width - 1) * (data[0] % 8) / 7;
  const int ch = 1 + (img.height - 1) * (data[1] % 8) / 7;
  const mrnn::CropOrigin o = mrnn::crop_origin_from_uniform(data[2] / 256.0, data[3] / 256.0,
                                                             img.width, img.height, cw, ch);
  const mrnn::Image c = mrnn::flip_horizontal(mrnn::crop(img, o.x, o.y, cw, ch));
  const mrnn::Image cc = mrnn::center_crop(r, (w + 1) / 2, (h + 1) / 2);
  const std::vector<float> t = mrnn::to_chw_float(s, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f});
  if (t.size() != 3 * static_cast<size_t>(s.width) * static_cast<size_t>(s.height) ||
      c.rgb.size() != 3 * static_cast<size_t>(cw) * static_cast<size_t>(ch) ||
      cc.width != (w + 1) / 2)
    std::abort();
  return 0;
}
