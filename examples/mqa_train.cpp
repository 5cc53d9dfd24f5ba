// mqa_train: trains an mQA model (question LSTM, CNN, answer LSTM, fusing layer, TWS softmax) on any
// VQA v1/v2-format pair of question and annotation files and their image folder.
//   mqa_train --questions q.json --annotations a.json --images DIR --out runs/mqa
#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/device.h"
#include "models/engine/trainer.h"
#include "models/mqa/mqa_dir.h"
#include "models/mqa/mqa_task.h"
#include "examples/cli_checks.h"
#include "examples/trainer_options.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Train an mQA model (Gao et al.) that answers questions about images, on VQA-format files.\n"
               "Writes OUT/config.json, OUT/vocab.txt, OUT/answer_words.json, OUT/model.safetensors (best\n"
               "validation VQA accuracy), OUT/checkpoint*.safetensors (for --resume) and OUT/log.jsonl."};
  app.option_defaults()->always_capture_default();
  std::string questions, annotations, images, val_questions, val_annotations, out, tokenizer = "word", device = "cpu";
  MqaConfig c;
  c.cnn_pool = "max";  // better overall and on shape questions (docs/mqa.md); the library keeps flatten
  TrainerOptions t;
  cli::DistributedFlags dist;
  t.epochs = 10;
  t.lr = 2e-3;
  t.warmup = 50;
  MqaTaskOptions to;
  int64_t min_count = 1, max_train = 0, max_words = 30;
  bool no_tws = false, quiet = false;
  app.add_option("--questions", questions, "training questions (VQA format: {\"questions\": [{\"question_id\", "
                 "\"image_id\", \"question\"}]})")->required()->check(CLI::ExistingFile);
  app.add_option("--annotations", annotations, "training annotations (VQA format, with the same question ids)")
      ->required()->check(CLI::ExistingFile);
  std::string features, feature_ids;
  app.add_option("--images", images, "folder of the images: image N is the file whose name ends in the number N")
      ->check(CLI::ExistingDirectory);
  app.add_option("--features", features, "or: precomputed image features, .npy [N, D] (extract_features --questions "
                 "writes one); the model then has no CNN")->check(CLI::ExistingFile);
  app.add_option("--feature-ids", feature_ids, "with --features: the image id of each row, one per line")
      ->check(CLI::ExistingFile);
  app.add_option("--val-questions", val_questions, "validation questions (default: the first --val-count training "
                 "questions, a training-set accuracy)")->check(CLI::ExistingFile);
  app.add_option("--val-annotations", val_annotations, "validation annotations")->check(CLI::ExistingFile);
  app.add_option("--val-count", to.val_questions, "validation questions answered for the accuracy (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--out", out, "output model folder")->required();
  app.add_option("--answers", c.answers, "word: learn multiple_choice_answer | sentence: learn answer_sentence (scored "
                 "by the answer word picked from it, docs/mqa.md)")->check(CLI::IsMember({"word", "sentence"}));
  app.add_flag("--same-lstm", c.same_lstm, "ablation: one LSTM for the question and the answer");
  app.add_flag("--avg-question", c.avg_question, "ablation: the question as the mean of its word vectors (no question LSTM)");
  app.add_flag("--no-tws", no_tws, "ablation: an untied softmax instead of the one shared with the embedding");
  app.add_flag("--blind", c.blind, "baseline: no image (no CNN, no image term in the fusing layer)");
  app.add_option("--tokenizer", tokenizer, "word | char (Chinese/Japanese: one token per character)")
      ->check(CLI::IsMember({"word", "char"}));
  app.add_option("--min-count", min_count, "words seen fewer times become <unk>")->check(cli::positive_int);
  app.add_option("--max-train-questions", max_train, "use only the first N training questions (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--max-words", max_words, "cut questions and answers to this many tokens")->check(cli::positive_int);
  app.add_option("--epochs", t.epochs, "training epochs")->check(cli::positive_int);
  app.add_option("--steps,--max-steps", t.max_steps, "stop after this many steps (0 = the epochs decide)")
      ->check(cli::nonnegative_int);
  app.add_option("--batch", to.batch_size, "questions per batch")->check(cli::positive_int);
  cli::add_optimizer_options(app, t);  // --optimizer --lr --weight-decay --clip --schedule --warmup
  uint64_t seed = 1;
  app.add_option("--seed", seed, "random seed (initialisation, shuffling, dropout)");
  cli::add_checkpoint_options(app, t);  // --val-every --resume --keep-checkpoints --nan-policy --stop-after
  app.add_option("--embed", c.embed, "word embedding size (shared by both LSTMs and the softmax)")->check(cli::positive_int);
  app.add_option("--lstm", c.lstm, "LSTM size")->check(cli::positive_int);
  app.add_option("--fusing", c.fusing, "fusing layer size")->check(cli::positive_int);
  app.add_option("--image-size", c.image_size, "CNN input size (images are resized and centre-cropped)")
      ->check(cli::positive_int);
  app.add_option("--cnn-channels", c.cnn_channels, "channels of each CNN block, e.g. 16,32,64")
      ->expected(1, 8)->delimiter(',')->check(cli::positive_int);
  cli::add_cnn_pool_option(app, c.cnn_pool, "with --cnn-from, the donor's head unless given");
  app.add_option("--image-dim", c.image_dim, "CNN output size")->check(cli::positive_int);
  app.add_option("--dropout", c.dropout, "dropout on the image feature and the fusing layer")
      ->check(cli::probability_below_one);
  std::string cnn_from;
  bool freeze_cnn = false;
  app.add_option("--cnn-from", cnn_from, "start the CNN from the one of this trained model folder (an m-RNN captioner "
                 "from caption_train, or an mQA model) instead of random weights; same CNN sizes needed")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--freeze-cnn", freeze_cnn, "do not train the CNN (with --cnn-from)");
  app.add_flag("--quiet", quiet, "no progress line");
  cli::add_device_option(app, device);
  cli::add_distributed_options(app, dist);
  CLI11_PARSE(app, argc, argv);

  try {
    cli::apply_distributed(dist, t);
    t.device = parse_device(device);  // checked by --device; the trainer moves the model there
    if (images.empty() == features.empty()) throw Error("give exactly one of --images DIR and --features FILE.npy");
    if (features.empty() != feature_ids.empty()) throw Error("--features needs --feature-ids (and the other way round)");
    if (val_questions.empty() != val_annotations.empty())
      throw Error("give both --val-questions and --val-annotations, or neither");
    if (c.same_lstm && c.avg_question) throw Error("--same-lstm and --avg-question exclude each other (an averaged "
                                                   "question has no LSTM to share)");
    TokenizerMode mode = parse_tokenizer_mode(tokenizer);
    if (t.resume) {
      c = load_mqa_config(out, &mode);
    } else {
      c.tws = !no_tws;
      // The donor's pooling head comes with its CNN unless --cnn-pool says otherwise (then
      // load_cnn_from refuses a mismatch).
      if (!cnn_from.empty() && app.count("--cnn-pool") == 0) c.cnn_pool = cnn_pool_of_dir(cnn_from);
    }
    const std::string input = features.empty() ? "cnn" : "features";
    if (t.resume && c.image_input != input)
      throw Error("--resume: " + out + "/config.json was trained on " +
                  (c.image_input == "cnn" ? std::string("images (give --images)")
                                          : std::string("features (give --features)")));
    if (input == "features" && (!cnn_from.empty() || freeze_cnn))
      throw Error(std::string(cnn_from.empty() ? "--freeze-cnn" : "--cnn-from") +
                  ": a model on precomputed --features has no CNN");
    c.image_input = input;
    MqaDataOptions d;
    d.images_dir = images;
    d.features = features;
    d.feature_ids = feature_ids;
    d.image_size = c.image_size;
    d.tokenizer = mode;
    d.answers = c.answers;
    d.max_questions = max_train;
    d.max_words = max_words;
    d.load_images = !c.blind;
    std::fprintf(stderr, "loading %s ...\n", questions.c_str());
    MqaSplit train = load_mqa_split(questions, annotations, d);
    MqaSplit val;
    if (!val_questions.empty()) {
      d.max_questions = to.val_questions;
      val = load_mqa_split(val_questions, val_annotations, d);
    } else {
      std::fprintf(stderr, "no --val-questions: validating on the first %lld training questions\n",
                   static_cast<long long>(to.val_questions));
      val = train;
    }
    if (input == "features") {  // the model's image width is the file's
      MRNN_CHECK(!t.resume || c.image_dim == train.images.size(1),
                 "--resume: {}/config.json has image_dim {} but {} has {} columns", out, c.image_dim, features,
                 train.images.size(1));
      c.image_dim = train.images.size(1);
    }
    Vocab vocab;
    if (t.resume) {
      vocab = Vocab::load(out + "/vocab.txt");
      MRNN_CHECK(vocab.size() == c.vocab, "{}/vocab.txt has {} tokens but {}/config.json says vocab = {}", out,
                 vocab.size(), out, c.vocab);
    } else {
      vocab = build_mqa_vocab(train, min_count);
      c.vocab = vocab.size();
    }
    encode_split(train, vocab);
    encode_split(val, vocab);
    const AnswerWordPicker picker(train.mc_answers);
    Generator gen(seed);
    Mqa model(c, gen);
    if (!cnn_from.empty() && !t.resume)
      std::fprintf(stderr, "CNN: %lld tensors from %s/model.safetensors\n",
                   static_cast<long long>(load_cnn_from(model, cnn_from)), cnn_from.c_str());
    if (freeze_cnn) {
      if (c.blind) throw Error("--freeze-cnn: a blind model has no CNN");
      t.groups.push_back({"cnn", {"cnn."}, 1.0, -1, /*frozen=*/true, {}});
    }
    to.seed = seed;
    MqaTask task(model, vocab, mode, picker, train, val, to);
    if (!t.resume && cli::lead_rank()) write_mqa_dir_meta(out, c, vocab, mode, picker);  // rank 0 writes
    std::fprintf(stderr, "mQA: %lld parameters, vocabulary %d, %lld train / %lld val questions, %zu train images%s\n",
                 static_cast<long long>(model.parameter_count()), vocab.size(), static_cast<long long>(train.size()),
                 static_cast<long long>(val.size()), train.image_paths.size(), c.blind ? " (blind: not read)" : "");
    t.out_dir = out;
    t.progress = !quiet;
    const FitResult r = fit(task, t);
    if (r.skipped_steps)
      std::fprintf(stderr, "--nan-policy skip: %lld steps skipped\n", static_cast<long long>(r.skipped_steps));
    std::printf("trained %lld steps; best val VQA accuracy %.2f; model in %s\n", static_cast<long long>(r.steps),
                r.has_best ? r.best_value : 0.0, out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mqa_train: error: %s\n", e.what());
    return 1;
  }
}
