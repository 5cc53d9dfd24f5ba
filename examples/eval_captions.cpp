// eval_captions: scores a COCO results file against references with exactly coco-caption's
// numbers (BLEU-1..4, ROUGE-L, CIDEr-D; METEOR with --meteor-jar). References come from a
// Karpathy split JSON or a COCO captions annotation file; both sides are tokenized with the
// PTB-style tokenizer coco-caption uses (or --tokenizer char for Chinese/Japanese).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/coco_captions.h"
#include "data/karpathy.h"
#include "data/raw_array.h"
#include "data/tokenizer.h"
#include "eval/caption_eval.h"
#include "examples/cli_checks.h"

using namespace mrnn;

namespace {
std::string joined(const std::vector<std::string>& toks) {
  std::string s;
  for (const auto& t : toks) s += (s.empty() ? "" : " ") + t;
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Score captions (COCO results JSON) against references, exactly as coco-caption does."};
  std::string refs_path, results_path, out, meteor_jar, tokenizer = "word", split;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--refs", refs_path, "Karpathy split JSON or COCO captions annotations JSON")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--results", results_path, "COCO results JSON: [{\"image_id\": int, \"caption\": str}, ...]")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--split", split, "Karpathy refs: only images of this split (default: all)")
      ->check(CLI::IsMember({"train", "val", "test", "restval"}));
  app.add_option("--tokenizer", tokenizer, "word (PTB, as coco-caption) | char")->check(CLI::IsMember({"word", "char"}));
  app.add_option("--meteor-jar", meteor_jar, "official METEOR 1.5 jar (METEOR is not computed without it)");
  app.add_option("--out", out, "also write the scores as JSON here")->check(cli::output_file);
  CLI11_PARSE(app, argc, argv);
  try {
    const TokenizerMode mode = parse_tokenizer_mode(tokenizer);
    // References keyed by image id. A Karpathy file is recognised by its top-level "images" entries
    // having "sentences"; otherwise the file is read as COCO captions annotations.
    std::map<int64_t, std::vector<std::string>> raw_refs;
    bool karpathy = false;
    {
      std::ifstream f(refs_path);
      nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
      karpathy = !j.is_discarded() && j.is_object() && j.contains("images") && j["images"].is_array() &&
                 !j["images"].empty() && j["images"][0].is_object() && j["images"][0].contains("sentences");
    }
    if (karpathy) {
      KarpathyOptions ko;
      if (!split.empty()) ko.splits = {parse_split(split)};
      for (const KImage& im : load_karpathy(refs_path, ko).images)
        for (const Sentence& s : im.sentences) raw_refs[im.cocoid >= 0 ? im.cocoid : im.imgid].push_back(s.raw);
    } else {
      if (!split.empty()) throw mrnn::Error("--split applies to Karpathy reference files only");
      raw_refs = load_coco_captions(refs_path).captions_by_image();
    }
    CocoResultsOptions ro;
    ro.allow_empty_captions = true;
    CocoResults res = load_coco_results(results_path, ro);
    eval::CaptionMap refs, hyps;
    std::set<int64_t> seen;
    for (const CocoResult& r : res.results) {
      if (!seen.insert(r.image_id).second)
        throw mrnn::Error(results_path + ": image_id " + std::to_string(r.image_id) + " has more than one caption");
      auto it = raw_refs.find(r.image_id);
      if (it == raw_refs.end())
        throw mrnn::Error(results_path + ": image_id " + std::to_string(r.image_id) + " has no references in " + refs_path);
      const std::string key = std::to_string(r.image_id);
      hyps[key] = {joined(tokenize(r.caption, mode))};
      for (const std::string& ref : it->second) refs[key].push_back(joined(tokenize(ref, mode)));
    }
    if (hyps.empty()) throw mrnn::Error(results_path + ": no results to score");
    eval::CaptionScores s = eval::evaluate_captions(refs, hyps, meteor_jar);
    nlohmann::ordered_json j;
    j["images"] = hyps.size();
    for (int k = 0; k < 4; ++k) j["bleu" + std::to_string(k + 1)] = s.bleu.corpus[k];
    j["rouge_l"] = s.rouge_l.corpus;
    j["cider_d"] = s.cider_d.corpus;
    if (s.meteor.computed) j["meteor"] = s.meteor.corpus;
    else j["meteor"] = s.meteor.status;
    std::printf("%-8s %8s\n", "metric", "score");
    for (int k = 0; k < 4; ++k) std::printf("BLEU-%d   %8.4f\n", k + 1, s.bleu.corpus[k]);
    std::printf("ROUGE-L  %8.4f\nCIDEr-D  %8.4f\n", s.rouge_l.corpus, s.cider_d.corpus);
    if (s.meteor.computed) std::printf("METEOR   %8.4f\n", s.meteor.corpus);
    else std::printf("METEOR   %s\n", s.meteor.status.c_str());
    std::printf("(%zu images)\n", hyps.size());
    if (!out.empty()) {
      const std::string text = j.dump(2) + "\n";
      write_file_atomic(out, {{text.data(), text.size()}});  // complete or absent, never half-written
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eval_captions: error: %s\n", e.what());
    return 1;
  }
}
