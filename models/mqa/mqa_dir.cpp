#include "models/mqa/mqa_dir.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "core/error.h"
#include "data/raw_array.h"
#include "data/json_util.h"
#include "models/engine/checkpoint.h"

namespace mrnn {

void write_mqa_dir_meta(const std::string& dir, const MqaConfig& config, const Vocab& vocab, TokenizerMode mode,
                        const AnswerWordPicker& picker) {
  std::filesystem::create_directories(dir);
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(config.to_json());
  j["tokenizer"] = tokenizer_mode_name(mode);
  write_file_atomic(dir + "/config.json", j.dump(2) + "\n");
  write_file_atomic(dir + "/answer_words.json", picker.to_json());
  vocab.save(dir + "/vocab.txt");
}

MqaConfig load_mqa_config(const std::string& dir, TokenizerMode* mode) {
  const std::string path = dir + "/config.json";
  MRNN_CHECK(std::filesystem::is_regular_file(path), "{}: not an mQA model folder (no config.json)", dir);
  const std::string text = jsonio::read_file(path, "model config");
  MqaConfig c = MqaConfig::from_json(text, path);
  const nlohmann::json j = nlohmann::json::parse(text);
  if (mode) {
    *mode = TokenizerMode::word;
    if (j.contains("tokenizer")) {
      MRNN_CHECK(j["tokenizer"].is_string(), "{}: field 'tokenizer' must be \"word\" or \"char\"", path);
      try {
        *mode = parse_tokenizer_mode(j["tokenizer"].get<std::string>());
      } catch (const Error& e) {
        MRNN_FAIL("{}: field 'tokenizer': {}", path, e.what());
      }
    }
  }
  return c;
}

MqaDir load_mqa_dir(const std::string& dir, const std::string& weights_file) {
  MqaDir m;
  m.config = load_mqa_config(dir, &m.tokenizer);
  m.vocab = Vocab::load(dir + "/vocab.txt");
  MRNN_CHECK(m.vocab.size() == m.config.vocab, "{}/vocab.txt has {} tokens but {}/config.json says vocab = {}", dir,
             m.vocab.size(), dir, m.config.vocab);
  const std::string words = dir + "/answer_words.json";
  m.picker = AnswerWordPicker::from_json(jsonio::read_file(words, "answer word counts"), words);
  Generator gen(0);
  m.model = std::make_shared<Mqa>(m.config, gen);
  load_module(dir + "/" + weights_file, *m.model);
  m.model->eval();
  return m;
}

int64_t load_cnn_from(Mqa& model, const std::string& dir) {
  MRNN_CHECK(!model.config().blind, "--cnn-from {}: a blind model has no CNN", dir);
  MRNN_CHECK(model.config().image_input == "cnn", "--cnn-from {}: a model on precomputed features has no CNN", dir);
  const std::string path = dir + "/model.safetensors";
  MRNN_CHECK(std::filesystem::is_regular_file(path), "--cnn-from {}: no model.safetensors in that folder", dir);
  const std::string pool = cnn_pool_of_dir(dir);
  MRNN_CHECK(pool == model.config().cnn_pool,
             "--cnn-from {}: its CNN has the {} pooling head but this model's is {} (give --cnn-pool {})", dir, pool,
             model.config().cnn_pool, pool);
  const std::map<std::string, Tensor> file = load_tensors(path);
  std::map<std::string, Tensor> mine = model.state_dict();
  int64_t copied = 0;
  NoGradGuard ng;
  for (auto& [name, t] : mine) {
    if (name.rfind("cnn.", 0) != 0) continue;
    const auto it = file.find(name);
    MRNN_CHECK(it != file.end(), "--cnn-from {}: it has no tensor {} (is it a model with a CNN?)", path, name);
    MRNN_CHECK(it->second.shape() == t.shape(),
               "--cnn-from {}: {} is {} there but {} here (give the same --image-size, --cnn-channels, --image-dim)",
               path, name, it->second.desc(), t.desc());
    t.copy_(it->second.to(t.device()));
    ++copied;
  }
  MRNN_CHECK(copied > 0, "--cnn-from {}: no CNN tensors to copy", path);
  return copied;
}

std::string cnn_pool_of_dir(const std::string& dir) {
  const std::string path = dir + "/config.json";
  MRNN_CHECK(std::filesystem::is_regular_file(path), "{}: not a model folder (no config.json)", dir);
  const jsonio::Json j = jsonio::parse(jsonio::read_file(path, "model config"), path);
  MRNN_CHECK(j.is_object(), "{}: expected a JSON object", path);
  const auto it = j.find("cnn_pool");
  if (it == j.end()) return "flatten";
  MRNN_CHECK(it->is_string(), "{}: cnn_pool: expected a string", path);
  return it->get<std::string>();
}

}  // namespace mrnn
