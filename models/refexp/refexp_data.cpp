#include "models/refexp/refexp_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "core/random.h"
#include "data/id_lines.h"
#include "data/image.h"
#include "data/image_transforms.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

constexpr std::array<float, 3> kMean = {0.5f, 0.5f, 0.5f}, kStd = {0.25f, 0.25f, 0.25f};

// Checks box (JSON path `at` of file `name`) against a W x H image; clips a sub-pixel overhang.
Box checked_box(Box b, double W, double H, const std::string& name, const std::string& at) {
  const double x = b[0], y = b[1], w = b[2], h = b[3];
  MRNN_CHECK(std::isfinite(x) && std::isfinite(y) && std::isfinite(w) && std::isfinite(h) && w > 0 && h > 0,
             "{}: {}: box [{}, {}, {}, {}] must have positive width and height (a box with zero area cannot be "
             "a region)",
             name, at, x, y, w, h);
  if (W <= 0 || H <= 0) return b;  // no size known (no images and none in the JSON)
  MRNN_CHECK(x > -1 && y > -1 && x + w < W + 1 && y + h < H + 1 && x < W && y < H,
             "{}: {}: box [{}, {}, {}, {}] lies outside the {} x {} image (expected x, y >= 0, x + w <= {}, "
             "y + h <= {})",
             name, at, x, y, w, h, W, H, W, H);
  const double x0 = std::max(0.0, x), y0 = std::max(0.0, y);
  const double x1 = std::min(W, x + w), y1 = std::min(H, y + h);
  MRNN_CHECK(x1 > x0 && y1 > y0, "{}: {}: box [{}, {}, {}, {}] has no area inside the {} x {} image", name, at, x, y,
             w, h, W, H);
  return {x0, y0, x1 - x0, y1 - y0};
}

// The box's pixels (the integer window covering it), resized to S x S, as CNN input floats.
std::vector<float> crop_chw(const Image& img, const Box& b, int S) {
  const int x0 = std::clamp(static_cast<int>(std::floor(b[0])), 0, img.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(b[1])), 0, img.height - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil(b[0] + b[2])), x0 + 1, img.width);
  const int y1 = std::clamp(static_cast<int>(std::ceil(b[1] + b[3])), y0 + 1, img.height);
  return to_chw_float(resize(crop(img, x0, y0, x1 - x0, y1 - y0), S, S), kMean, kStd);
}

// Region keys: line i of path names row i, "ann <annotation_id>" or "cand <image_id> <k>".
struct RegionKeys {
  std::map<int64_t, int64_t> ann;                        // annotation id -> row
  std::map<std::pair<int64_t, int64_t>, int64_t> cand;  // (image id, k) -> row
  int64_t rows = 0;
};

RegionKeys read_region_keys(const std::string& path) {
  std::ifstream f(path);
  MRNN_CHECK(f.good(), "{}: cannot open the region keys file", path);
  RegionKeys k;
  std::string line;
  for (int64_t n = 1; std::getline(f, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() && f.peek() == std::ifstream::traits_type::eof()) break;  // a final empty line
    std::istringstream in(line);
    std::string kind, extra;
    int64_t a = -1, b = -1;
    bool ok = false, fresh = false;
    if (in >> kind && kind == "ann" && in >> a && !(in >> extra) && a >= 0) {
      ok = true;
      fresh = k.ann.emplace(a, k.rows).second;
    } else if (kind == "cand" && in >> a >> b && !(in >> extra) && a >= 0 && b >= 0) {
      ok = true;
      fresh = k.cand.emplace(std::make_pair(a, b), k.rows).second;
    }
    MRNN_CHECK(ok, "{}:{}: expected \"ann <annotation_id>\" or \"cand <image_id> <k>\", got '{}'", path, n, line);
    MRNN_CHECK(fresh, "{}:{}: '{}' names a region that an earlier line named already", path, n, line);
    ++k.rows;
  }
  MRNN_CHECK(k.rows > 0, "{}: no region keys", path);
  return k;
}

// Fills s.crops / s.whole from the features files: rows in the order images (GT boxes, then
// proposals) and whole images, as from pixels.
void gather_features(RefexpSplit& s, const RefexpDataOptions& o) {
  const RegionKeys keys = read_region_keys(o.region_keys);
  const std::vector<int64_t> ids = read_id_lines(o.image_ids);
  const Tensor region = read_feature_rows(o.region_features, keys.rows, o.region_keys);
  const Tensor image = read_feature_rows(o.image_features, static_cast<int64_t>(ids.size()), o.image_ids);
  MRNN_CHECK(region.size(1) == image.size(1),
             "{} has {} columns but {} has {}: region and image features must have one width", o.region_features,
             region.size(1), o.image_features, image.size(1));
  std::map<int64_t, int64_t> image_row;
  for (size_t r = 0; r < ids.size(); ++r) image_row[ids[r]] = static_cast<int64_t>(r);
  std::vector<int64_t> crop_rows, whole_rows;
  for (size_t u = 0; u < s.images.size(); ++u) {
    const RefexpImageEntry& e = s.images[u];
    for (int64_t a : e.annotation_ids) {
      const auto it = keys.ann.find(a);
      MRNN_CHECK(it != keys.ann.end(), "{}: annotation {} has no row in {} (a line \"ann {}\")", s.name, a,
                 o.region_keys, a);
      crop_rows.push_back(it->second);
    }
    for (size_t k = 0; k < e.proposals.size(); ++k) {
      const auto it = keys.cand.find({e.image_id, static_cast<int64_t>(k)});
      MRNN_CHECK(it != keys.cand.end(), "{}: region candidate {} of image {} has no row in {} (a line \"cand {} {}\")",
                 s.name, k, e.image_id, o.region_keys, e.image_id, k);
      crop_rows.push_back(it->second);
    }
    const auto it = image_row.find(e.image_id);
    MRNN_CHECK(it != image_row.end(), "{}: image {} has no row in {}", s.name, e.image_id, o.image_ids);
    whole_rows.push_back(it->second);
  }
  s.crops = index_select(region, Tensor::from_vector(crop_rows)).contiguous();
  s.whole = index_select(image, Tensor::from_vector(whole_rows)).contiguous();
}

}  // namespace

RefexpSplit load_refexp_split(const std::string& path, const RefexpDataOptions& o) {
  const bool features = o.uses_features();
  MRNN_CHECK(features || o.image_size >= 4, "refexp data: image size must be >= 4, got {}", o.image_size);
  MRNN_CHECK(features == !o.region_keys.empty() && features == !o.image_features.empty() &&
                 features == !o.image_ids.empty(),
             "refexp data: give region features, region keys, image features and image ids together, or none");
  MRNN_CHECK(!features || o.images_dir.empty(), "refexp data: give an image folder or features, not both");
  MRNN_CHECK(o.max_words >= 1, "refexp data: max words must be >= 1, got {}", o.max_words);
  RefexpOptions ro;
  ro.retokenize = o.retokenize;
  ro.mode = o.tokenizer;
  const RefexpDataset ds = load_refexp(path, ro);
  RefexpSplit s;
  s.name = path;
  s.image_size = o.image_size;
  std::map<int64_t, size_t> image_pos;  // image id -> position in ds.images
  for (size_t i = 0; i < ds.images.size(); ++i) image_pos[ds.images[i].image_id] = i;
  std::map<int64_t, std::vector<size_t>> anns_of;  // image id -> annotations (by increasing id)
  for (size_t a = 0; a < ds.annotations.size(); ++a) anns_of[ds.annotations[a].image_id].push_back(a);
  std::unordered_map<int64_t, size_t> refexp_pos;
  for (size_t r = 0; r < ds.refexps.size(); ++r) refexp_pos[ds.refexps[r].refexp_id] = r;

  std::vector<const RefexpImage*> used;
  for (const auto& [id, anns] : anns_of) {
    if (o.max_images > 0 && static_cast<int64_t>(used.size()) >= o.max_images) break;
    used.push_back(&ds.images.at(image_pos.at(id)));
  }
  MRNN_CHECK(!used.empty(), "{}: no annotations (nothing to refer to)", path);
  const int64_t U = static_cast<int64_t>(used.size());
  s.images.resize(static_cast<size_t>(U));
  // Decode each image once (in parallel), to know its size before checking its boxes.
  std::vector<Image> pixels(static_cast<size_t>(U));
  std::vector<std::string> errors(static_cast<size_t>(U));
  if (!o.images_dir.empty()) {
    MRNN_CHECK(std::filesystem::is_directory(o.images_dir), "--images {}: not a folder", o.images_dir);
    for (int64_t u = 0; u < U; ++u) {
      const RefexpImage& im = *used[u];
      MRNN_CHECK(!im.file_name.empty(), "{}: images.{}: no \"file_name\" (needed to find the image in {})", path,
                 im.image_id, o.images_dir);
      s.images[u].path = o.images_dir + "/" + im.file_name;
    }
#pragma omp parallel for schedule(dynamic)
    for (int64_t u = 0; u < U; ++u) {
      try {
        pixels[u] = load_image(s.images[u].path);
      } catch (const std::exception& e) {
        errors[u] = e.what();
      }
    }
    for (int64_t u = 0; u < U; ++u)
      MRNN_CHECK(errors[u].empty(), "{}: images.{}: {}", path, used[u]->image_id, errors[u]);
  }
  for (int64_t u = 0; u < U; ++u) {
    const RefexpImage& im = *used[u];
    RefexpImageEntry& e = s.images[u];
    e.image_id = im.image_id;
    e.file_name = im.file_name;
    e.width = static_cast<double>(im.width);
    e.height = static_cast<double>(im.height);
    MRNN_CHECK(!features || (im.width > 0 && im.height > 0),
               "{}: images.{}: no \"width\" and \"height\" (with features and no image files, the JSON must give "
               "them: the location feature and the box checks need the image size)",
               path, im.image_id);
    if (!o.images_dir.empty()) {
      MRNN_CHECK((im.width == 0 || im.width == pixels[u].width) && (im.height == 0 || im.height == pixels[u].height),
                 "{}: images.{}: the file says {} x {} but {} is {} x {}", path, im.image_id, im.width, im.height,
                 e.path, pixels[u].width, pixels[u].height);
      e.width = pixels[u].width;
      e.height = pixels[u].height;
    }
    for (size_t k = 0; k < im.region_candidates.size(); ++k)
      e.proposals.push_back(checked_box(im.region_candidates[k].bounding_box, e.width, e.height, path,
                                        fmt::format("images.{}.region_candidates[{}].bounding_box", im.image_id, k)));
    if (im.region_candidates.empty())  // the unaligned release: per annotation; their union, first seen first
      for (size_t a : anns_of.at(im.image_id)) {
        const RefexpAnnotation& ann = ds.annotations[a];
        for (size_t k = 0; k < ann.region_candidates.size(); ++k) {
          const Box b = checked_box(ann.region_candidates[k].bounding_box, e.width, e.height, path,
                                    fmt::format("annotations.{}.region_candidates[{}].bounding_box", ann.annotation_id, k));
          if (std::find(e.proposals.begin(), e.proposals.end(), b) == e.proposals.end()) e.proposals.push_back(b);
        }
      }
    for (size_t a : anns_of.at(im.image_id)) {
      const RefexpAnnotation& ann = ds.annotations[a];
      const Box box = checked_box(ann.bbox, e.width, e.height, path, fmt::format("annotations.{}.bbox", ann.annotation_id));
      const int64_t gt = static_cast<int64_t>(e.gt_boxes.size());
      e.annotation_ids.push_back(ann.annotation_id);
      e.gt_boxes.push_back(box);
      for (int64_t rid : ann.refexp_ids) {
        const auto it = refexp_pos.find(rid);
        MRNN_CHECK(it != refexp_pos.end(), "{}: annotations.{}.refexp_ids: expression {} is not in \"refexps\"", path,
                   ann.annotation_id, rid);
        std::vector<std::string> w = ds.refexps[it->second].tokens;
        if (static_cast<int64_t>(w.size()) > o.max_words) w.resize(static_cast<size_t>(o.max_words));
        MRNN_CHECK(!w.empty(), "{}: refexps.{}: no tokens", path, rid);
        s.refexp_ids.push_back(rid);
        s.annotation_ids.push_back(ann.annotation_id);
        s.image_index.push_back(u);
        s.gt_index.push_back(gt);
        s.boxes.push_back(box);
        s.words.push_back(std::move(w));
      }
    }
  }
  MRNN_CHECK(s.size() >= 1, "{}: no annotation has an expression", path);
  if (o.images_dir.empty() && !features) return s;
  // Crops: per image its GT boxes, then its proposals.
  int64_t rows = 0;
  for (RefexpImageEntry& e : s.images) {
    e.gt_row = rows;
    rows += static_cast<int64_t>(e.gt_boxes.size());
    e.proposal_row = rows;
    rows += static_cast<int64_t>(e.proposals.size());
  }
  if (features) {
    gather_features(s, o);
    return s;
  }
  const int S = static_cast<int>(o.image_size);
  const size_t plane = static_cast<size_t>(3 * S * S);
  std::vector<float> crops(static_cast<size_t>(rows) * plane), whole(static_cast<size_t>(U) * plane);
#pragma omp parallel for schedule(dynamic)
  for (int64_t u = 0; u < U; ++u) {
    try {
      const RefexpImageEntry& e = s.images[u];
      const Image& img = pixels[u];
      std::vector<float> w = to_chw_float(resize(img, S, S), kMean, kStd);
      std::copy(w.begin(), w.end(), whole.begin() + u * plane);
      int64_t r = e.gt_row;
      for (const auto* list : {&e.gt_boxes, &e.proposals})
        for (const Box& b : *list) {
          std::vector<float> c = crop_chw(img, b, S);
          std::copy(c.begin(), c.end(), crops.begin() + r++ * plane);
        }
    } catch (const std::exception& ex) {
      errors[u] = ex.what();
    }
  }
  for (int64_t u = 0; u < U; ++u) MRNN_CHECK(errors[u].empty(), "{}: {}: {}", path, s.images[u].path, errors[u]);
  s.crops = Tensor::from_vector(crops, {rows, 3, S, S});
  s.whole = Tensor::from_vector(whole, {U, 3, S, S});
  return s;
}

Vocab build_refexp_vocab(const RefexpSplit& split, int64_t min_count) { return Vocab::build(split.words, min_count); }

void encode_refexp_split(RefexpSplit& split, const Vocab& vocab) {
  split.tokens.clear();
  for (const auto& w : split.words) split.tokens.push_back(vocab.encode(w));
}

void expression_tensors(const RefexpSplit& split, const std::vector<int64_t>& rows, Tensor* inputs, Tensor* targets) {
  MRNN_CHECK(split.tokens.size() == split.words.size(), "{}: the expressions are not encoded", split.name);
  std::vector<std::vector<int32_t>> t;
  t.reserve(rows.size());
  for (int64_t r : rows) t.push_back(split.tokens.at(r));
  teacher_tensors(t, inputs, targets);
}

void teacher_tensors(const std::vector<std::vector<int32_t>>& tokens, Tensor* inputs, Tensor* targets) {
  const int64_t B = static_cast<int64_t>(tokens.size());
  int64_t T = 1;
  for (const auto& t : tokens) T = std::max<int64_t>(T, static_cast<int64_t>(t.size()) + 1);
  std::vector<int64_t> in(static_cast<size_t>(B * T), kPadId), out(static_cast<size_t>(B * T), kPadId);
  for (int64_t b = 0; b < B; ++b) {
    const auto& t = tokens[b];
    in[b * T] = kBosId;
    for (size_t i = 0; i < t.size(); ++i) {
      in[b * T + i + 1] = t[i];
      out[b * T + i] = t[i];
    }
    out[b * T + t.size()] = kEosId;
  }
  *inputs = Tensor::from_vector(in, {B, T});
  *targets = Tensor::from_vector(out, {B, T});
}

std::vector<int64_t> candidate_rows(const RefexpSplit& split, int64_t u, bool proposals) {
  const RefexpImageEntry& e = split.images.at(u);
  const int64_t first = proposals ? e.proposal_row : e.gt_row;
  const size_t n = proposals ? e.proposals.size() : e.gt_boxes.size();
  std::vector<int64_t> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = first + static_cast<int64_t>(i);
  return r;
}

int64_t sample_negative(const RefexpSplit& split, int64_t example, uint64_t seed, int64_t epoch) {
  const int64_t C = static_cast<int64_t>(split.images.at(split.image_index.at(example)).gt_boxes.size());
  if (C < 2) return -1;
  Generator g(seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(epoch) * 0xBF58476D1CE4E5B9ull + 0x2545F491u));
  g.set_state(g.seed(), static_cast<uint64_t>(example) * 4);
  int64_t k = static_cast<int64_t>(g.randint(static_cast<uint64_t>(C - 1)));
  if (k >= split.gt_index[example]) ++k;
  return k;
}

std::string join_words(const std::vector<std::string>& words, TokenizerMode mode) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i > 0 && mode == TokenizerMode::word ? " " : "") + words[i];
  return out;
}

}  // namespace mrnn
