// caption_eval: evaluates a trained m-RNN on a split: perplexity, BLEU-1..4 / ROUGE-L / CIDEr-D for
// greedy and beam captions, image and sentence retrieval (R@1/5/10, Med r), and optionally a blind
// baseline and an HTML report.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <numeric>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "data/karpathy.h"
#include "data/scene_check.h"
#include "data/scene_file.h"
#include "data/raw_array.h"
#include "eval/caption_eval.h"
#include "eval/retrieval.h"
#include "kernels/ops.h"
#include "models/mrnn/caption_trainer.h"
#include "models/mrnn/model_dir.h"
#include "models/mrnn/model_split.h"
#include "models/mrnn/report.h"
#include "models/mrnn/retrieval.h"
#include "models/mrnn/scene_checks.h"
#include "examples/cli_checks.h"

using namespace mrnn;

namespace {

nlohmann::ordered_json summary_json(const SceneCheckSummary& s) {
  nlohmann::ordered_json precision;
  for (int k = 0; k < kNumClaimKinds; ++k) {
    const auto kind = static_cast<ClaimKind>(k);
    precision[claim_kind_name(kind)] = {{"claims", s.claims[k]}, {"precision", s.precision_percent(kind)}};
  }
  return {{"captions", s.captions},
          {"parsed_percent", s.captions ? 100.0 * s.parsed / s.captions : 0.0},
          {"correct_percent", s.correct_percent()},
          {"claims", precision}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Evaluate a trained m-RNN (from caption_train) on a split of a Karpathy-format dataset."};
  std::string model_dir, data, images, features, split_name = "test", out_json, report_dir, meteor_jar;
  std::string device = "cpu", scenes_opt;
  int64_t beam = 3, max_images = 0, prior_images = 100, retrieval_images = 100;
  double length_penalty = 0.0;
  std::vector<int64_t> sweep_beams;
  std::vector<double> sweep_penalties = {0.0, 0.5, 1.0};
  bool blind = false;
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("--model", model_dir, "model directory written by caption_train")->required();
  app.add_option("--data", data, "Karpathy-format dataset JSON")->required()->check(CLI::ExistingFile);
  app.add_option("--images", images, "image folder");
  app.add_option("--features", features, ".npy image features (when the model was trained on features)");
  app.add_option("--split", split_name, "train | val | test")->check(CLI::IsMember({"train", "val", "test"}));
  app.add_option("--beam", beam, "beam size for the beam-search captions")->check(cli::positive_int);
  app.add_option("--length-penalty", length_penalty, "beam search ranks log P / (words + 1)^alpha; alpha = this "
                 "(0 = raw log P, as TF-mRNN; < 0 favours shorter captions; chosen on val, docs/tasks.md)")->check(CLI::Range(-5.0, 5.0));
  app.add_option("--sweep-beams", sweep_beams, "instead of the full evaluation, decode the split with each of these beam "
                 "sizes x each --sweep-penalties and print/write one row per setting (choose decoding on val); "
                 "comma-separated")
      ->delimiter(',')->check(cli::positive_int);
  app.add_option("--sweep-penalties", sweep_penalties, "length penalties tried by --sweep-beams (beam 1 = greedy "
                 "is run once); comma-separated")->delimiter(',')->check(CLI::Range(-5.0, 5.0));
  app.add_option("--max-images", max_images, "evaluate only the first N images (0 = all)")->check(cli::nonnegative_int);
  app.add_option("--prior-images", prior_images, "first N train images, used to estimate P(sentence) for "
                 "normalised sentence retrieval (0 = all)")->check(cli::nonnegative_int);
  app.add_option("--retrieval-images", retrieval_images, "retrieval over the first N images of the split and "
                 "their sentences (0 = all; every pair costs a forward pass of the multimodal and output layers)")
      ->check(cli::nonnegative_int);
  app.add_flag("--blind", blind, "also evaluate the model with its image input zeroed (a language-only baseline)");
  app.add_option("--meteor-jar", meteor_jar, "official METEOR 1.5 jar (METEOR is skipped without it)");
  app.add_option("--scenes", scenes_opt, "scene file (data/scene_file.h) to check every caption's claims against; "
                 "default: X_scenes.json beside the dataset X.json, when it exists")->check(CLI::ExistingFile);
  app.add_option("--out", out_json, "write all metrics to this JSON file")->check(cli::output_file);
  app.add_option("--report", report_dir, "write report.html (with images, captions, retrieval, loss curve) here");
  cli::add_device_option(app, device);
  std::string precision = "fp32";
  cli::add_precision_option(app, precision);
  CLI11_PARSE(app, argc, argv);

  try {
    const Device dev = parse_device(device);  // checked by --device already
    ModelDir md = load_model_dir(model_dir);
    Mrnn& model = *md.model;
    model.to(dev);  // perplexity, decoding and retrieval scoring run there (inputs copied per chunk)
    std::string notice;
    model.set_inference_precision(parse_matmul_precision(precision), &notice);
    if (!notice.empty()) std::fprintf(stderr, "caption_eval: %s\n", notice.c_str());
    if (md.config.image_input == "features" && features.empty())
      throw Error(model_dir + " was trained on image features: pass --features");
    if (md.config.image_input == "cnn" && images.empty()) throw Error(model_dir + " needs images: pass --images");
    KarpathyDataset ds = load_karpathy(data, dataset_options_for(md));
    const std::string scenes_path = scene_file_for(data, scenes_opt);
    const SceneFile scenes = scenes_path.empty() ? SceneFile{} : load_scene_file(scenes_path);
    const SplitSource source{data, images, features};
    CaptionSplit split = load_split_for_model(md, model_dir, ds, parse_split(split_name), source, max_images);
    NoGradGuard ng;
    model.eval();

    nlohmann::ordered_json m;
    m["split"] = split_name;
    m["decoding_precision"] = matmul_precision_name(model.inference_precision());
    m["images"] = split.num_images();
    m["sentences"] = split.captions.size();
    m["perplexity"] = split_perplexity(model, split);
    auto caption_metrics = [&](const CaptionEvalSummary& s) {
      return nlohmann::ordered_json{{"bleu1", s.bleu[0]}, {"bleu2", s.bleu[1]}, {"bleu3", s.bleu[2]},
                                    {"bleu4", s.bleu[3]}, {"rouge_l", s.rouge_l}, {"cider_d", s.cider_d}};
    };
    auto mean_words = [](const CaptionEvalSummary& s) {
      double words = 0;
      for (const std::string& c : s.captions) words += c.empty() ? 0 : 1 + std::count(c.begin(), c.end(), ' ');
      return s.captions.empty() ? 0.0 : words / s.captions.size();
    };
    if (!sweep_beams.empty()) {  // one row per decoding setting, nothing else
      nlohmann::ordered_json rows = nlohmann::ordered_json::array();
      for (int64_t b : sweep_beams) {
        for (double alpha : b == 1 ? std::vector<double>{0.0} : sweep_penalties) {
          DecodeOptions opt;
          opt.beam_size = b;
          opt.length_penalty = alpha;
          const CaptionEvalSummary s = evaluate_split(model, md.vocab, split, 0, opt);
          nlohmann::ordered_json row = caption_metrics(s);
          row["beam_size"] = b;
          row["length_penalty"] = alpha;
          const double words = mean_words(s);
          row["mean_words"] = words;
          if (!scenes_path.empty()) {
            SceneCheckSummary sc;
            check_split_captions(scenes, scenes_path, split, s.captions, &sc);
            row["scene_correct"] = sc.correct_percent();
          }
          std::fprintf(stderr, "beam %lld  alpha %.2f  CIDEr-D %.4f  BLEU-4 %.4f  words %.2f\n", static_cast<long long>(b),
                       alpha, s.cider_d, s.bleu[3], words);
          rows.push_back(row);
        }
      }
      m["sweep"] = rows;
      const std::string text = m.dump(2);
      std::printf("%s\n", text.c_str());
      if (!out_json.empty()) {
        const std::string file = text + "\n";
        write_file_atomic(out_json, {{file.data(), file.size()}});
      }
      return 0;
    }
    CaptionEvalSummary greedy = evaluate_split(model, md.vocab, split, 0, 1);
    DecodeOptions beam_opt;
    beam_opt.beam_size = beam;
    beam_opt.length_penalty = length_penalty;
    CaptionEvalSummary beamed = evaluate_split(model, md.vocab, split, 0, beam_opt);
    m["greedy"] = caption_metrics(greedy);
    m["greedy"]["mean_words"] = mean_words(greedy);
    m["beam"] = caption_metrics(beamed);
    m["beam"]["mean_words"] = mean_words(beamed);
    m["beam"]["beam_size"] = beam;
    m["beam"]["length_penalty"] = length_penalty;
    std::vector<CaptionCheck> greedy_checks, beam_checks;
    if (!scenes_path.empty()) {
      SceneCheckSummary sg, sb;
      greedy_checks = check_split_captions(scenes, scenes_path, split, greedy.captions, &sg);
      beam_checks = check_split_captions(scenes, scenes_path, split, beamed.captions, &sb);
      m["greedy"]["scene_correct"] = sg.correct_percent();
      m["beam"]["scene_correct"] = sb.correct_percent();
      m["scene_check"] = {{"file", scenes_path}, {"greedy", summary_json(sg)}, {"beam", summary_json(sb)}};
    }
    if (!meteor_jar.empty()) {
      eval::CaptionMap refs, res;
      for (int64_t i = 0; i < split.num_images(); ++i) {
        refs[std::to_string(i)] = split.references[i];
        res[std::to_string(i)] = {beamed.captions[i]};
      }
      eval::MeteorScore ms = eval::evaluate_captions(refs, res, meteor_jar).meteor;
      if (ms.computed) m["beam"]["meteor"] = ms.corpus;
      else m["meteor"] = ms.status;
    } else {
      m["meteor"] = "not computed (no --meteor-jar given)";
    }

    // Retrieval over every image x sentence pair of the first `retrieval_images` images.
    const int64_t R = retrieval_images > 0 ? std::min(retrieval_images, split.num_images()) : split.num_images();
    std::vector<int64_t> all;
    for (size_t c = 0; c < split.captions.size(); ++c)
      if (split.caption_image[c] < R) all.push_back(static_cast<int64_t>(c));
    Tensor tokens = caption_batch(split, all);
    Tensor feats = model.encode_images(narrow(split.images, 0, 0, R).to(dev));
    std::vector<double> scores = sentence_log_probs(model, feats, tokens);
    const size_t N = static_cast<size_t>(R), S = all.size();
    m["retrieval_images"] = N;
    m["retrieval_sentences"] = S;
    std::vector<size_t> owner;
    for (int64_t c : all) owner.push_back(static_cast<size_t>(split.caption_image[c]));
    eval::RetrievalMetrics raw = eval::retrieval_metrics(scores, N, S, owner);
    // P(S) from a sample of training images.
    CaptionSplit prior_split = load_split_for_model(md, model_dir, ds, Split::train, source, prior_images);
    std::vector<double> norm =
        normalised_scores(scores, sentence_log_prior_over(model, model.encode_images(prior_split.images), tokens));
    eval::RetrievalMetrics normed = eval::retrieval_metrics(norm, N, S, owner);
    auto rank_json = [](const eval::RankMetrics& r) {
      return nlohmann::ordered_json{{"r1", r.r1}, {"r5", r.r5}, {"r10", r.r10}, {"med_r", r.median_rank},
                                    {"mean_r", r.mean_rank}};
    };
    m["image_retrieval"] = rank_json(raw.text_to_image);
    m["sentence_retrieval"] = rank_json(normed.image_to_text);
    m["sentence_retrieval_unnormalized"] = rank_json(raw.image_to_text);
    m["random_r1"] = {{"image_retrieval", 100.0 / N}, {"sentence_retrieval", 100.0 / N}};

    Generator g0(0);
    MrnnConfig other = md.config;
    other.tws = !other.tws;
    const int64_t here = model.parameter_count(), there = Mrnn(other, g0).parameter_count();
    m["parameters"] = {{"with_tws", md.config.tws ? here : there}, {"without_tws", md.config.tws ? there : here}};

    if (blind) {
      CaptionSplit zero = split;
      zero.images = Tensor::zeros(split.images.shape());
      CaptionEvalSummary b = evaluate_split(model, md.vocab, zero, 0, 1);
      m["blind_greedy"] = caption_metrics(b);
      if (!scenes_path.empty()) {
        SceneCheckSummary sz;
        check_split_captions(scenes, scenes_path, split, b.captions, &sz);
        m["blind_greedy"]["scene_correct"] = sz.correct_percent();
        m["scene_check"]["blind_greedy"] = summary_json(sz);
      }
    }

    const std::string text = m.dump(2);
    std::printf("%s\n", text.c_str());
    if (!out_json.empty()) {
      const std::string file = text + "\n";
      write_file_atomic(out_json, {{file.data(), file.size()}});  // complete or absent, never half-written
    }
    if (!report_dir.empty()) {
      ReportInputs r;
      r.metrics_json = text;
      r.log_jsonl = model_dir + "/log.jsonl";
      r.images_dir = images;
      r.split = &split;
      r.greedy = greedy.captions;
      r.beam = beamed.captions;
      r.greedy_checks = std::move(greedy_checks);
      r.beam_checks = std::move(beam_checks);
      r.scores = scores;
      r.retrieval_images = R;
      r.normalised_scores = norm;
      write_report(report_dir, r);
      std::fprintf(stderr, "report: %s/report.html\n", report_dir.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "caption_eval: error: %s\n", e.what());
    return 1;
  }
}
