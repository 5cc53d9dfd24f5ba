#include "models/mrnn/model_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/engine/checkpoint.h"

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

MrnnConfig parse_model_config(const std::string& text, const std::string& path, TokenizerMode* mode) {
  MrnnConfig c = MrnnConfig::from_json(text, path);
  const nlohmann::json j = nlohmann::json::parse(text);  // valid: from_json parsed it
  if (j.contains("tokenizer")) {
    const nlohmann::json& t = j["tokenizer"];
    MRNN_CHECK(t.is_string() && (t == "word" || t == "char" || t == "character"),
               "{}: field 'tokenizer' is {}, expected \"word\" or \"char\"", path, t.dump());
    if (mode) *mode = parse_tokenizer_mode(t.get<std::string>());
  }
  return c;
}

MrnnConfig load_model_config(const std::string& dir, TokenizerMode* mode) {
  const std::string cfg_path = dir + "/config.json";
  return parse_model_config(read_text(cfg_path), cfg_path, mode);
}

void check_model_inputs(const MrnnConfig& config, const std::string& dir, const std::string& features,
                        int64_t feature_dim) {
  const std::string cfg = dir + "/config.json";
  if (config.image_input == "features") {
    MRNN_CHECK(!features.empty(), "{} says image_input = \"features\": give the image features (--features FILE.npy)",
               cfg);
    MRNN_CHECK(feature_dim == config.image_dim, "{}: features have {} columns but {} says image_dim = {}", features,
               feature_dim, cfg, config.image_dim);
  } else {
    MRNN_CHECK(features.empty(), "{} says image_input = \"{}\": the model reads images (--images DIR), not {}", cfg,
               config.image_input, features);
  }
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
