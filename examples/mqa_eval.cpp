// mqa_eval: answers every question of a VQA-format pair of files with a trained mQA model, writes the
// official results file [{"question_id", "answer"}] and scores it as the official VQA evaluation does
// (overall, per question type, per answer type). With --score FILE it scores an existing results
// file instead (no model needed).
//   mqa_eval --model runs/mqa --questions q.json --annotations a.json --images DIR --results res.json
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "eval/caption_eval.h"
#include "eval/vqa_accuracy.h"
#include "models/mqa/mqa_dir.h"
#include "models/mqa/vqa_results.h"
#include "examples/cli_checks.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Answer VQA-format questions with an mQA model and score the answers with the official VQA accuracy."};
  app.option_defaults()->always_capture_default();
  std::string model_dir, questions, annotations, images, results, accuracy, score, sentences, device = "cpu";
  DecodeOptions opt;
  opt.beam_size = 1;
  opt.max_length = 20;
  int64_t max_questions = 0;
  app.add_option("--model", model_dir, "trained mQA model folder (from mqa_train)");
  app.add_option("--questions", questions, "VQA-format questions")->required()->check(CLI::ExistingFile);
  app.add_option("--annotations", annotations, "VQA-format annotations (the same question ids)")
      ->required()->check(CLI::ExistingFile);
  std::string features, feature_ids;
  app.add_option("--images", images, "folder of the images (image N: the file whose name ends in the number N)");
  app.add_option("--features", features, "or, for a model trained on features: .npy [N, D] image features")
      ->check(CLI::ExistingFile);
  app.add_option("--feature-ids", feature_ids, "with --features: the image id of each row, one per line")
      ->check(CLI::ExistingFile);
  app.add_option("--results", results, "results file to write (official format)")->check(cli::output_file);
  app.add_option("--accuracy", accuracy, "accuracy JSON to write (default: the results path with _accuracy.json, "
                 "or stdout only)")->check(cli::output_file);
  app.add_option("--score", score, "score this existing results file instead of answering (no --model)")
      ->check(CLI::ExistingFile);
  app.add_option("--sentences", sentences, "also write the generated token sequences [{\"question_id\", \"sentence\"}]")
      ->check(cli::output_file);
  app.add_option("--beam", opt.beam_size, "beam size (1 = greedy)")->check(cli::positive_int);
  app.add_option("--max-length", opt.max_length, "longest answer in tokens")->check(cli::positive_int);
  app.add_option("--max-questions", max_questions, "only the first N questions (0 = all)")->check(cli::nonnegative_int);
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);

  try {
    if (score.empty() == model_dir.empty()) throw Error("give --model DIR (answer, then score) or --score RESULTS.json");
    if (!model_dir.empty() && (results.empty() || images.empty() == features.empty()))
      throw Error("--model needs --results FILE (where the answers go) and --images DIR or --features FILE.npy");
    if (features.empty() != feature_ids.empty()) throw Error("--features needs --feature-ids (and the other way round)");
    if (accuracy.empty() && !results.empty()) {
      accuracy = results;
      if (accuracy.size() > 5 && accuracy.substr(accuracy.size() - 5) == ".json") accuracy.resize(accuracy.size() - 5);
      accuracy += "_accuracy.json";
    }
    MqaDir m;
    MqaDataOptions d;
    d.max_questions = max_questions;
    if (!model_dir.empty()) {
      m = load_mqa_dir(model_dir);
      m.model->to(parse_device(device));  // decoding runs on the model's device, inputs copied there
      const std::string input = features.empty() ? "cnn" : "features";
      if (m.config.image_input != input)
        throw Error(model_dir + "/config.json: the model was trained on " +
                    (m.config.image_input == "cnn" ? std::string("images: give --images")
                                                   : std::string("features: give --features and --feature-ids")));
      d.images_dir = images;
      d.features = features;
      d.feature_ids = feature_ids;
      d.image_size = m.config.image_size;
      d.tokenizer = m.tokenizer;
      d.load_images = !m.config.blind;
    } else {
      d.load_images = false;
      d.images_dir = images;
    }
    // Scoring an existing file needs no images (an empty --images skips them).
    MqaSplit split = load_mqa_split(questions, annotations, d);
    if (!features.empty())
      MRNN_CHECK(split.images.size(1) == m.config.image_dim, "{}: {} columns, but {}/config.json has image_dim {}",
                 features, split.images.size(1), model_dir, m.config.image_dim);
    std::vector<std::string> answers;
    SplitAnswers generated;
    if (!model_dir.empty()) {
      encode_split(split, m.vocab);
      generated = answer_texts(*m.model, m.vocab, m.tokenizer, m.picker, split, {}, opt);
      write_vqa_results(results, split.question_ids, generated.answers);
      if (!sentences.empty()) {
        nlohmann::ordered_json j = nlohmann::ordered_json::array();
        for (int64_t i = 0; i < split.size(); ++i)
          j.push_back({{"question_id", split.question_ids[i]}, {"sentence", generated.sentences[i]}});
        std::ofstream(sentences) << j.dump(1) << "\n";
      }
      score = results;
    }
    // Score the file as written on disk: the same checks as for any results file.
    answers = read_vqa_results(score, split.question_ids);
    const eval::VqaAccuracy acc = eval::vqa_accuracy(answers, split.human_answers);
    const eval::VqaReport report = eval::vqa_report(acc.per_question, split.question_types, split.answer_types);
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(vqa_report_json(report, split.size()));
    if (!model_dir.empty() && m.config.answers == "sentence") {
      eval::CaptionMap refs, res;
      for (int64_t i = 0; i < split.size(); ++i) {
        if (split.answer_sentences[i].empty()) continue;
        const std::string key = std::to_string(split.question_ids[i]);
        refs[key] = {split.answer_sentences[i]};
        res[key] = {generated.sentences[i]};
      }
      if (!refs.empty()) {
        const eval::CaptionScores s = eval::evaluate_captions(refs, res);
        j["sentences"] = {{"bleu4", s.bleu.corpus[3]}, {"cider_d", s.cider_d.corpus}, {"questions", refs.size()}};
      } else {
        std::fprintf(stderr, "%s has no answer_sentence fields: no BLEU/CIDEr-D of the sentences\n", annotations.c_str());
      }
    }
    const std::string text = j.dump(2) + "\n";
    if (!accuracy.empty()) {
      std::ofstream f(accuracy);
      f << text;
      MRNN_CHECK(f.good(), "{}: cannot write", accuracy);
    }
    std::printf("%s", text.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mqa_eval: error: %s\n", e.what());
    return 1;
  }
}
