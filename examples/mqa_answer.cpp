// mqa_answer: answers one question about one image with a trained mQA model.
//   mqa_answer --model runs/mqa --image photo.png --question "What color is the circle?"
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "core/autograd.h"
#include "models/mqa/mqa_dir.h"
#include "models/mrnn/caption_data.h"
#include "examples/cli_checks.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Answer a question about an image with a trained mQA model (prints the answer)."};
  app.option_defaults()->always_capture_default();
  std::string model_dir, image, question, device = "cpu";
  DecodeOptions opt;
  opt.beam_size = 1;
  opt.max_length = 20;
  bool verbose = false;
  app.add_option("--model", model_dir, "trained mQA model folder (from mqa_train)")->required();
  app.add_option("--image", image, "image file (PNG, JPEG, BMP)")->required()->check(CLI::ExistingFile);
  app.add_option("--question", question, "the question")->required();
  app.add_option("--beam", opt.beam_size, "beam size (1 = greedy)")->check(cli::positive_int);
  app.add_option("--max-length", opt.max_length, "longest answer in tokens")->check(cli::positive_int);
  app.add_flag("--verbose", verbose, "a sentence model: also print the whole generated sentence");
  cli::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);
  try {
    MqaDir m = load_mqa_dir(model_dir);
    if (m.config.image_input != "cnn")
      throw Error(model_dir + "/config.json: the model was trained on precomputed features and has no CNN to read an "
                  "image file with: use mqa_eval --features");
    m.model->to(parse_device(device));  // decoding runs on the model's device, inputs copied there
    const std::vector<std::string> words = tokenize(question, m.tokenizer);
    if (words.empty()) throw Error("--question \"" + question + "\" has no words");
    std::vector<int64_t> ids;
    for (int32_t id : m.vocab.encode(words)) ids.push_back(id);
    const int64_t T = static_cast<int64_t>(ids.size());
    QuestionBatch q{Tensor::from_vector(ids, {1, T}), Tensor::ones({1, T})};
    Tensor pixels;
    const int64_t S = m.config.image_size;
    std::vector<float> p = load_image_chw(image, S);  // read even by a blind model: a bad file is an error
    pixels = Tensor::from_vector(p, {1, 3, S, S});
    const auto tokens = answer_batch_tokens(*m.model, m.vocab, q, pixels, opt).front();
    const std::string sentence = join_answer(tokens, m.tokenizer);
    const std::string answer = m.config.answers == "sentence" ? m.picker.pick(tokens, words) : sentence;
    std::printf("%s\n", answer.c_str());
    if (verbose && m.config.answers == "sentence") std::printf("sentence: %s\n", sentence.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mqa_answer: error: %s\n", e.what());
    return 1;
  }
}
