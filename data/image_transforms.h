// The image preprocessing of captioning / retrieval pipelines: resize (shorter side or exact),
// center and positioned crops, horizontal flip, and normalised CHW float conversion for the CNN.
// Why: pure functions of (image, parameters) — randomness stays with the caller's RNG.
#pragma once
#include <array>
#include <vector>

#include "data/image.h"

namespace mrnn {

// img resampled to width x height by stb_image_resize with the Catmull-Rom cubic (Pillow's and
// torchvision's BICUBIC; antialiased when shrinking), edges clamped, no sRGB linearisation; a
// same-size request is an exact copy. (stb's triangle filter is not used: stb_image_resize 0.97
// aborts on an internal assertion for many shrink ratios, e.g. 7 -> 5 pixels.)
// Requires img valid and width, height > 0 (at most kMaxImagePixels); throws Error otherwise.
Image resize(const Image& img, int width, int height);

// img resized so its shorter side is `shorter` pixels, keeping the aspect ratio: the longer side
// becomes floor(shorter * long / short), as torchvision's Resize(int) computes it (at least 1).
// Requires shorter > 0.
Image resize_shorter_side(const Image& img, int shorter);

// The width x height window of img whose top-left pixel is (x, y).
// Requires 0 <= x, 0 <= y, x + width <= img.width, y + height <= img.height, width, height > 0;
// throws Error naming the window and the image size otherwise.
Image crop(const Image& img, int x, int y, int width, int height);

// The centred width x height window at x = round((img.width - width) / 2), y likewise, halves
// rounded to even as torchvision's center_crop does (slack 3 -> 2, slack 5 -> 2).
// Requires the window to fit in img; throws Error otherwise.
Image center_crop(const Image& img, int width, int height);

struct CropOrigin {
  int x = 0;
  int y = 0;
};

// Maps two uniform draws u1, u2 in [0, 1) to a crop origin uniform over the valid positions of a
// crop_w x crop_h window in an img_w x img_h image: x = floor(u1 * (img_w - crop_w + 1)) (clamped
// to img_w - crop_w), y likewise from u2. Requires the window to fit; throws Error otherwise.
CropOrigin crop_origin_from_uniform(double u1, double u2, int img_w, int img_h, int crop_w,
                                    int crop_h);

// img mirrored left-right.
Image flip_horizontal(const Image& img);

// The CNN input: 3 planes (R, G, B) of height x width floats, value (p / 255 - mean[c]) / std[c].
// Requires std[c] != 0 and img valid. E.g. ImageNet: mean {0.485, 0.456, 0.406},
// std {0.229, 0.224, 0.225}.
std::vector<float> to_chw_float(const Image& img, const std::array<float, 3>& mean,
                                const std::array<float, 3>& std);

}  // namespace mrnn
