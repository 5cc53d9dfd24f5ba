// refexp_eval: scores Google Refexp toolbox results files against a Google-Refexp-format file:
//   --comprehension C.json   precision@k (a hit: IoU >= 0.5 with the referred box, the toolbox's
//                            IoU), with the chance level of picking one GT object at random
//   --generation G.json      BLEU-1..4, ROUGE-L, CIDEr-D of the generated expressions against all
//                            of the object's expressions in the file
//   --scenes S.json          with --generation: the unambiguity rate (the generated expression
//                            picks out exactly one object of the scene, data/refexp_resolve.h) and
//                            how often that one object is the referred one; also for the file's own
//                            expressions, as the reference level
// Writes one JSON object with named keys (stdout, and --out).
//   refexp_eval --data val.json --comprehension c.json --generation g.json --scenes scenes.json
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "data/refexp_resolve.h"
#include "data/scene_file.h"
#include "eval/caption_eval.h"
#include "eval/refexp.h"
#include "examples/cli_checks.h"
#include "models/refexp/refexp_data.h"
#include "models/refexp/refexp_results.h"

using namespace mrnn;

namespace {

eval::Box ebox(const Box& b) { return {b[0], b[1], b[2], b[3]}; }

struct Unambiguity {
  int64_t n = 0, parsed = 0, unique = 0, target = 0;
  nlohmann::ordered_json json() const {
    auto pct = [&](int64_t k) { return n ? 100.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0; };
    return {{"expressions", n}, {"parsed_percent", pct(parsed)}, {"unambiguous_percent", pct(unique)},
            {"refers_to_target_percent", pct(target)}};
  }
};

void judge(Unambiguity& u, const std::vector<std::string>& words, const SceneImage& scene, const SceneVocabulary& v,
           const Box& truth) {
  const ReferentResolution r = resolve_expression(words, scene, v);
  ++u.n;
  u.parsed += r.parsed;
  if (!r.unambiguous()) return;
  ++u.unique;
  const SceneObject& o = scene.objects[r.objects[0]];
  u.target += eval::box_iou({o.x, o.y, o.w, o.h}, ebox(truth)) >= 0.5;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Score referring-expression results (Google Refexp toolbox formats): comprehension precision@k, "
               "generation BLEU/ROUGE-L/CIDEr-D, and unambiguity against a scene file."};
  app.option_defaults()->always_capture_default();
  std::string data, comprehension, generation, scenes, out, tokenizer = "word";
  std::vector<int64_t> ks = {1, 2};
  double iou = 0.5;
  app.add_option("--data", data, "the Google-Refexp-format file the results are for")->required()
      ->check(CLI::ExistingFile);
  app.add_option("--comprehension", comprehension, "comprehension results [{\"annotation_id\", \"refexp_id\"?, "
                 "\"predicted_bounding_boxes\"}]")->check(CLI::ExistingFile);
  app.add_option("--generation", generation, "generation results [{\"annotation_id\", \"refexp\"}]")
      ->check(CLI::ExistingFile);
  app.add_option("--scenes", scenes, "scene file (data/scene_file.h: every object's attributes and box) for the "
                 "unambiguity rate; images matched by file_name")->check(CLI::ExistingFile);
  app.add_option("--k", ks, "precision@k for these k")->delimiter(',')->check(cli::positive_int);
  app.add_option("--iou", iou, "IoU a hit needs")->check(CLI::Range(0.0, 1.0));
  app.add_option("--tokenizer", tokenizer, "how generated expressions are split into words: word | char")
      ->check(CLI::IsMember({"word", "char"}));
  app.add_option("--out", out, "also write the metrics JSON here")->check(cli::output_file);
  CLI11_PARSE(app, argc, argv);
  try {
    if (comprehension.empty() && generation.empty())
      throw Error("nothing to score: give --comprehension FILE and/or --generation FILE");
    if (!scenes.empty() && generation.empty()) throw Error("--scenes needs --generation (it judges generated expressions)");
    const TokenizerMode mode = parse_tokenizer_mode(tokenizer);
    RefexpDataOptions d;  // boxes and expressions only: no pixels
    d.tokenizer = mode;
    d.max_words = 1000;
    const RefexpSplit split = load_refexp_split(data, d);
    std::map<int64_t, int64_t> row_of;  // annotation id -> its first row
    std::map<int64_t, std::vector<std::string>> refs_of;
    std::map<int64_t, int64_t> ann_of_refexp;
    for (int64_t r = split.size() - 1; r >= 0; --r) row_of[split.annotation_ids[r]] = r;
    for (int64_t r = 0; r < split.size(); ++r) {
      refs_of[split.annotation_ids[r]].push_back(join_words(split.words[r], mode));
      ann_of_refexp[split.refexp_ids[r]] = split.annotation_ids[r];
    }
    nlohmann::ordered_json j;
    j["data"] = data;
    if (!comprehension.empty()) {
      const std::vector<ComprehensionResult> res = read_comprehension_results(comprehension);
      MRNN_CHECK(!res.empty(), "{}: no results", comprehension);
      std::vector<std::vector<eval::Box>> ranked;
      std::vector<eval::Box> truth;
      double chance = 0;
      std::set<int64_t> refexps_seen;
      for (size_t i = 0; i < res.size(); ++i) {
        const auto it = row_of.find(res[i].annotation_id);
        MRNN_CHECK(it != row_of.end(), "{}: [{}].annotation_id {} is not an annotation of {}", comprehension, i,
                   res[i].annotation_id, data);
        if (res[i].refexp_id >= 0) {
          const auto a = ann_of_refexp.find(res[i].refexp_id);
          MRNN_CHECK(a != ann_of_refexp.end(), "{}: [{}].refexp_id {} is not an expression of {}", comprehension, i,
                     res[i].refexp_id, data);
          MRNN_CHECK(a->second == res[i].annotation_id, "{}: [{}]: expression {} belongs to annotation {}, not {}",
                     comprehension, i, res[i].refexp_id, a->second, res[i].annotation_id);
          refexps_seen.insert(res[i].refexp_id);
        }
        std::vector<eval::Box> boxes;
        for (const Box& b : res[i].boxes) boxes.push_back(ebox(b));
        ranked.push_back(std::move(boxes));
        truth.push_back(ebox(split.boxes[it->second]));
        chance += 1.0 / static_cast<double>(split.images[split.image_index[it->second]].gt_boxes.size());
      }
      nlohmann::ordered_json c;
      c["results"] = comprehension;
      c["expressions"] = res.size();
      for (int64_t k : ks)
        c["precision_at_" + std::to_string(k)] =
            100.0 * eval::precision_at_k(ranked, truth, static_cast<size_t>(k), iou);
      c["chance_gt_percent"] = 100.0 * chance / static_cast<double>(res.size());
      if (!refexps_seen.empty()) c["file_expressions_without_result"] = split.size() - static_cast<int64_t>(refexps_seen.size());
      j["comprehension"] = c;
    }
    if (!generation.empty()) {
      const std::vector<GenerationResult> res = read_generation_results(generation);
      MRNN_CHECK(!res.empty(), "{}: no results", generation);
      eval::CaptionMap refs, hyp;
      for (size_t i = 0; i < res.size(); ++i) {
        const auto it = refs_of.find(res[i].annotation_id);
        MRNN_CHECK(it != refs_of.end(), "{}: [{}].annotation_id {} is not an annotation of {}", generation, i,
                   res[i].annotation_id, data);
        const std::string key = std::to_string(res[i].annotation_id);
        MRNN_CHECK(!hyp.count(key), "{}: [{}]: annotation {} has a second expression (one per annotation)", generation,
                   i, res[i].annotation_id);
        refs[key] = it->second;
        hyp[key] = {res[i].refexp};
      }
      const eval::CaptionScores s = eval::evaluate_captions(refs, hyp);
      nlohmann::ordered_json g;
      g["results"] = generation;
      g["annotations"] = res.size();
      for (int n = 0; n < 4; ++n) g["bleu" + std::to_string(n + 1)] = s.bleu.corpus[n];
      g["rouge_l"] = s.rouge_l.corpus;
      g["cider_d"] = s.cider_d.corpus;
      j["generation"] = g;
      if (!scenes.empty()) {
        const SceneFile sf = load_scene_file(scenes);
        auto scene_of = [&](int64_t row) -> const SceneImage& {
          const RefexpImageEntry& im = split.images[split.image_index[row]];
          const SceneImage* sc = sf.find(im.file_name);
          MRNN_CHECK(sc, "{}: no scene for image {} (file_name \"{}\") of {}", scenes, im.image_id, im.file_name, data);
          return *sc;
        };
        Unambiguity gen, ref;
        for (const GenerationResult& r : res) {
          const int64_t row = row_of.at(r.annotation_id);
          judge(gen, tokenize(r.refexp, mode), scene_of(row), sf.vocabulary, split.boxes[row]);
        }
        for (int64_t row = 0; row < split.size(); ++row)
          judge(ref, split.words[row], scene_of(row), sf.vocabulary, split.boxes[row]);
        j["unambiguity"] = {{"scenes", scenes}, {"generated", gen.json()}, {"file_expressions", ref.json()}};
      }
    }
    const std::string text = j.dump(2) + "\n";
    if (!out.empty()) {
      const std::string tmp = out + ".tmp";
      {
        std::ofstream f(tmp);
        f << text;
        MRNN_CHECK(f.good(), "{}: cannot write", tmp);
      }
      std::rename(tmp.c_str(), out.c_str());
    }
    std::printf("%s", text.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refexp_eval: error: %s\n", e.what());
    return 1;
  }
}
