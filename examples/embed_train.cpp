// embed_train: trains multimodal word embeddings (Model A, its ablations, B or C; Mao et al., NIPS
// 2016) on any Karpathy-format dataset with its images or precomputed features.
//   embed_train --model A --data runs/shapes/dataset_shapes.json --images runs/shapes/images --out runs/embA
#include <CLI/CLI.hpp>
#include <cstdio>

#include "data/karpathy.h"
#include "examples/cli_checks.h"
#include "examples/trainer_options.h"
#include "models/embed/embed_dir.h"
#include "models/embed/embed_task.h"
#include "models/engine/trainer.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Train multimodal word embeddings (Mao et al., NIPS 2016) on a Karpathy-format dataset.\n"
               "  A: GRU LM, softmax tied to the word table (TWS), image through the multimodal layer\n"
               "     (--no-visual: no image; --no-tws: untied output)\n"
               "  B: text GRU LM + --state-weight * mean ||h_L - ReLU(W_I f_I)||\n"
               "  C: text GRU LM + --emb-weight * mean (1/L) sum_t ||e_t - ReLU(W_I f_I)||\n"
               "Writes OUT/config.json, OUT/vocab.txt, OUT/model.safetensors (best val perplexity),\n"
               "OUT/checkpoint*.safetensors (for --resume) and OUT/log.jsonl. Export with embed_export."};
  std::string data, images, features, out, variant = "A", device = "cpu";
  TrainerOptions t;
  cli::DistributedFlags dist;
  EmbedConfig c;
  EmbedTaskOptions to;
  int64_t min_count = 5, max_train = 0, max_val = 0, max_words = 20;
  bool no_visual = false, no_tws = false, quiet = false, skip_bad = false;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", variant, "A | B | C")->check(CLI::IsMember({"A", "B", "C"}))->capture_default_str();
  app.add_flag("--no-visual", no_visual, "model A without image input (text-only ablation)");
  app.add_flag("--no-tws", no_tws, "untied output layer (no transposed weight sharing)");
  app.add_option("--data", data, "Karpathy-format dataset JSON")->required()->check(CLI::ExistingFile);
  app.add_option("--images", images, "folder holding the images (filepath/filename inside)");
  app.add_option("--features", features, ".npy [images in the JSON, D] image features instead of images");
  app.add_option("--out", out, "output model directory")->required();
  app.add_option("--min-count", min_count, "words seen fewer times become <unk>")->check(cli::positive_int)
      ->capture_default_str();
  app.add_option("--max-train-images", max_train, "use only the first N training images (0 = all)")
      ->check(cli::nonnegative_int)->capture_default_str();
  app.add_option("--max-val-images", max_val, "use only the first N validation images (0 = all)")
      ->check(cli::nonnegative_int)->capture_default_str();
  app.add_option("--max-words", max_words, "truncate captions to this many words")->check(cli::positive_int)
      ->capture_default_str();
  app.add_option("--epochs", t.epochs, "training epochs")->check(cli::positive_int)->capture_default_str();
  app.add_option("--max-steps,--steps", t.max_steps, "stop after this many steps (0 = no limit)")
      ->check(cli::nonnegative_int)->capture_default_str();
  app.add_option("--batch", to.batch_size, "captions per batch")->check(cli::positive_int)->capture_default_str();
  cli::add_optimizer_options(app, t);  // --optimizer --lr --weight-decay --clip --schedule --warmup
  app.add_option("--seed", to.seed, "random seed (initialisation, shuffling, dropout)")->capture_default_str();
  app.add_option("--val-every", t.val_every, "steps between validations (0 = each epoch)")->check(cli::nonnegative_int)
      ->capture_default_str();
  app.add_flag("--resume", t.resume, "continue exactly from the newest checkpoint in OUT that loads and verifies");
  app.add_option("--keep-checkpoints", t.keep_checkpoints, "keep OUT/checkpoint-<step>.safetensors of the last K")
      ->check(cli::positive_int)->capture_default_str();
  app.add_option("--nan-policy", t.nan_policy, "a step whose loss or gradient is NaN/Inf: stop | skip")
      ->check(CLI::IsMember({"stop", "skip"}))->capture_default_str();
  app.add_option("--stop-after", t.stop_after_steps, "testing aid: exit after N steps of this run (checkpoint written)")
      ->check(cli::nonnegative_int)->capture_default_str();
  app.add_option("--bucket", to.bucket, "length bucketing window in batches (0 = off)")->check(cli::nonnegative_int)
      ->capture_default_str();
  app.add_option("--embed", c.embed, "word-embedding size (the exported vectors' width)")->check(cli::positive_int)
      ->capture_default_str();
  app.add_option("--rnn-size", c.rnn, "GRU state size")->check(cli::positive_int)->capture_default_str();
  app.add_option("--multimodal", c.multimodal, "multimodal layer size")->check(cli::positive_int)->capture_default_str();
  app.add_option("--image-size", c.image_size, "CNN input size (images are resized and centre-cropped)")
      ->check(cli::positive_int)->capture_default_str();
  app.add_option("--cnn-channels", c.cnn_channels, "channels of each CNN block, at most 8 blocks")
      ->expected(1, 8)->delimiter(',')->check(cli::positive_int)->capture_default_str();
  cli::add_cnn_pool_option(app, c.cnn_pool)->capture_default_str();
  app.add_option("--image-dim", c.image_dim, "CNN output size (ignored with --features)")->check(cli::positive_int)
      ->capture_default_str();
  app.add_option("--dropout", c.dropout, "dropout on image features and the multimodal layer")
      ->check(cli::probability_below_one)->capture_default_str();
  app.add_option("--state-weight", c.state_weight, "model B: weight of L_state")->check(cli::nonnegative_real)
      ->capture_default_str();
  app.add_option("--emb-weight", c.emb_weight, "model C: weight of L_emb")->check(cli::nonnegative_real)
      ->capture_default_str();
  app.add_flag("--skip-bad", skip_bad, "skip unreadable images and bad captions (counted) instead of failing");
  app.add_flag("--quiet", quiet, "no progress line");
  cli::add_device_option(app, device)->capture_default_str();
  cli::add_distributed_options(app, dist);
  CLI11_PARSE(app, argc, argv);

  try {
    cli::apply_distributed(dist, t);
    t.device = parse_device(device);  // checked by --device; the trainer moves the model there
    if (images.empty() == features.empty()) throw Error("give exactly one of --images DIR or --features FILE.npy");
    if (no_visual && variant != "A")
      throw Error("--no-visual is model A's text-only ablation; models B and C always read the images");
    t.out_dir = out;
    t.progress = !quiet;
    KarpathyOptions ko;
    ko.restval_into_train = true;
    ko.skip_bad = skip_bad;
    KarpathyDataset ds = load_karpathy(data, ko);
    if (ds.skipped) std::fprintf(stderr, "skipped %lld bad entries in %s\n", static_cast<long long>(ds.skipped), data.c_str());

    Vocab vocab;
    if (t.resume) {
      c = load_embed_config(out);
      vocab = Vocab::load(out + "/vocab.txt");
      MRNN_CHECK(vocab.size() == c.vocab, "{}/vocab.txt has {} tokens but {}/config.json says vocab = {}", out,
                 vocab.size(), out, c.vocab);
    } else {
      std::vector<std::vector<std::string>> sents;
      for (const KImage& im : ds.images)
        if (im.split == Split::train)
          for (const Sentence& s : im.sentences) sents.push_back(s.tokens);
      if (sents.empty()) throw Error(data + ": the train split has no captions");
      vocab = Vocab::build(sents, min_count);
      if (vocab.size() <= Vocab::kNumSpecials)
        throw Error(data + ": empty vocabulary: no word of the train captions occurs --min-count " +
                    std::to_string(min_count) + " times or more (lower --min-count)");
    }
    CaptionDataOptions dopt;
    dopt.images_dir = images;
    dopt.features = features;
    dopt.image_size = c.image_size;
    dopt.max_caption_words = max_words;
    dopt.skip_bad = skip_bad;
    dopt.max_images = max_train;
    std::fprintf(stderr, "loading the train split of %s ...\n", data.c_str());
    CaptionSplit train = load_caption_split(ds, Split::train, vocab, dopt, data);
    dopt.max_images = max_val;
    CaptionSplit val = load_caption_split(ds, Split::val, vocab, dopt, data);
    if (t.resume) {
      const bool wants_features = c.image_input == "features";
      MRNN_CHECK(wants_features == !features.empty(), "{}/config.json says image_input = \"{}\": give {}", out,
                 c.image_input, wants_features ? "--features FILE.npy" : "--images DIR");
      if (wants_features)
        MRNN_CHECK(train.images.size(1) == c.image_dim, "{}: features have {} columns but {}/config.json says image_dim = {}",
                   features, train.images.size(1), out, c.image_dim);
    } else {
      c.variant = variant;
      c.visual = !no_visual;
      c.tws = !no_tws;
      c.vocab = vocab.size();
      c.image_input = features.empty() ? "cnn" : "features";
      if (!features.empty()) c.image_dim = train.images.size(1);
    }
    Generator gen(to.seed);
    EmbedModel model(c, gen);  // checks the sizes before anything is written to OUT
    if (!t.resume && cli::lead_rank()) write_embed_dir_meta(out, c, vocab);  // rank 0 writes
    std::fprintf(stderr, "embedding model %s: %lld parameters, vocabulary %d, %zu train / %zu val captions\n",
                 c.name().c_str(), static_cast<long long>(model.parameter_count()), vocab.size(),
                 train.captions.size(), val.captions.size());
    EmbedTask task(model, train, val, to);
    FitResult r = fit(task, t);
    if (r.skipped_steps)
      std::fprintf(stderr, "--nan-policy skip: %lld steps had a non-finite loss or gradient and were skipped\n",
                   static_cast<long long>(r.skipped_steps));
    std::printf("trained %s for %lld steps; best val perplexity %.4f; model in %s\n", c.name().c_str(),
                static_cast<long long>(r.steps), r.best_value, out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_train: error: %s\n", e.what());
    return 1;
  }
}
