// nvcs_train: teaches a trained m-RNN new words from a few images (NVCS, Mao et al. ICCV 2015):
// the novel concepts' words become new rows of the word embedding (and of the output layer when
// untied) and only those rows train; every old parameter keeps its bits.
//   nvcs_train --model runs/base --data shapes/dataset_shapes_nvc.json --images shapes/images \
//              --base-data shapes/dataset_shapes.json --out runs/nvcs --examples 10
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "data/karpathy.h"
#include "models/engine/checkpoint.h"
#include "models/mrnn/caption_trainer.h"
#include "models/mrnn/model_dir.h"
#include "models/mrnn/model_split.h"
#include "models/nvcs/nvcs.h"
#include "examples/cli_checks.h"
#include "examples/trainer_options.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Teach a trained m-RNN the novel concepts of an NVC-format file from a few images (NVCS).\n"
               "Writes a normal model folder (config.json, vocab.txt, model.safetensors: the weights after the\n"
               "last step) that caption_generate, caption_eval and retrieve load unchanged, plus OUT/nvcs.json\n"
               "(the new words, their bias, nearest old words, timing) and OUT/log.jsonl."};
  std::string base, data, images, features, base_data, base_images, base_features, out, device = "cpu";
  bool no_tws_base = false, no_fixed_bias = false, no_centralize = false, quiet = false;
  int64_t examples = 0, center_images = 500, neighbours = 5, base_mix = -1;
  TrainOptions t;
  cli::DistributedFlags dist;
  t.epochs = 20;
  t.batch_size = 50;
  t.lr = 0.01;
  t.warmup = 0;
  t.schedule = "constant";
  t.val_images = 20;
  t.keep_checkpoints = 1;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", base, "the base model folder (caption_train's output)")->required()->check(CLI::ExistingDirectory);
  app.add_option("--data", data, "novel concepts: NVC-format JSON (NVC_v201509_*.json or ShapesWorld's dataset_shapes_nvc.json)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--images", images, "folder of the novel images (NVC: <concept>/<image_name>.jpg; ShapesWorld: filename)");
  app.add_option("--features", features, ".npy [images in --data, D] features instead of images (file order)");
  app.add_option("--base-data", base_data, "the base model's Karpathy-format dataset: its train split gives the centring mean (needed unless --no-centralize)");
  app.add_option("--base-images", base_images, "images of --base-data (default: --images)");
  app.add_option("--base-features", base_features, ".npy features of --base-data");
  app.add_option("--center-images", center_images, "base train images (the first; at least --base-mix of them) whose captions give the centring mean (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--base-mix", base_mix, "base train images (the first of --base-data) whose captions join the novel "
                 "ones in training, so the new words also learn where they do not belong (-1: as many as the novel "
                 "training images; 0: novel captions only)")->check(cli::int_at_least(-1, "INT >= -1"));
  app.add_option("--out", out, "output model folder")->required();
  app.add_flag("--no-tws-base", no_tws_base, "the base model is untied (no TWS): new rows in the embedding and the output matrix");
  app.add_flag("--no-fixed-bias", no_fixed_bias, "train the new words' bias (BPF fixes it at the mean of the old words' biases)");
  app.add_flag("--no-centralize", no_centralize, "do not centre the output layer's input for the new words (BPF does)");
  app.add_option("--examples", examples, "training images per concept, the first in file order (0 = all)")
      ->check(cli::nonnegative_int);
  app.add_option("--epochs", t.epochs, "passes over the novel training captions")->check(cli::positive_int);
  app.add_option("--max-steps", t.max_steps, "stop after this many steps (0 = epochs decide)")->check(cli::nonnegative_int);
  app.add_option("--batch", t.batch_size, "captions per batch")->check(cli::positive_int);
  app.add_option("--lr", t.lr, "learning rate (Adam) of the new rows")->check(cli::positive_real);
  app.add_option("--schedule", t.schedule, "constant | cosine | step")->check(CLI::IsMember({"constant", "cosine", "step"}));
  app.add_option("--warmup", t.warmup, "linear warm-up steps")->check(cli::nonnegative_int);
  app.add_option("--seed", t.seed, "random seed (new rows, shuffling, dropout)");
  app.add_option("--val-images", t.val_images, "novel training images captioned by the final validation (logged)")
      ->check(cli::positive_int);
  app.add_option("--neighbours", neighbours, "nearest old words listed per new word")->check(cli::nonnegative_int);
  app.add_flag("--quiet", quiet, "no progress line");
  cli::add_device_option(app, device);
  cli::add_distributed_options(app, dist);
  CLI11_PARSE(app, argc, argv);

  try {
    cli::apply_distributed(dist, t);
    if (images.empty() == features.empty()) throw Error("give exactly one of --images DIR or --features FILE.npy");
    if ((!no_centralize || base_mix != 0) && base_data.empty())
      throw Error("centralizing and --base-mix need the base training data: give --base-data KARPATHY.json (or "
                  "--no-centralize --base-mix 0)");
    if (base_images.empty() && base_features.empty()) base_images = images;
    ModelDir md = load_model_dir(base);
    Mrnn& model = *md.model;
    NovelDataOptions no;
    no.examples = examples;
    no.mode = md.tokenizer;
    no.retokenize = md.tokenizer == TokenizerMode::character;
    const NovelData nd = load_novel_data(data, no);
    Generator gen(t.seed);
    const NovelWords nw = add_novel_words(model, md.vocab, nd, !no_tws_base, gen, base);
    for (size_t c = 0; c < nd.concepts.size(); ++c) {  // a word never seen in training cannot be learned
      int64_t said = 0;
      for (size_t i = 0; i < nd.images.images.size(); ++i)
        if (nd.concept_of[i] == static_cast<int>(c) && nd.images.images[i].split == Split::train)
          for (const Sentence& s : nd.images.images[i].sentences)
            for (const std::string& tok : s.tokens)
              for (const std::string& w : nd.concepts[c].words) said += tok == w;
      if (!said)
        std::fprintf(stderr, "warning: %s: no training sentence of concept \"%s\" contains its word\n", data.c_str(),
                     nd.concepts[c].name.c_str());
    }
    const SplitSource novel_src{data, images, features};
    CaptionSplit train = load_split_for_model(md, base, nd.images, Split::train, novel_src, 0);
    const int64_t novel_images = train.num_images();
    if (base_mix < 0) base_mix = novel_images;
    if (!no_centralize || base_mix > 0) {
      KarpathyDataset bd = load_karpathy(base_data, dataset_options_for(md));
      const SplitSource base_src{base_data, base_images, base_features};
      const int64_t want = center_images == 0 ? 0 : std::max(center_images, base_mix);
      const CaptionSplit bs = load_split_for_model(md, base, bd, Split::train, base_src, want);
      if (!no_centralize) {
        model.centralize(output_input_mean(model, bs, 0), nw.old_vocab);
        std::fprintf(stderr, "centring mean from %zu captions of %lld base train images\n", bs.captions.size(),
                     static_cast<long long>(bs.num_images()));
      }
      if (base_mix > 0) train = join_splits(train, bs, base_mix);
    }
    t.out_dir = out;
    t.progress = !quiet;
    t.groups = novel_param_groups(model, nw.old_vocab, !no_fixed_bias);
    t.val_every = int64_t{1} << 40;  // validate once, after the last step: model.safetensors = the last weights
    if (cli::lead_rank()) write_model_dir_meta(out, model.config(), md.vocab, md.tokenizer);  // rank 0 writes
    std::fprintf(stderr, "NVCS: %zu new words after %lld base words; %lld novel + %lld base training images, %zu "
                 "captions\n", nw.words.size(), static_cast<long long>(nw.old_vocab),
                 static_cast<long long>(novel_images), static_cast<long long>(train.num_images() - novel_images),
                 train.captions.size());
    const auto t0 = std::chrono::steady_clock::now();
    encode_split_images_once(model, train);  // the CNN is frozen: once here, not at every step (timed)
    model.train();
    t.device = parse_device(device);  // checked by --device; the new words' setup above ran on the CPU
    const TrainResult r = train_captioner(model, md.vocab, train, train, t);
    model.to(Device::cpu());  // the report below (nearest words) reads the weights on the host
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    model.eval();
    if (!cli::lead_rank()) return 0;  // rank 0 writes nvcs.json and reports

    nlohmann::ordered_json j;
    j["base_model"] = base;
    j["data"] = data;
    j["tws"] = model.config().tws;
    j["fixed_bias"] = !no_fixed_bias;
    j["centralize"] = !no_centralize;
    j["examples"] = examples;
    j["old_vocab"] = nw.old_vocab;
    j["new_bias"] = nw.new_bias;
    j["train_images"] = novel_images;
    j["base_mix_images"] = train.num_images() - novel_images;
    j["train_captions"] = train.captions.size();
    j["steps"] = r.steps;
    j["train_seconds"] = seconds;
    j["last_train_loss"] = r.last_train_loss;
    nlohmann::ordered_json words = nlohmann::ordered_json::array();
    for (size_t k = 0; k < nw.words.size(); ++k) {
      const int32_t id = md.vocab.id(nw.words[k]);
      nlohmann::ordered_json nn = nlohmann::ordered_json::array();
      std::string line;
      for (const Neighbour& n : nearest_words(model, md.vocab, id, nw.old_vocab, neighbours)) {
        nn.push_back({{"word", n.word}, {"cosine", n.cosine}});
        line += (line.empty() ? "" : ", ") + n.word;
      }
      words.push_back({{"word", nw.words[k]}, {"id", id}, {"concept", nd.concepts[nw.concept_of[k]].name},
                       {"neighbours", nn}});
      std::printf("%s -> %s\n", nw.words[k].c_str(), line.c_str());
    }
    j["words"] = words;
    {
      std::ofstream f(out + "/nvcs.json");
      if (!f.good()) throw Error(out + "/nvcs.json: cannot write");
      f << j.dump(2) << "\n";
    }
    std::printf("learned %zu words in %lld steps (%.2f s); model in %s\n", nw.words.size(),
                static_cast<long long>(r.steps), seconds, out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nvcs_train: error: %s\n", e.what());
    return 1;
  }
}
