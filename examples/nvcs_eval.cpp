// nvcs_eval: scores a model on novel concepts the way DCC / NBT do (novel-word F1 per concept and
// mean), plus BLEU / CIDEr-D on the novel test images and on the base test split (optionally also
// for the base model before NVCS, to show what was forgotten). Works for any model folder: an
// NVCS model, the base model, or one retrained from scratch on base + novel data.
//   nvcs_eval --model runs/nvcs --data shapes/dataset_shapes_nvc.json --images shapes/images \
//             --base-data shapes/dataset_shapes.json --before runs/base --out runs/nvcs/eval.json
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "data/karpathy.h"
#include "eval/novel_f1.h"
#include "models/mrnn/caption_trainer.h"
#include "models/mrnn/model_dir.h"
#include "models/mrnn/model_split.h"
#include "models/nvcs/nvcs.h"
#include "examples/cli_checks.h"

using namespace mrnn;
using nlohmann::ordered_json;

namespace {

ordered_json caption_metrics(const CaptionEvalSummary& s, int64_t images) {
  return {{"images", images},  {"bleu1", s.bleu[0]}, {"bleu2", s.bleu[1]},  {"bleu3", s.bleu[2]},
          {"bleu4", s.bleu[3]}, {"cider_d", s.cider_d}, {"rouge_l", s.rouge_l}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Score a model on novel concepts: novel-word F1 (DCC/NBT protocol: tp = novel test images whose\n"
               "caption mentions the word, fp = other test images (base test and the other concepts) whose\n"
               "caption does, fn = novel test images whose caption does not), BLEU/CIDEr-D on the novel test\n"
               "images and on the base test split. Greedy captions unless --beam. Writes JSON (--out)."};
  std::string model_dir, data, images, features, base_data, base_images, base_features, before, out, device = "cpu";
  std::string base_split = "test";
  int64_t beam = 1, max_base = 0;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", model_dir, "the model folder to score")->required()->check(CLI::ExistingDirectory);
  app.add_option("--data", data, "novel concepts: NVC-format JSON (its test split is scored)")->required()->check(CLI::ExistingFile);
  app.add_option("--images", images, "folder of the novel images");
  app.add_option("--features", features, ".npy features of --data (file order)");
  app.add_option("--base-data", base_data, "the base Karpathy-format dataset (negatives of the F1, base metrics)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--base-images", base_images, "images of --base-data (default: --images)");
  app.add_option("--base-features", base_features, ".npy features of --base-data");
  app.add_option("--base-split", base_split, "split of --base-data that is scored")->check(CLI::IsMember({"train", "val", "test"}));
  app.add_option("--max-base-images", max_base, "score only the first N base images (0 = all)")->check(cli::nonnegative_int);
  app.add_option("--before", before, "also score this model (the base model before NVCS) on the base split")
      ->check(CLI::ExistingDirectory);
  app.add_option("--beam", beam, "beam size (1 = greedy)")->check(cli::positive_int);
  app.add_option("--out", out, "write the metrics to this JSON file")->check(cli::output_file);
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);

  try {
    const Device dev = parse_device(device);  // checked by --device; decoding runs there, the metrics on the host
    if (images.empty() == features.empty()) throw Error("give exactly one of --images DIR or --features FILE.npy");
    if (base_images.empty() && base_features.empty()) base_images = images;
    NoGradGuard ng;
    ModelDir md = load_model_dir(model_dir);
    md.model->to(dev);
    NovelDataOptions no;
    no.mode = md.tokenizer;
    no.retokenize = md.tokenizer == TokenizerMode::character;
    const NovelData nd = load_novel_data(data, no);
    const CaptionSplit novel = load_split_for_model(md, model_dir, nd.images, Split::test, {data, images, features}, 0);
    const CaptionEvalSummary ns = evaluate_split(*md.model, md.vocab, novel, 0, beam);
    const KarpathyDataset bd = load_karpathy(base_data, dataset_options_for(md));
    const Split bsplit = parse_split(base_split);
    const SplitSource base_src{base_data, base_images, base_features};
    const CaptionSplit bsp = load_split_for_model(md, model_dir, bd, bsplit, base_src, max_base);
    const CaptionEvalSummary bs = evaluate_split(*md.model, md.vocab, bsp, 0, beam);

    ordered_json j;
    j["model"] = model_dir;
    j["data"] = data;
    j["beam"] = beam;
    ordered_json per = ordered_json::object();
    double mean_f1 = 0;
    for (size_t c = 0; c < nd.concepts.size(); ++c) {
      std::vector<std::string> pos, neg = bs.captions;
      for (int64_t i = 0; i < novel.num_images(); ++i)
        (nd.concept_of_id(novel.image_ids[i]) == static_cast<int>(c) ? pos : neg).push_back(ns.captions[i]);
      const eval::NovelF1 f = eval::novel_word_f1(nd.concepts[c].words, pos, neg);
      bool known = false;
      for (const std::string& w : nd.concepts[c].words) known |= md.vocab.contains(w);
      per[nd.concepts[c].name] = {{"f1", f.f1},   {"precision", f.precision}, {"recall", f.recall},
                                  {"tp", f.tp},   {"fp", f.fp},               {"fn", f.fn},
                                  {"words", nd.concepts[c].words}, {"in_vocabulary", known}};
      mean_f1 += f.f1;
      std::printf("%-12s F1 %.3f (P %.3f R %.3f; tp %lld fp %lld fn %lld)%s\n", nd.concepts[c].name.c_str(), f.f1,
                  f.precision, f.recall, static_cast<long long>(f.tp), static_cast<long long>(f.fp),
                  static_cast<long long>(f.fn), known ? "" : "  [not in the model's vocabulary]");
    }
    mean_f1 /= static_cast<double>(nd.concepts.size());
    j["novel_f1"] = {{"mean", mean_f1}, {"per_concept", per}};
    j["novel"] = caption_metrics(ns, novel.num_images());
    j["base"] = caption_metrics(bs, bsp.num_images());
    j["base"]["split"] = base_split;
    std::printf("mean novel F1 %.3f; novel CIDEr-D %.3f; base %s CIDEr-D %.3f\n", mean_f1, ns.cider_d,
                base_split.c_str(), bs.cider_d);
    if (!before.empty()) {
      ModelDir bm = load_model_dir(before);
      const CaptionSplit bb = load_split_for_model(bm, before, load_karpathy(base_data, dataset_options_for(bm)), bsplit,
                                                   base_src, max_base);
      bm.model->to(dev);
      const CaptionEvalSummary b0 = evaluate_split(*bm.model, bm.vocab, bb, 0, beam);
      j["base_before"] = caption_metrics(b0, bb.num_images());
      j["base_cider_d_change"] = bs.cider_d - b0.cider_d;
      std::printf("base %s CIDEr-D before %.3f, change %+.4f\n", base_split.c_str(), b0.cider_d, bs.cider_d - b0.cider_d);
    }
    md.model->to(Device::cpu());  // the nearest words below read the weights on the host
    // The new words' nearest old words, for an NVCS model (its nvcs.json says where the old words end).
    std::ifstream nf(model_dir + "/nvcs.json");
    if (nf.good()) {
      const nlohmann::json info = nlohmann::json::parse(nf, nullptr, /*allow_exceptions=*/false);
      if (info.is_object() && info.contains("old_vocab") && info["old_vocab"].is_number_integer()) {
        const int64_t old_vocab = info["old_vocab"].get<int64_t>();
        ordered_json nn = ordered_json::object();
        if (old_vocab > kEosId + 1 && old_vocab <= md.vocab.size())
          for (int32_t w = static_cast<int32_t>(old_vocab); w < md.vocab.size(); ++w) {
            ordered_json list = ordered_json::array();
            for (const Neighbour& n : nearest_words(*md.model, md.vocab, w, old_vocab, 5))
              list.push_back({{"word", n.word}, {"cosine", n.cosine}});
            nn[md.vocab.token(w)] = list;
          }
        j["neighbours"] = nn;
      }
    }
    if (!out.empty()) {
      std::ofstream f(out);
      if (!f.good()) throw Error(out + ": cannot write");
      f << j.dump(2) << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nvcs_eval: error: %s\n", e.what());
    return 1;
  }
}
