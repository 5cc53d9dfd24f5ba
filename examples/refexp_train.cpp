// refexp_train: trains a referring-expression speaker (Mao et al.) on any Google-Refexp-format file
// and its images, by ML or with an MMI objective (MMI-SoftMax / MMI-MM, docs/refexp.md).
//   refexp_train --data google_refexp_train.json --images DIR --out runs/refexp --mmi margin
#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/device.h"
#include "examples/cli_checks.h"
#include "examples/refexp_cli.h"
#include "examples/trainer_options.h"
#include "models/engine/trainer.h"
#include "models/refexp/refexp_dir.h"
#include "models/refexp/refexp_task.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Train a referring-expression speaker/listener (Mao et al.) on a Google-Refexp-format file.\n"
               "Writes OUT/config.json, OUT/vocab.txt, OUT/model.safetensors (best validation P@1 with the\n"
               "ground-truth objects as candidates), OUT/checkpoint*.safetensors (for --resume), OUT/log.jsonl."};
  app.option_defaults()->always_capture_default();
  std::string data, val_data, out, tokenizer = "word", device = "cpu";
  cli::RefexpInputs inputs;
  RefexpModelConfig c;
  c.speaker.image_size = 32;
  c.speaker.cnn_channels = {16, 32};
  c.speaker.feature_dim = 64;
  c.speaker.embed = 32;
  c.speaker.lstm = 64;
  c.speaker.fusing = 128;
  TrainerOptions t;
  t.epochs = 10;
  t.lr = 2e-3;
  t.warmup = 50;
  RefexpTaskOptions to;
  int64_t min_count = 1, max_images = 0;
  bool no_tws = false, quiet = false;
  app.add_option("--data", data, "training file (Google Refexp format: images, annotations with bbox [x, y, w, h] "
                 "and refexp_ids, refexps with tokens)")->required()->check(CLI::ExistingFile);
  cli::add_refexp_inputs(app, inputs);
  app.add_option("--val-data", val_data, "validation file of the same format, its images in --images or its regions "
                 "in the same feature files (default: the training file, a training-set P@1)")->check(CLI::ExistingFile);
  app.add_option("--val-count", to.val_count, "validation expressions comprehended for P@1 (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--out", out, "output model folder")->required();
  app.add_option("--mmi", to.mmi, "objective: none (ML) | softmax (ML + lambda MMI-SoftMax over the image's "
                 "objects) | margin (MMI-MM, one sampled negative object)")
      ->check(CLI::IsMember({"none", "softmax", "margin"}));
  app.add_option("--margin", to.margin, "MMI-MM margin M (log-probability units)")->check(cli::nonnegative_real);
  app.add_option("--lambda", to.lambda, "weight of the MMI term")->check(cli::nonnegative_real);
  app.add_option("--tokenizer", tokenizer, "word | char; with --retokenize the expressions' raw text is split so")
      ->check(CLI::IsMember({"word", "char"}));
  bool retokenize = false;
  app.add_flag("--retokenize", retokenize, "tokenize each expression's \"raw\" instead of using its \"tokens\"");
  app.add_option("--min-count", min_count, "words seen fewer times become <unk>")->check(cli::positive_int);
  app.add_option("--max-words", c.max_words, "cut expressions to this many tokens")->check(cli::positive_int);
  app.add_option("--max-images", max_images, "use only the first N images of each file (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--epochs", t.epochs, "training epochs")->check(cli::positive_int);
  app.add_option("--steps,--max-steps", t.max_steps, "stop after this many steps (0 = the epochs decide)")
      ->check(cli::nonnegative_int);
  app.add_option("--batch", to.batch_size, "expressions per batch")->check(cli::positive_int);
  cli::add_optimizer_options(app, t);  // --optimizer --lr --weight-decay --clip --schedule --warmup
  uint64_t seed = 1;
  app.add_option("--seed", seed, "random seed (initialisation, shuffling, negatives, dropout)");
  cli::add_checkpoint_options(app, t);  // --val-every --resume --keep-checkpoints --nan-policy --stop-after
  app.add_option("--embed", c.speaker.embed, "word embedding size")->check(cli::positive_int);
  app.add_option("--lstm", c.speaker.lstm, "LSTM size")->check(cli::positive_int);
  app.add_option("--fusing", c.speaker.fusing, "fusing layer size")->check(cli::positive_int);
  app.add_option("--image-size", c.speaker.image_size, "CNN input size (crops and whole images are resized to it)")
      ->check(CLI::Range(4, 1024));
  app.add_option("--cnn-channels", c.speaker.cnn_channels, "channels of each CNN block, e.g. 16,32")
      ->expected(1, 8)->delimiter(',')->check(cli::positive_int);
  cli::add_cnn_pool_option(app, c.speaker.cnn_pool);
  app.add_option("--feature-dim", c.speaker.feature_dim, "CNN output size (region and image features)")
      ->check(cli::positive_int);
  app.add_option("--dropout", c.speaker.dropout, "dropout on the fusing layer")->check(cli::probability_below_one);
  app.add_flag("--no-tws", no_tws, "an untied softmax instead of the one shared with the embedding");
  app.add_flag("--quiet", quiet, "no progress line");
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);

  try {
    t.device = parse_device(device);  // checked by --device; the trainer moves the model there
    if (t.resume) {
      c = load_refexp_config(out);
      if (c.mmi != to.mmi || c.margin != to.margin || c.lambda != to.lambda)
        throw Error("--resume: " + out + "/config.json was trained with --mmi " + c.mmi + " --margin " +
                    std::to_string(c.margin) + " --lambda " + std::to_string(c.lambda) + "; give the same options");
    } else {
      c.tokenizer = parse_tokenizer_mode(tokenizer);
      c.speaker.tws = !no_tws;
      c.mmi = to.mmi;
      c.margin = to.margin;
      c.lambda = to.lambda;
    }
    if (!t.resume) {
      if (inputs.features()) c.speaker.image_size = 0;  // no CNN: the speaker reads the features as they are
    } else {
      cli::check_refexp_inputs(inputs, c.speaker.image_size, out);
    }
    RefexpDataOptions d = c.data_options(max_images);
    cli::apply_refexp_inputs(inputs, d);
    d.retokenize = retokenize;
    std::fprintf(stderr, "loading %s ...\n", data.c_str());
    RefexpSplit train = load_refexp_split(data, d);
    RefexpSplit val;
    if (!val_data.empty()) {
      val = load_refexp_split(val_data, d);
    } else {
      std::fprintf(stderr, "no --val-data: validating on the training expressions\n");
      val = train;
    }
    if (inputs.features()) {  // the speaker's feature width is the files'
      MRNN_CHECK(!t.resume || c.speaker.feature_dim == train.crops.size(1),
                 "--resume: {}/config.json has feature_dim {} but {} has {} columns", out, c.speaker.feature_dim,
                 inputs.region_features, train.crops.size(1));
      c.speaker.feature_dim = train.crops.size(1);
    }
    Vocab vocab;
    if (t.resume) {
      vocab = Vocab::load(out + "/vocab.txt");
      MRNN_CHECK(vocab.size() == c.speaker.vocab, "{}/vocab.txt has {} tokens but {}/config.json says vocab = {}", out,
                 vocab.size(), out, c.speaker.vocab);
    } else {
      vocab = build_refexp_vocab(train, min_count);
      c.speaker.vocab = vocab.size();
    }
    encode_refexp_split(train, vocab);
    encode_refexp_split(val, vocab);
    Generator gen(seed);
    Speaker model(c.speaker, gen);
    to.seed = seed;
    RefexpTask task(model, train, val, to);
    if (task.skipped_single() > 0)
      std::fprintf(stderr, "--mmi %s: %lld training expressions skipped: their image has a single object (nothing "
                   "to contrast with)\n", to.mmi.c_str(), static_cast<long long>(task.skipped_single()));
    if (!t.resume) write_refexp_dir_meta(out, c, vocab);
    std::fprintf(stderr, "refexp (%s): %lld parameters, vocabulary %d, %lld train expressions on %zu images, %lld val\n",
                 to.mmi.c_str(), static_cast<long long>(model.parameter_count()), vocab.size(),
                 static_cast<long long>(task.epoch_size()), train.images.size(), static_cast<long long>(val.size()));
    t.out_dir = out;
    t.progress = !quiet;
    const FitResult r = fit(task, t);
    if (r.skipped_steps)
      std::fprintf(stderr, "--nan-policy skip: %lld steps skipped\n", static_cast<long long>(r.skipped_steps));
    std::printf("trained %lld steps; best val P@1 (GT candidates) %.2f%%; model in %s\n",
                static_cast<long long>(r.steps), r.has_best ? r.best_value : 0.0, out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refexp_train: error: %s\n", e.what());
    return 1;
  }
}
