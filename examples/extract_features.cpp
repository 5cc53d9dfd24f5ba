// extract_features: the CNN image features of a trained captioning model (caption_train's folder)
// for every image of a Karpathy-format dataset, as one .npy [images in the JSON, image_dim] f32
// file in file order: the layout every program's --features option reads; or, for a VQA questions
// file, one row per distinct image (first-use order) and a text file of their image ids (the
// --features/--feature-ids pair of the mqa programs). Why: train or evaluate later models on fixed
// features (the papers' setting) without running a CNN, or decode a large image set once.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "core/autograd.h"
#include "data/image_loader.h"
#include "data/karpathy.h"
#include "data/npy.h"
#include "data/vqa.h"
#include "data/raw_array_tensor.h"
#include "kernels/ops.h"
#include "models/engine/progress.h"
#include "models/mqa/mqa_data.h"
#include "models/refexp/refexp_data.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/model_dir.h"
#include "examples/cli_checks.h"

using namespace mrnn;

namespace {

// Google Refexp: every ground-truth object and region candidate of the file's annotated images,
// cropped and resized as the refexp programs crop them (models/refexp/refexp_data.h), into
// region features + keys ("ann <annotation_id>" / "cand <image_id> <k>"), and every whole image
// into image features + ids: the four files of refexp_train's --region-features etc.
void extract_refexp(const Mrnn& model, const std::string& file, const std::string& images, int64_t batch, bool quiet,
                    const std::string& out, const std::string& keys_out, const std::string& image_out,
                    const std::string& image_ids_out) {
  RefexpDataOptions d;
  d.images_dir = images;
  d.image_size = model.config().image_size;
  const RefexpSplit s = load_refexp_split(file, d);
  ProgressLine progress(!quiet);
  int64_t done = 0;
  const int64_t total = s.crops.size(0) + s.whole.size(0);
  auto step = [&](int64_t n) {
    done += n;
    progress.update(fmt::format("regions and images {}/{}", done, total), done, total - done);
  };
  const Tensor regions = model.cnn_features(s.crops, batch, step);
  const Tensor whole = model.cnn_features(s.whole, batch, step);
  progress.finish();
  std::string keys, ids;
  for (const RefexpImageEntry& e : s.images) {
    for (int64_t a : e.annotation_ids) keys += fmt::format("ann {}\n", a);
    for (size_t k = 0; k < e.proposals.size(); ++k) keys += fmt::format("cand {} {}\n", e.image_id, k);
    ids += fmt::format("{}\n", e.image_id);
  }
  write_npy(out, to_raw_array(regions));
  write_file_atomic(keys_out, keys);
  write_npy(image_out, to_raw_array(whole));
  write_file_atomic(image_ids_out, ids);
  std::printf("%s: [%lld, %lld] region features (keys in %s), %s: [%lld, %lld] image features (ids in %s), in %.1f s\n",
              out.c_str(), static_cast<long long>(regions.size(0)), static_cast<long long>(regions.size(1)),
              keys_out.c_str(), image_out.c_str(), static_cast<long long>(whole.size(0)),
              static_cast<long long>(whole.size(1)), image_ids_out.c_str(), progress.elapsed());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Write the CNN features of a trained captioning model for every image of a Karpathy-format dataset:\n"
      "one .npy [images in the JSON, image_dim] f32 file, rows in file order (every split), the layout\n"
      "that --features of caption_train, embed_train and nvcs_train (and their evaluators) reads. Or, with\n"
      "--questions (VQA), a row per distinct image in first-use order and --ids-out, their image ids one\n"
      "per line: the --features/--feature-ids pair of mqa_train and mqa_eval. Or, with --refexp (Google\n"
      "Refexp), the region and image features (and their keys and ids) that the refexp programs read."};
  std::string model_dir, data, refexp, ids_out, image_out, image_ids_out, images, out, device = "cpu";
  std::vector<std::string> questions;
  int64_t batch = 64;
  int threads = 0;
  bool quiet = false, random_init = false;
  uint64_t seed = 1;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", model_dir, "model folder written by caption_train (a CNN model, not a features one)")
      ->required();
  app.add_option("--data", data, "Karpathy-format dataset JSON")->check(CLI::ExistingFile);
  app.add_option("--questions", questions, "or: VQA-format questions files, one or more (the images of all of them, "
                 "each once; image N: the file of --images whose name ends in the number N)")->check(CLI::ExistingFile);
  app.add_option("--refexp", refexp, "or: a Google-Refexp-format file: --out gets the region features, --ids-out "
                 "their keys, --image-out and --image-ids-out the whole images'")->check(CLI::ExistingFile);
  app.add_option("--ids-out", ids_out, "with --questions: the text file of each row's image id; with --refexp: the "
                 "region keys (written atomically)")->check(cli::output_file);
  app.add_option("--image-out", image_out, "with --refexp: the whole-image features .npy")->check(cli::output_file);
  app.add_option("--image-ids-out", image_ids_out, "with --refexp: the image id of each --image-out row")
      ->check(cli::output_file);
  app.add_option("--images", images, "folder of the images (Karpathy: filepath/filename inside)")->required();
  app.add_option("--out", out, "the .npy file to write (atomically)")->required()->check(cli::output_file);
  app.add_option("--batch", batch, "images per CNN pass")->check(cli::positive_int);
  app.add_option("--threads", threads, "image decoding threads (0 = one per core)")->check(cli::nonnegative_int);
  app.add_flag("--random-init", random_init, "the model folder's architecture with fresh random weights (a fixed "
               "random-CNN baseline: its features keep colour and layout but learned nothing)");
  app.add_option("--seed", seed, "with --random-init: the weights' seed");
  app.add_flag("--quiet", quiet, "no progress line");
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);
  try {
    ModelDir md = load_model_dir(model_dir);
    if (md.config.image_input != "cnn")
      throw Error(model_dir + "/config.json: image_input is \"" + md.config.image_input +
                  "\", expected \"cnn\" (a model trained on features has no CNN to extract with)");
    if (random_init) {
      Generator gen(seed);
      md.model = std::make_shared<Mrnn>(md.config, gen);
      md.model->eval();
    }
    md.model->to(parse_device(device));
    if (!data.empty() + !questions.empty() + !refexp.empty() != 1)
      throw Error("give exactly one of --data (Karpathy), --questions (VQA) and --refexp (Google Refexp)");
    if (!refexp.empty()) {
      if (ids_out.empty() || image_out.empty() || image_ids_out.empty())
        throw Error("--refexp needs --ids-out (region keys), --image-out and --image-ids-out");
      extract_refexp(*md.model, refexp, images, batch, quiet, out, ids_out, image_out, image_ids_out);
      return 0;
    }
    if (questions.empty() != ids_out.empty()) throw Error("--questions needs --ids-out (and the other way round)");
    std::vector<std::string> paths;
    std::vector<int64_t> image_ids;  // VQA: the id of each row
    std::vector<int64_t> row_of;     // Karpathy: the row of each image (its imgid, as the readers look it up)
    if (!data.empty()) {
      const KarpathyDataset ds = load_karpathy(data);
      const int64_t n = static_cast<int64_t>(ds.images.size());
      std::vector<char> taken(static_cast<size_t>(n), 0);
      for (const KImage& im : ds.images) {
        MRNN_CHECK(im.imgid >= 0 && im.imgid < n && !taken[im.imgid],
                   "{}: imgid {} of {}: the --features layout puts image imgid at row imgid, so the imgids must be "
                   "0..{} (each once)", data, im.imgid, im.filename, n - 1);
        taken[im.imgid] = 1;
        row_of.push_back(im.imgid);
        paths.push_back(images + "/" + (im.filepath.empty() ? "" : im.filepath + "/") + im.filename);
      }
    } else {
      const ImageIndex index(images);
      std::set<int64_t> seen;
      for (const std::string& file : questions)
        for (const VqaQuestion& q : load_vqa_questions(file).questions)
          if (seen.insert(q.image_id).second) {
            paths.push_back(index.path(q.image_id, q.question_id));
            image_ids.push_back(q.image_id);
          }
    }
    const int64_t n = static_cast<int64_t>(paths.size());
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
      for (size_t r = 0; r < b.images.size(); ++r) {
        const int64_t row = row_of.empty() ? b.images[r] : row_of[b.images[r]];
        std::copy_n(f.data<float>() + static_cast<int64_t>(r) * dim, dim, all.data<float>() + row * dim);
      }
      done += static_cast<int64_t>(b.images.size());
      progress.update(fmt::format("images {}/{}  {:.0f} images/s", done, n, done / std::max(progress.elapsed(), 1e-9)), done,
                      n - done);
    }
    progress.finish();
    write_npy(out, to_raw_array(all));
    if (!ids_out.empty()) {
      std::string text;
      for (int64_t id : image_ids) text += std::to_string(id) + "\n";
      write_file_atomic(ids_out, text);
    }
    std::printf("%s: [%lld, %lld] f32 features of %s (%s) through %s's CNN in %.1f s%s%s\n", out.c_str(),
                static_cast<long long>(n), static_cast<long long>(dim), data.empty() ? questions.front().c_str() : data.c_str(),
                images.c_str(), model_dir.c_str(), progress.elapsed(), ids_out.empty() ? "" : "; image ids in ",
                ids_out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "extract_features: %s\n", e.what());
    return 1;
  }
  return 0;
}
