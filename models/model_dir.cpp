#include "models/model_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "layers/checkpoint.h"

namespace mrnn {

namespace {
std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  MRNN_CHECK(f.good(), "{}: cannot open file (is this a model directory written by caption_train?)", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

void write_model_dir_meta(const std::string& dir, const MrnnConfig& config, const Vocab& vocab, TokenizerMode mode) {
  std::filesystem::create_directories(dir);
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(config.to_json());
  j["tokenizer"] = tokenizer_mode_name(mode);
  const std::string tmp = dir + "/config.json.tmp";
  {
    std::ofstream f(tmp);
    MRNN_CHECK(f.good(), "{}: cannot write", tmp);
    f << j.dump(2) << "\n";
  }
  std::filesystem::rename(tmp, dir + "/config.json");
  vocab.save(dir + "/vocab.txt");
}

MrnnConfig load_model_config(const std::string& dir, TokenizerMode* mode) {
  const std::string cfg_path = dir + "/config.json";
  const std::string text = read_text(cfg_path);
  MrnnConfig c = MrnnConfig::from_json(text, cfg_path);
  nlohmann::json j = nlohmann::json::parse(text);
  if (j.contains("tokenizer")) {
    MRNN_CHECK(j["tokenizer"].is_string(), "{}: field 'tokenizer' must be a string", cfg_path);
    if (mode) *mode = parse_tokenizer_mode(j["tokenizer"].get<std::string>());
  }
  return c;
}

ModelDir load_model_dir(const std::string& dir, const std::string& weights_file) {
  ModelDir m;
  const std::string cfg_path = dir + "/config.json";
  m.config = load_model_config(dir, &m.tokenizer);
  m.vocab = Vocab::load(dir + "/vocab.txt");
  MRNN_CHECK(m.vocab.size() == m.config.vocab, "{}/vocab.txt has {} tokens but {} says vocab = {}", dir,
             m.vocab.size(), cfg_path, m.config.vocab);
  Generator gen(0);
  m.model = std::make_shared<Mrnn>(m.config, gen);
  load_module(dir + "/" + weights_file, *m.model);
  m.model->eval();
  return m;
}

}  // namespace mrnn
