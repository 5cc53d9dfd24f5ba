// refexp_generate: one referring expression per annotated object of a Google-Refexp-format file,
// by beam search (or greedy) with a trained speaker; writes the toolbox's generation results
// [{"annotation_id", "refexp"}].
//   refexp_generate --model runs/refexp --data google_refexp_val.json --images DIR --results g.json
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "core/device.h"
#include "examples/cli_checks.h"
#include "examples/refexp_cli.h"
#include "models/engine/progress.h"
#include "models/refexp/refexp_dir.h"
#include "models/refexp/refexp_inference.h"
#include "models/refexp/refexp_results.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Generate a referring expression for every annotated object of a Google-Refexp-format file."};
  app.option_defaults()->always_capture_default();
  std::string model_dir, data, results, device = "cpu";
  DecodeOptions opt;
  opt.beam_size = 3;
  opt.max_length = 20;
  int64_t max_images = 0;
  bool quiet = false;
  app.add_option("--model", model_dir, "trained model folder (from refexp_train)")->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--data", data, "Google-Refexp-format file (its annotations are the objects to describe)")
      ->required()->check(CLI::ExistingFile);
  cli::RefexpInputs inputs;
  cli::add_refexp_inputs(app, inputs);
  app.add_option("--results", results, "generation results to write (toolbox format)")->required()
      ->check(cli::output_file);
  app.add_option("--beam", opt.beam_size, "beam size (1 = greedy)")->check(CLI::Range(1, 16));
  app.add_option("--max-length", opt.max_length, "longest expression in tokens")->check(cli::positive_int);
  app.add_option("--max-images", max_images, "only the first N images (0 = all)")->check(cli::nonnegative_int);
  app.add_flag("--quiet", quiet, "no progress output");
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    RefexpDir m = load_refexp_dir(model_dir);
    m.model->to(parse_device(device));  // the speaker runs on its device; features and scores come back
    cli::check_refexp_inputs(inputs, m.config.speaker.image_size, model_dir);
    RefexpDataOptions d = m.config.data_options(max_images);
    cli::apply_refexp_inputs(inputs, d);
    RefexpSplit split = load_refexp_split(data, d);
    const std::vector<int64_t> rows = first_row_per_annotation(split);
    const SplitFeatures f = encode_split_features(*m.model, split);
    ProgressLine line(!quiet);
    const auto ids = generate_expressions(*m.model, split, f, rows, opt, 256, [&](int64_t done, int64_t total) {
      line.update(fmt::format("described {}/{} objects", done, total), done, total - done, done == total);
    });
    line.finish();
    std::vector<GenerationResult> out;
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<std::string> words;
      for (int64_t id : ids[i]) words.push_back(m.vocab.token(static_cast<int32_t>(id)));
      out.push_back({split.annotation_ids[rows[i]], join_words(words, m.config.tokenizer)});
    }
    write_generation_results(results, out);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!quiet)
      std::fprintf(stderr, "%zu expressions generated (beam %lld) in %.1f s (%.0f objects/s)\n", rows.size(),
                   static_cast<long long>(opt.beam_size), s, rows.size() / std::max(s, 1e-9));
    std::printf("wrote %s\n", results.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refexp_generate: error: %s\n", e.what());
    return 1;
  }
}
