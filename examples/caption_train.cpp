// caption_train: trains an m-RNN captioner on any Karpathy-format dataset (images or features).
//   caption_train --data runs/shapes/dataset_shapes.json --images runs/shapes/images --out runs/model
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "data/karpathy.h"
#include "models/engine/checkpoint.h"
#include "models/mrnn/caption_trainer.h"
#include "models/mrnn/model_dir.h"
#include "models/mrnn/scene_checks.h"
#include "examples/cli_checks.h"
#include "examples/trainer_options.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Train an m-RNN image captioner (Mao et al.) on a Karpathy-format dataset.\n"
               "Writes OUT/config.json, OUT/vocab.txt, OUT/model.safetensors (best val CIDEr-D),\n"
               "OUT/checkpoint.safetensors (latest, for --resume), OUT/checkpoint-<step>.safetensors (the last\n"
               "--keep-checkpoints) and OUT/log.jsonl."};
  std::string data, images, features, out, tokenizer = "word", scenes_opt;
  TrainOptions t;
  cli::DistributedFlags dist;
  std::string device = "cpu";
  MrnnConfig c;
  c.cnn_pool = "max";  // measured better on every caption metric (docs/tasks.md); the library keeps flatten
  int64_t min_count = 5, max_train = 0, max_val = 0, max_words = 20;
  bool retokenize = false, no_tws = false, quiet = false, skip_bad = false, stream_images = false;
  double preload_limit_gb = 2;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--data", data, "Karpathy-format dataset JSON (dataset_coco.json, dataset_flickr8k.json, ...)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--scenes", scenes_opt, "scene file to check validation captions against (data/scene_file.h; "
                 "logged as scene_correct); default: X_scenes.json beside the dataset X.json, when it exists")
      ->check(CLI::ExistingFile);
  app.add_option("--images", images, "folder holding the images (filepath/filename inside)");
  app.add_option("--features", features, ".npy [images in the JSON, D] image features instead of images");
  app.add_option("--out", out, "output model directory")->required();
  app.add_option("--tokenizer", tokenizer, "word | char (Chinese/Japanese; char always re-tokenizes the raw captions, one token per character)")
      ->check(CLI::IsMember({"word", "char"}));
  app.add_flag("--retokenize", retokenize, "tokenize the raw captions instead of using the JSON's tokens");
  app.add_option("--min-count", min_count, "words seen fewer times become <unk> (as the m-RNN anchors do); a tiny dataset may then map most of its words to <unk>: pass --min-count 1 to keep every word")->check(cli::positive_int);
  app.add_option("--max-train-images", max_train, "use only the first N training images (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--max-val-images", max_val, "use only the first N validation images (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--max-words", max_words, "truncate captions to this many words")->check(cli::positive_int);
  app.add_option("--epochs", t.epochs, "training epochs")->check(cli::positive_int);
  app.add_option("--max-steps", t.max_steps, "stop after this many steps (0 = no limit)")->check(cli::nonnegative_int);
  app.add_option("--batch", t.batch_size, "captions per batch")->check(cli::positive_int);
  cli::add_optimizer_options(app, t);  // --optimizer --lr --weight-decay --clip --schedule --warmup
  app.add_option("--seed", t.seed, "random seed (initialisation, shuffling, dropout)");
  app.add_option("--val-every", t.val_every, "steps between validations (0 = each epoch)")->check(cli::nonnegative_int);
  app.add_option("--val-images", t.val_images, "validation images captioned for BLEU/CIDEr (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_flag("--resume", t.resume,
               "continue exactly from the newest checkpoint in OUT that loads and verifies (an older one, "
               "with a warning, when the newest is corrupt)");
  app.add_option("--keep-checkpoints", t.keep_checkpoints,
                 "keep OUT/checkpoint-<step>.safetensors of the last K checkpoints (besides "
                 "OUT/checkpoint.safetensors)")
      ->check(cli::positive_int);
  app.add_option("--nan-policy", t.nan_policy,
                 "a step whose loss or gradient is NaN/Inf: stop (exit 1 naming the step, the loss or parameter "
                 "and the last checkpoint) | skip (no update for that step; counted in log.jsonl)")
      ->check(CLI::IsMember({"stop", "skip"}));
  app.add_option("--stop-after", t.stop_after_steps, "testing aid: exit after N steps of this run (checkpoint written)")
      ->check(cli::nonnegative_int);
  app.add_option("--rnn", c.rnn_type, "relu (the m-RNN) | lstm | gru")->check(CLI::IsMember({"relu", "lstm", "gru"}));
  app.add_flag("--no-tws", no_tws, "untied output layer (no transposed weight sharing)");
  app.add_option("--embed1", c.embed1, "first word-embedding size")->check(cli::positive_int);
  app.add_option("--embed2", c.embed2, "second word-embedding size")->check(cli::positive_int);
  app.add_option("--rnn-size", c.rnn, "recurrent layer size")->check(cli::positive_int);
  app.add_option("--multimodal", c.multimodal, "multimodal layer size")->check(cli::positive_int);
  app.add_option("--image-size", c.image_size, "CNN input size (images are resized and centre-cropped)")
      ->check(cli::positive_int);
  app.add_option("--cnn-channels", c.cnn_channels, "channels of each CNN block (3x3 conv, ReLU, 2x2 pool); one "
                 "number per block, at most 8 blocks")
      ->expected(1, 8)->delimiter(',')->check(cli::positive_int);
  cli::add_cnn_pool_option(app, c.cnn_pool);
  app.add_option("--image-dim", c.image_dim, "CNN output size (ignored with --features)")->check(cli::positive_int);
  app.add_option("--dropout", c.dropout, "dropout on image features and the multimodal layer")
      ->check(cli::probability_below_one);
  app.add_flag("--skip-bad", skip_bad, "skip unreadable images and bad captions (counted) instead of failing");
  app.add_flag("--quiet", quiet, "no progress line");
  app.add_flag("--stream-images", stream_images,
               "do not preload the train images: decode them batch by batch on --loader-threads threads");
  app.add_option("--preload-limit-gb", preload_limit_gb,
                 "stream the train images automatically when preloading them would take more than this many GB "
                 "of floats (0 = no limit)")->check(cli::nonnegative_real);
  app.add_option("--loader-threads", t.loader_threads, "image decoding threads when streaming (0 = hardware threads)")
      ->check(cli::nonnegative_int);
  app.add_option("--prefetch", t.prefetch_batches, "batches decoded ahead when streaming")->check(cli::positive_int);
  app.add_option("--bucket", t.bucket,
                 "length bucketing: sort captions by length within windows of K batches, then shuffle the batches "
                 "(0 = off)")->check(cli::nonnegative_int);
  app.add_flag("--group-by-image", t.group_by_image,
               "each batch holds all captions of its images (about --batch / captions-per-image images), so one CNN "
               "pass serves them all, as NeuralTalk2's seq_per_img; not with --bucket");
  cli::add_device_option(app, device);
  cli::add_distributed_options(app, dist);
  CLI11_PARSE(app, argc, argv);

  try {
    cli::apply_distributed(dist, t);
    t.device = parse_device(device);  // checked by --device already; the trainer moves the model there
    if (images.empty() == features.empty()) throw Error("give exactly one of --images DIR or --features FILE.npy");
    t.out_dir = out;
    t.progress = !quiet;
    KarpathyOptions ko;
    ko.restval_into_train = true;
    ko.mode = parse_tokenizer_mode(tokenizer);
    // The JSON's "tokens" are words; a character-level model reads the raw text. The other programs
    // do the same for a char model (models/mrnn/model_split.h), so references and vocabulary agree.
    ko.retokenize = retokenize || ko.mode == TokenizerMode::character;
    ko.skip_bad = skip_bad;
    KarpathyDataset ds = load_karpathy(data, ko);
    if (ds.skipped) std::fprintf(stderr, "skipped %lld bad entries in %s\n", static_cast<long long>(ds.skipped), data.c_str());

    Vocab vocab;
    if (t.resume) {
      // The saved config first: it names OUT/config.json when OUT is not a model folder, and its
      // sizes (image_size included) are the ones the checkpoint was trained with.
      c = load_model_config(out);
      vocab = Vocab::load(out + "/vocab.txt");
    } else {
      std::vector<std::vector<std::string>> sents;
      for (const KImage& im : ds.images)
        if (im.split == Split::train)
          for (const Sentence& s : im.sentences) sents.push_back(s.tokens);
      if (sents.empty()) throw Error(data + ": the train split has no captions");
      vocab = Vocab::build(sents, min_count);
    }
    CaptionDataOptions dopt;
    dopt.images_dir = images;
    dopt.features = features;
    dopt.image_size = c.image_size;
    dopt.max_caption_words = max_words;
    dopt.skip_bad = skip_bad;
    dopt.max_images = max_train;
    dopt.stream_images = stream_images;
    dopt.preload_limit_bytes = static_cast<int64_t>(preload_limit_gb * 1e9);
    std::fprintf(stderr, "loading the train split of %s ...\n", data.c_str());
    CaptionSplit train = load_caption_split(ds, Split::train, vocab, dopt, data);
    if (train.streamed)
      std::fprintf(stderr, "streaming %lld train images from disk (%s)\n", static_cast<long long>(train.num_images()),
                   stream_images ? "--stream-images" : "preloading would exceed --preload-limit-gb");
    t.skip_bad_images = skip_bad;
    dopt.max_images = max_val;
    dopt.stream_images = false;  // validation reads its images in memory
    dopt.preload_limit_bytes = 0;
    CaptionSplit val = load_caption_split(ds, Split::val, vocab, dopt, data);

    if (t.resume) {
      MRNN_CHECK(vocab.size() == c.vocab, "{}/vocab.txt has {} tokens but {}/config.json says vocab = {}", out,
                 vocab.size(), out, c.vocab);
      check_model_inputs(c, out, features, features.empty() ? 0 : train.images.size(1));
    } else {
      c.vocab = vocab.size();
      c.tws = !no_tws;
      c.image_input = features.empty() ? "cnn" : "features";
      if (!features.empty()) c.image_dim = train.images.size(1);
    }
    Generator gen(t.seed);
    Mrnn model(c, gen);  // checks the sizes before anything is written to OUT
    if (!t.resume && cli::lead_rank()) write_model_dir_meta(out, c, vocab, ko.mode);  // rank 0 writes
    std::fprintf(stderr, "m-RNN: %lld parameters, vocabulary %d, %zu train / %zu val captions\n",
                 static_cast<long long>(model.parameter_count()), vocab.size(), train.captions.size(),
                 val.captions.size());
    const std::string scenes_path = scene_file_for(data, scenes_opt);
    SceneFile scenes;
    if (!scenes_path.empty()) {
      scenes = load_scene_file(scenes_path);
      t.scenes = &scenes;
      t.scenes_name = scenes_path;
      std::fprintf(stderr, "validation checks captions against the scenes of %s\n", scenes_path.c_str());
    }
    TrainResult r = train_captioner(model, vocab, train, val, t);
    if (train.streamed)
      std::fprintf(stderr, "image loader: training waited %.2f s for decoding; %lld unreadable images skipped\n",
                   r.loader_wait_s, static_cast<long long>(r.skipped_images));
    if (r.skipped_steps)
      std::fprintf(stderr, "--nan-policy skip: %lld steps of this run had a non-finite loss or gradient and were "
                   "skipped (\"nonfinite\" events in %s/log.jsonl)\n", static_cast<long long>(r.skipped_steps),
                   out.c_str());
    std::printf("trained %lld steps; best val CIDEr-D %.4f; model in %s\n", static_cast<long long>(r.steps),
                r.best_cider, out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "caption_train: error: %s\n", e.what());
    return 1;
  }
}
