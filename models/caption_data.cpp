#include "models/caption_data.h"

#include <algorithm>

#include "data/image.h"
#include "data/image_transforms.h"
#include "data/npy.h"
#include "data/raw_array_tensor.h"
#include "kernels/ops.h"

namespace mrnn {

std::vector<float> load_image_chw(const std::string& path, int64_t size) {
  Image img = load_image(path);
  const int s = static_cast<int>(size);
  if (img.width != s || img.height != s) img = center_crop(resize_shorter_side(img, s), s, s);
  return to_chw_float(img, {kImageMean, kImageMean, kImageMean}, {kImageStd, kImageStd, kImageStd});
}

CaptionSplit load_caption_split(const KarpathyDataset& dataset, Split split, const Vocab& vocab,
                                const CaptionDataOptions& opt, const std::string& dataset_name) {
  CaptionSplit out;
  std::vector<const KImage*> chosen;
  for (const KImage& im : dataset.images)
    if (im.split == split && (opt.max_images <= 0 || static_cast<int64_t>(chosen.size()) < opt.max_images))
      chosen.push_back(&im);
  MRNN_CHECK(!chosen.empty(), "{}: the {} split has no images", dataset_name, split_name(split));

  std::vector<bool> ok(chosen.size(), true);
  std::vector<std::vector<float>> pixels;
  Tensor feats;
  if (!opt.features.empty()) {
    feats = to_tensor(read_npy(opt.features), opt.features).to(DType::F32);
    MRNN_CHECK(feats.dim() == 2 && feats.size(0) == static_cast<int64_t>(dataset.images.size()),
               "{}: expected features [{} images in {}, D], got {}", opt.features, dataset.images.size(),
               dataset_name, feats.desc());
  } else {
    MRNN_CHECK(!opt.images_dir.empty(), "{}: neither an image folder nor a features file was given", dataset_name);
    pixels.resize(chosen.size());
    std::vector<std::string> errors(chosen.size());
#pragma omp parallel for schedule(dynamic, 8)
    for (size_t i = 0; i < chosen.size(); ++i) {
      const KImage& im = *chosen[i];
      std::string path = opt.images_dir + "/" + (im.filepath.empty() ? "" : im.filepath + "/") + im.filename;
      try {
        pixels[i] = load_image_chw(path, opt.image_size);
      } catch (const std::exception& e) {
        errors[i] = e.what();
        ok[i] = false;
      }
    }
    for (size_t i = 0; i < chosen.size(); ++i) {
      if (ok[i]) continue;
      MRNN_CHECK(opt.skip_bad, "{} (image {} of the {} split; pass --skip-bad to skip unreadable images)", errors[i],
                 i, split_name(split));
      out.skipped_images++;
    }
  }

  std::vector<int64_t> feature_rows;
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (!ok[i]) continue;
    const KImage& im = *chosen[i];
    const int64_t row = static_cast<int64_t>(out.file_names.size());
    out.file_names.push_back(im.filename);
    out.image_ids.push_back(im.cocoid >= 0 ? im.cocoid : im.imgid);
    feature_rows.push_back(im.imgid);
    std::vector<std::string> refs;
    for (const Sentence& s : im.sentences) {
      std::vector<std::string> toks = s.tokens;
      std::string joined;
      for (const auto& t : toks) joined += (joined.empty() ? "" : " ") + t;
      refs.push_back(joined);
      if (static_cast<int64_t>(toks.size()) > opt.max_caption_words) toks.resize(opt.max_caption_words);
      out.captions.push_back(vocab.encode(toks));
      out.caption_image.push_back(row);
    }
    out.references.push_back(std::move(refs));
  }
  MRNN_CHECK(!out.file_names.empty(), "{}: no readable images in the {} split", dataset_name, split_name(split));
  const int64_t n = out.num_images();
  if (feats.defined()) {
    for (int64_t r : feature_rows)
      MRNN_CHECK(r >= 0 && r < feats.size(0), "{}: imgid {} has no row in {}", dataset_name, r, opt.features);
    out.images = index_select(feats, Tensor::from_vector(feature_rows)).contiguous();
  } else {
    const int64_t s = opt.image_size, per = 3 * s * s;
    out.images = Tensor::empty({n, 3, s, s});
    float* dst = out.images.data<float>();
    int64_t row = 0;
    for (size_t i = 0; i < chosen.size(); ++i)
      if (ok[i]) std::copy(pixels[i].begin(), pixels[i].end(), dst + (row++) * per);
  }
  return out;
}

Tensor caption_batch(const CaptionSplit& split, const std::vector<int64_t>& idx) {
  size_t longest = 0;
  for (int64_t c : idx) longest = std::max(longest, split.captions.at(c).size());
  const int64_t B = static_cast<int64_t>(idx.size()), L = static_cast<int64_t>(longest) + 2;
  std::vector<int64_t> tok(B * L, Vocab::kPad);
  for (int64_t b = 0; b < B; ++b) {
    const auto& cap = split.captions[idx[b]];
    tok[b * L] = Vocab::kBos;
    for (size_t j = 0; j < cap.size(); ++j) tok[b * L + 1 + j] = cap[j];
    tok[b * L + 1 + cap.size()] = Vocab::kEos;
  }
  return Tensor::from_vector(tok, {B, L});
}

Tensor caption_image_rows(const CaptionSplit& split, const std::vector<int64_t>& idx) {
  std::vector<int64_t> rows;
  rows.reserve(idx.size());
  for (int64_t c : idx) rows.push_back(split.caption_image.at(c));
  return Tensor::from_vector(rows);
}

}  // namespace mrnn
