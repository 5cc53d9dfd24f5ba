// caption_generate: captions for image files or for a split of a dataset; writes a COCO results
// JSON [{"image_id", "caption"}] that coco-caption / eval_captions can score.
#include <CLI/CLI.hpp>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "data/raw_array.h"
#include "data/karpathy.h"
#include "kernels/ops.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/decoding.h"
#include "models/mrnn/model_dir.h"
#include "models/mrnn/model_split.h"
#include "examples/cli_checks.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Generate captions with a trained m-RNN (greedy, sampling or beam search)."};
  std::string model_dir, data, images, features, split_name = "test", results;
  std::vector<std::string> files;
  std::string method = "beam";
  DecodeOptions opt;
  uint64_t seed = 1;
  int64_t max_images = 0;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", model_dir, "model directory written by caption_train")->required();
  app.add_option("files", files, "image files to caption")->check(CLI::ExistingFile);
  app.add_option("--data", data, "or: a Karpathy-format dataset JSON (captions every image of --split)");
  app.add_option("--images", images, "image folder for --data");
  app.add_option("--features", features, ".npy features for --data (feature models)");
  app.add_option("--split", split_name, "split of --data")->check(CLI::IsMember({"train", "val", "test"}));
  app.add_option("--max-images", max_images, "caption only the first N images of the split (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--method", method, "greedy | sample | beam")->check(CLI::IsMember({"greedy", "sample", "beam"}));
  app.add_option("--beam", opt.beam_size, "beam size")->check(cli::positive_int);
  app.add_option("--max-length", opt.max_length, "longest caption in words")->check(cli::positive_int);
  app.add_option("--length-penalty", opt.length_penalty, "beam score = log P / length^alpha")->check(cli::finite_real);
  app.add_flag("--block-trigrams", opt.block_trigrams, "forbid repeated word trigrams in beam search");
  app.add_option("--temperature", opt.temperature, "sampling temperature")->check(cli::positive_real);
  app.add_option("--top-k", opt.top_k, "sample among the k most likely words (0 = all)")->check(cli::nonnegative_int);
  app.add_option("--seed", seed, "sampling seed");
  app.add_option("--results", results, "write a COCO results JSON here")->check(cli::output_file);
  std::string device = "cpu", precision = "fp32";
  cli::add_device_option(app, device);
  cli::add_precision_option(app, precision);
  CLI11_PARSE(app, argc, argv);
  try {
    ModelDir md = load_model_dir(model_dir);
    const Device dev = parse_device(device);
    md.model->to(dev);  // decoding runs on the model's device (models/mrnn/decoding.h)
    std::string notice;
    md.model->set_inference_precision(parse_matmul_precision(precision), &notice);
    if (!notice.empty()) std::fprintf(stderr, "caption_generate: %s\n", notice.c_str());
    if (files.empty() == data.empty()) throw Error("give image files or --data (not both)");
    Tensor input;
    std::vector<std::string> names;
    std::vector<int64_t> ids;
    if (!files.empty()) {
      if (md.config.image_input != "cnn") throw Error(model_dir + " was trained on features: use --data --features");
      const int64_t s = md.config.image_size;
      input = Tensor::empty({static_cast<int64_t>(files.size()), 3, s, s});
      for (size_t i = 0; i < files.size(); ++i) {
        std::vector<float> px = load_image_chw(files[i], s);
        std::copy(px.begin(), px.end(), input.data<float>() + i * px.size());
        names.push_back(files[i]);
        ids.push_back(static_cast<int64_t>(i));
      }
    } else {
      KarpathyDataset ds = load_karpathy(data, dataset_options_for(md));
      CaptionSplit sp =
          load_split_for_model(md, model_dir, ds, parse_split(split_name), {data, images, features}, max_images);
      input = sp.images;
      names = sp.file_names;
      ids = sp.image_ids;
    }
    NoGradGuard ng;
    Generator gen(seed);
    nlohmann::json out = nlohmann::json::array();
    for (int64_t at = 0; at < input.size(0); at += 128) {
      const int64_t b = std::min<int64_t>(128, input.size(0) - at);
      Tensor feats = md.model->encode_images(narrow(input, 0, at, b).to(dev));
      std::vector<Caption> caps = method == "beam"     ? beam_search_captions(*md.model, feats, opt)
                                  : method == "greedy" ? greedy_captions(*md.model, feats, opt)
                                                       : sample_captions(*md.model, feats, opt, gen);
      for (int64_t i = 0; i < b; ++i) {
        std::vector<int32_t> w(caps[i].ids.begin(), caps[i].ids.end());
        std::string text;
        for (const auto& t : md.vocab.decode(w)) text += (text.empty() ? "" : " ") + t;
        std::printf("%s\t%s\n", names[at + i].c_str(), text.c_str());
        out.push_back({{"image_id", ids[at + i]}, {"caption", text}});
      }
    }
    if (!results.empty()) {
      const std::string text = out.dump() + "\n";
      write_file_atomic(results, {{text.data(), text.size()}});  // complete or absent, never half-written
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "caption_generate: error: %s\n", e.what());
    return 1;
  }
}
