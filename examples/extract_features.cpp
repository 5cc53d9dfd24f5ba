// extract_features: the CNN image features of a trained captioning model (caption_train's folder)
// for every image of a Karpathy-format dataset, as one .npy [images in the JSON, image_dim] f32
// file in file order: the layout every program's --features option reads. Why: train or evaluate
// later models on fixed features (the papers' setting) without running a CNN, or decode a large
// image set once.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <numeric>

#include <fmt/format.h>

#include "core/autograd.h"
#include "data/image_loader.h"
#include "data/karpathy.h"
#include "data/npy.h"
#include "data/raw_array_tensor.h"
#include "kernels/ops.h"
#include "models/engine/progress.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/model_dir.h"
#include "examples/cli_checks.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{
      "Write the CNN features of a trained captioning model for every image of a Karpathy-format dataset:\n"
      "one .npy [images in the JSON, image_dim] f32 file, rows in file order (every split), the layout\n"
      "that --features of caption_train, embed_train and nvcs_train (and their evaluators) reads."};
  std::string model_dir, data, images, out, device = "cpu";
  int64_t batch = 64;
  int threads = 0;
  bool quiet = false;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", model_dir, "model folder written by caption_train (a CNN model, not a features one)")
      ->required();
  app.add_option("--data", data, "Karpathy-format dataset JSON")->required()->check(CLI::ExistingFile);
  app.add_option("--images", images, "folder of its images (filepath/filename inside)")->required();
  app.add_option("--out", out, "the .npy file to write (atomically)")->required()->check(cli::output_file);
  app.add_option("--batch", batch, "images per CNN pass")->check(cli::positive_int);
  app.add_option("--threads", threads, "image decoding threads (0 = one per core)")->check(cli::nonnegative_int);
  app.add_flag("--quiet", quiet, "no progress line");
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);
  try {
    ModelDir md = load_model_dir(model_dir);
    if (md.config.image_input != "cnn")
      throw Error(model_dir + "/config.json: image_input is \"" + md.config.image_input +
                  "\", expected \"cnn\" (a model trained on features has no CNN to extract with)");
    md.model->to(parse_device(device));
    const KarpathyDataset ds = load_karpathy(data);
    const int64_t n = static_cast<int64_t>(ds.images.size());
    std::vector<std::string> paths;
    for (const KImage& im : ds.images)
      paths.push_back(images + "/" + (im.filepath.empty() ? "" : im.filepath + "/") + im.filename);
    std::vector<int64_t> identity(static_cast<size_t>(n));
    std::iota(identity.begin(), identity.end(), 0);
    std::vector<std::vector<int64_t>> batches;
    for (int64_t at = 0; at < n; at += batch)
      batches.emplace_back(identity.begin() + at, identity.begin() + std::min(n, at + batch));
    ImageLoaderOptions lo;
    lo.preprocess = caption_image_preprocess(md.config.image_size);
    lo.threads = threads;
    ImageLoader loader(paths, identity, batches, lo);

    const int64_t dim = md.config.image_dim;
    Tensor all = Tensor::empty({n, dim});
    ProgressLine progress(!quiet);
    NoGradGuard ng;
    LoadedBatch b;
    int64_t done = 0;
    while (loader.next(b)) {
      const Tensor f = md.model->cnn_features(b.pixels.to(md.model->device())).to(Device::cpu()).contiguous();
      MRNN_CHECK(f.size(0) == static_cast<int64_t>(b.images.size()) && f.size(1) == dim,
                 "extract_features: the CNN gave [{}, {}] for {} images, expected image_dim {}", f.size(0),
                 f.size(1), b.images.size(), dim);
      for (size_t r = 0; r < b.images.size(); ++r)
        std::copy_n(f.data<float>() + static_cast<int64_t>(r) * dim, dim, all.data<float>() + b.images[r] * dim);
      done += static_cast<int64_t>(b.images.size());
      progress.update(fmt::format("images {}/{}  {:.0f} images/s", done, n, done / std::max(progress.elapsed(), 1e-9)), done,
                      n - done);
    }
    progress.finish();
    write_npy(out, to_raw_array(all));
    std::printf("%s: [%lld, %lld] f32 features of %s (%s) through %s's CNN in %.1f s\n", out.c_str(),
                static_cast<long long>(n), static_cast<long long>(dim), data.c_str(), images.c_str(),
                model_dir.c_str(), progress.elapsed());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "extract_features: %s\n", e.what());
    return 1;
  }
  return 0;
}
