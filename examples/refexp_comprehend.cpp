// refexp_comprehend: for every expression of a Google-Refexp-format file, ranks its image's
// candidate regions by log p(S | R, I) with a trained speaker and writes the toolbox's comprehension
// results [{"annotation_id", "refexp_id", "predicted_bounding_boxes"}] (best box first). With
// --expressions GEN.json (refexp_generate's output) it comprehends those generated expressions
// instead: the end-to-end test of generation.
//   refexp_comprehend --model runs/refexp --data google_refexp_val.json --images DIR --results c.json
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>

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
  CLI::App app{"Comprehend referring expressions: pick, for each expression, the region of its image it refers to."};
  app.option_defaults()->always_capture_default();
  std::string model_dir, data, results, candidates = "gt", expressions, device = "cpu";
  int64_t max_images = 0;
  bool quiet = false;
  app.add_option("--model", model_dir, "trained model folder (from refexp_train)")->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--data", data, "Google-Refexp-format file")->required()->check(CLI::ExistingFile);
  cli::RefexpInputs inputs;
  cli::add_refexp_inputs(app, inputs);
  app.add_option("--candidates", candidates, "gt: the image's annotated objects | proposals: its region_candidates")
      ->check(CLI::IsMember({"gt", "proposals"}));
  app.add_option("--expressions", expressions, "comprehend these generated expressions [{\"annotation_id\", "
                 "\"refexp\"}] instead of the file's")->check(CLI::ExistingFile);
  app.add_option("--results", results, "comprehension results to write (toolbox format)")->required()
      ->check(cli::output_file);
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
    encode_refexp_split(split, m.vocab);
    const bool proposals = candidates == "proposals";
    std::vector<int64_t> rows;
    std::vector<std::vector<int32_t>> tokens;
    std::vector<std::string> texts;
    if (expressions.empty()) {
      for (int64_t r = 0; r < split.size(); ++r) rows.push_back(r);
    } else {
      std::map<int64_t, int64_t> row_of;  // annotation id -> a row of it (its image and box)
      for (int64_t r = split.size() - 1; r >= 0; --r) row_of[split.annotation_ids[r]] = r;
      const std::vector<GenerationResult> gen = read_generation_results(expressions);
      for (size_t i = 0; i < gen.size(); ++i) {
        const auto it = row_of.find(gen[i].annotation_id);
        MRNN_CHECK(it != row_of.end(), "{}: [{}].annotation_id {} is not an annotation of {}", expressions, i,
                   gen[i].annotation_id, data);
        rows.push_back(it->second);
        tokens.push_back(m.vocab.encode(tokenize(gen[i].refexp, m.config.tokenizer)));
        texts.push_back(gen[i].refexp);
      }
      MRNN_CHECK(!rows.empty(), "{}: no expressions", expressions);
    }
    const SplitFeatures f = encode_split_features(*m.model, split);
    ProgressLine line(!quiet);
    const auto ranked = rank_candidates(*m.model, split, f, rows, proposals, tokens, 2048, [&](int64_t done, int64_t total) {
      line.update(fmt::format("comprehended {}/{} expressions", done, total), done, total - done, done == total);
    });
    line.finish();
    std::vector<ComprehensionResult> out;
    int64_t none = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      ComprehensionResult c;
      c.annotation_id = split.annotation_ids[rows[i]];
      if (expressions.empty()) c.refexp_id = split.refexp_ids[rows[i]];
      else c.refexp = texts[i];
      c.boxes = ranked_boxes(split, rows[i], ranked[i], proposals);
      if (c.boxes.empty()) ++none;
      out.push_back(std::move(c));
    }
    write_comprehension_results(results, out);
    if (none)
      std::fprintf(stderr, "%lld expressions have no %s candidate in their image (no box predicted: a miss)\n",
                   static_cast<long long>(none), candidates.c_str());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!quiet)
      std::fprintf(stderr, "%zu expressions on %zu images comprehended (%s candidates) in %.1f s (%.0f expressions/s)\n",
                   rows.size(), split.images.size(), candidates.c_str(), s, rows.size() / std::max(s, 1e-9));
    std::printf("wrote %s\n", results.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refexp_comprehend: error: %s\n", e.what());
    return 1;
  }
}
