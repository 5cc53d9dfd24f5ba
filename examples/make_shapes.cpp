// make_shapes: writes the ShapesWorld dataset (images + Karpathy, Google Refexp, VQA v2 and NVC
// JSON files) into a folder, so every task can train on it through the real datasets' readers.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "examples/cli_checks.h"
#include "data/shapes_render.h"
#include "data/shapes_world.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Writes the first `count` images of each split, upscaled by `factor` for viewing.
void write_previews(const mrnn::ShapesWorldOptions& o, const std::string& out, int count, int factor) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(out) / "preview";
  std::error_code ec;
  fs::create_directories(dir, ec);
  MRNN_CHECK(!ec, "cannot create preview folder '{}': {}", dir.string(), ec.message());
  const mrnn::ShapesSplit splits[] = {mrnn::ShapesSplit::train, mrnn::ShapesSplit::val, mrnn::ShapesSplit::test,
                                      mrnn::ShapesSplit::novel};
  const int sizes[] = {o.n_train, o.n_val, o.n_test, o.n_novel};
  for (int s = 0; s < 4; ++s) {
    for (int i = 0; i < sizes[s] && i < count; ++i) {
      mrnn::ShapesImage im = mrnn::make_shapes_image(o, splits[s], i);
      auto png = mrnn::shapes::encode_png(mrnn::shapes::upscale_nearest(mrnn::shapes::render_scene(im.scene), factor));
      const fs::path path = dir / im.filename;
      std::FILE* f = std::fopen(path.c_str(), "wb");
      MRNN_CHECK(f != nullptr, "cannot write preview '{}'", path.string());
      const bool ok = std::fwrite(png.data(), 1, png.size(), f) == png.size();
      MRNN_CHECK(std::fclose(f) == 0 && ok, "cannot write preview '{}'", path.string());
      std::printf("%s (%s)  %s\n", path.string().c_str(), mrnn::split_name(splits[s]), im.captions[0].c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  mrnn::ShapesWorldOptions o;
  std::string out;
  int preview = 0, preview_scale = 4;
  bool quiet = false;

  CLI::App app{"Generate the ShapesWorld dataset: PNG images of coloured shapes with captions (Karpathy JSON),\n"
               "referring expressions (Google Refexp JSON), questions (VQA v2 JSON) and a novel-concept\n"
               "file (NVC JSON). Same options -> byte-identical files."};
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--out,-o", out, "output folder (created if missing)")->required();
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_option("--train", o.n_train, "number of training images")
      ->capture_default_str()
      ->check(mrnn::cli::nonnegative_int);
  app.add_option("--val", o.n_val, "number of validation images")
      ->capture_default_str()
      ->check(mrnn::cli::nonnegative_int);
  app.add_option("--test", o.n_test, "number of test images")->capture_default_str()->check(mrnn::cli::nonnegative_int);
  app.add_option("--novel", o.n_novel, "number of images with the novel shapes (star, hexagon)")
      ->capture_default_str()
      ->check(mrnn::cli::nonnegative_int);
  app.add_option("--image-size", o.image_size, "image width = height in pixels")
      ->capture_default_str()
      ->check(CLI::Range(32, 1024));
  app.add_option("--min-objects", o.min_objects, "fewest objects per image")->capture_default_str()->check(CLI::Range(1, 4));
  app.add_option("--max-objects", o.max_objects, "most objects per image")->capture_default_str()->check(CLI::Range(1, 4));
  app.add_option("--captions", o.captions_per_image, "captions per image")->capture_default_str()->check(CLI::Range(1, 9));
  app.add_option("--refexps", o.refexps_per_object, "referring expressions per object (at most)")
      ->capture_default_str()
      ->check(CLI::Range(1, 9));
  app.add_option("--questions", o.questions_per_image, "questions per image")->capture_default_str()->check(CLI::Range(1, 9));
  app.add_option("--noise", o.noise, "per-pixel noise amplitude")->capture_default_str()->check(CLI::Range(0, 32));
  app.add_option("--novel-train-fraction", o.novel_train_fraction,
                 "fraction of each novel concept's images in the NVC file's train split")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--threads", o.threads, "worker threads (0: all)")
      ->capture_default_str()
      ->check(mrnn::cli::nonnegative_int);
  app.add_option("--preview", preview, "also write the first N images of each split, upscaled, to OUT/preview/")
      ->capture_default_str()
      ->check(mrnn::cli::nonnegative_int);
  app.add_option("--preview-scale", preview_scale, "upscaling factor of the previews")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  app.add_flag("--quiet,-q", quiet, "no progress output");
  CLI11_PARSE(app, argc, argv);

  const auto t0 = Clock::now();
  bool progress_shown = false;
  int next_decile = 1;  // outside the block: the progress callback outlives it
  if (!quiet) {
    // On a terminal one line is redrawn; in a log (not a TTY) a full line is written every 10%.
    const bool tty = isatty(2);
    o.progress = [&, tty](int done, int total) {
      const double s = seconds_since(t0);
      const double rate = s > 0 ? done / s : 0.0;
      const double eta = rate > 0 ? (total - done) / rate : 0.0;
      if (tty) {
        progress_shown = done < total;
        std::fprintf(stderr, "\r[make_shapes] %d/%d images  %.0f images/s  ETA %.0f s ", done, total, rate, eta);
        if (done == total) std::fprintf(stderr, "\n");
      } else if (static_cast<int64_t>(done) * 10 >= static_cast<int64_t>(next_decile) * total || done == total) {
        std::fprintf(stderr, "[make_shapes] %d/%d images  %.0f images/s  ETA %.0f s\n", done, total, rate, eta);
        while (static_cast<int64_t>(next_decile) * total <= static_cast<int64_t>(done) * 10) ++next_decile;
      }
      std::fflush(stderr);
    };
  }
  try {
    mrnn::ShapesWorldSummary sum = mrnn::generate_shapes_world(o, out);
    const double s = seconds_since(t0);
    const int total = sum.images[0] + sum.images[1] + sum.images[2] + sum.images[3];
    std::printf("ShapesWorld written to %s in %.2f s (%.0f images/s)\n", out.c_str(), s, s > 0 ? total / s : 0.0);
    std::printf("  images:    %d train, %d val, %d test, %d novel (%dx%d PNG in images/)\n", sum.images[0],
                sum.images[1], sum.images[2], sum.images[3], o.image_size, o.image_size);
    std::printf("  captions:  %lld   referring expressions: %lld   questions: %lld\n",
                static_cast<long long>(sum.captions), static_cast<long long>(sum.refexps),
                static_cast<long long>(sum.questions));
    std::printf("  vocabulary: %d words\n", sum.vocabulary_size);
    for (const std::string& f : sum.files) std::printf("  %s\n", f.c_str());
    if (preview > 0) write_previews(o, out, preview, preview_scale);
  } catch (const std::exception& e) {
    if (progress_shown) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "make_shapes: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
