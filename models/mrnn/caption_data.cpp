#include "models/mrnn/caption_data.h"

#include <algorithm>
#include <filesystem>

#include "data/batching.h"
#include "data/npy.h"
#include "data/raw_array_tensor.h"
#include "kernels/ops.h"

namespace mrnn {

ImagePreprocess caption_image_preprocess(int64_t size) {
  ImagePreprocess p;
  p.size = size;
  p.mean = {kImageMean, kImageMean, kImageMean};
  p.std = {kImageStd, kImageStd, kImageStd};
  return p;
}

std::vector<float> load_image_chw(const std::string& path, int64_t size) {
  return preprocess_image_file(path, caption_image_preprocess(size));
}

CaptionSplit load_caption_split(const KarpathyDataset& dataset, Split split, const Vocab& vocab,
                                const CaptionDataOptions& opt, const std::string& dataset_name) {
  CaptionSplit out;
  std::vector<const KImage*> chosen;
  for (const KImage& im : dataset.images)
    if (im.split == split && (opt.max_images <= 0 || static_cast<int64_t>(chosen.size()) < opt.max_images))
      chosen.push_back(&im);
  MRNN_CHECK(!chosen.empty(), "{}: the {} split has no images", dataset_name, split_name(split));

  std::vector<char> ok(chosen.size(), 1);  // char, not bool: written from the OpenMP loop below
  std::vector<std::vector<float>> pixels;
  std::vector<std::string> paths;
  Tensor feats;
  if (!opt.features.empty()) {
    feats = to_tensor(read_npy(opt.features), opt.features).to(DType::F32);
    MRNN_CHECK(feats.dim() == 2 && feats.size(0) == static_cast<int64_t>(dataset.images.size()),
               "{}: expected features [{} images in {}, D], got {}", opt.features, dataset.images.size(),
               dataset_name, feats.desc());
  } else {
    MRNN_CHECK(!opt.images_dir.empty(), "{}: neither an image folder nor a features file was given", dataset_name);
    for (const KImage* im : chosen)
      paths.push_back(opt.images_dir + "/" + (im->filepath.empty() ? "" : im->filepath + "/") + im->filename);
    const double bytes = static_cast<double>(chosen.size()) * 3.0 * static_cast<double>(opt.image_size) *
                         static_cast<double>(opt.image_size) * sizeof(float);
    out.streamed = opt.stream_images || (opt.preload_limit_bytes > 0 && bytes > static_cast<double>(opt.preload_limit_bytes));
    if (!out.streamed) pixels.resize(chosen.size());
    std::vector<std::string> errors(chosen.size());
#pragma omp parallel for schedule(dynamic, 8)
    for (size_t i = 0; i < chosen.size(); ++i) {
      try {
        if (!out.streamed) {
          pixels[i] = load_image_chw(paths[i], opt.image_size);
        } else {
          std::error_code ec;
          if (!std::filesystem::is_regular_file(paths[i], ec))
            errors[i] = fmt::format("image file '{}' does not exist or is not a regular file", paths[i]);
        }
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
      if (!errors[i].empty()) ok[i] = false;
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
    if (!paths.empty()) out.image_paths.push_back(paths[i]);
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
  } else if (!out.streamed) {
    const int64_t s = opt.image_size, per = 3 * s * s;
    out.images = Tensor::empty({n, 3, s, s});
    float* dst = out.images.data<float>();
    int64_t row = 0;
    for (size_t i = 0; i < chosen.size(); ++i)
      if (ok[i]) std::copy(pixels[i].begin(), pixels[i].end(), dst + (row++) * per);
  }
  if (!feats.defined()) out.image_size = opt.image_size;
  return out;
}

Tensor caption_batch(const CaptionSplit& split, const std::vector<int64_t>& idx) {
  return pad_token_batch(split.captions, idx).tokens;
}

Tensor caption_image_rows(const CaptionSplit& split, const std::vector<int64_t>& idx) {
  std::vector<int64_t> rows;
  rows.reserve(idx.size());
  for (int64_t c : idx) rows.push_back(split.caption_image.at(c));
  return Tensor::from_vector(rows);
}

}  // namespace mrnn
