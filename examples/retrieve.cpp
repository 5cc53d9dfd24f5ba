// retrieve: the two retrieval tasks of one m-RNN. --text ranks the split's images by
// log P(sentence | image); --image ranks the split's sentences by P(S | I) / P(S).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <numeric>

#include "core/autograd.h"
#include "data/karpathy.h"
#include "data/tokenizer.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/model_dir.h"
#include "models/mrnn/model_split.h"
#include "models/mrnn/retrieval.h"
#include "examples/cli_checks.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Image retrieval from a sentence (--text) or sentence retrieval from an image (--image)."};
  std::string model_dir, data, images, features, split_name = "test", text, image;
  std::string device = "cpu";
  int64_t top_k = 5, max_images = 0, prior_images = 100;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", model_dir, "model directory written by caption_train")->required();
  app.add_option("--data", data, "Karpathy-format dataset JSON (the gallery)")->required()->check(CLI::ExistingFile);
  app.add_option("--images", images, "image folder");
  app.add_option("--features", features, ".npy features (feature models)");
  app.add_option("--split", split_name, "gallery split")->check(CLI::IsMember({"train", "val", "test"}));
  app.add_option("--text", text, "query sentence: rank the gallery's images");
  app.add_option("--image", image, "query image file: rank the gallery's sentences")->check(CLI::ExistingFile);
  app.add_option("--top-k", top_k, "how many results")->check(cli::positive_int);
  app.add_option("--max-images", max_images, "gallery: first N images of the split (0 = all)")->check(cli::nonnegative_int);
  app.add_option("--prior-images", prior_images, "first N train images, used to estimate P(sentence) (0 = all)")
      ->check(cli::nonnegative_int);
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);
  try {
    const Device dev = parse_device(device);  // checked by --device already
    if (text.empty() == image.empty()) throw Error("give exactly one of --text or --image");
    ModelDir md = load_model_dir(model_dir);
    KarpathyDataset ds = load_karpathy(data, dataset_options_for(md));
    const SplitSource source{data, images, features};
    CaptionSplit sp = load_split_for_model(md, model_dir, ds, parse_split(split_name), source, max_images);
    md.model->to(dev);  // scoring runs there; one block of losses at a time comes back (retrieval.h)
    NoGradGuard ng;
    if (!text.empty()) {
      CaptionSplit q;
      std::vector<std::string> toks = tokenize(text, md.tokenizer);
      if (toks.empty()) throw Error("--text has no words after tokenization");
      q.captions.push_back(md.vocab.encode(toks));
      q.caption_image.push_back(0);
      Tensor tokens = caption_batch(q, {0});
      std::vector<double> s = sentence_log_probs(*md.model, md.model->encode_images(sp.images.to(dev)), tokens);
      std::vector<int64_t> order(sp.num_images());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
      for (int64_t k = 0; k < std::min<int64_t>(top_k, sp.num_images()); ++k)
        std::printf("%lld\t%.4f\t%s\n", static_cast<long long>(k + 1), s[order[k]], sp.file_names[order[k]].c_str());
    } else {
      if (md.config.image_input != "cnn") throw Error(model_dir + " was trained on features: --image needs a CNN model");
      std::vector<float> px = load_image_chw(image, md.config.image_size);
      Tensor img = Tensor::from_vector(px, {1, 3, md.config.image_size, md.config.image_size});
      std::vector<int64_t> all(sp.captions.size());
      std::iota(all.begin(), all.end(), 0);
      Tensor tokens = caption_batch(sp, all);
      std::vector<double> s = sentence_log_probs(*md.model, md.model->encode_images(img.to(dev)), tokens);
      CaptionSplit prior = load_split_for_model(md, model_dir, ds, Split::train, source, prior_images);
      std::vector<double> norm =
          normalised_scores(s, sentence_log_prior_over(*md.model, md.model->encode_images(prior.images.to(dev)), tokens));
      std::vector<int64_t> order(all.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return norm[a] > norm[b]; });
      for (int64_t k = 0; k < std::min<int64_t>(top_k, static_cast<int64_t>(order.size())); ++k) {
        const int64_t c = order[k], owner = sp.caption_image[c];
        int64_t nth = 0;
        for (int64_t t = 0; t < c; ++t) nth += sp.caption_image[t] == owner;
        std::printf("%lld\t%.4f\t%s\n", static_cast<long long>(k + 1), norm[c], sp.references[owner][nth].c_str());
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "retrieve: error: %s\n", e.what());
    return 1;
  }
}
