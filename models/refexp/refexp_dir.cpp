#include "models/refexp/refexp_dir.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/raw_array.h"
#include "data/json_util.h"
#include "models/engine/checkpoint.h"
#include "models/engine/json_fields.h"

namespace mrnn {

namespace {

constexpr int64_t kMaxSize = 1 << 16, kMaxVocab = 1 << 22;

}  // namespace

std::string RefexpModelConfig::to_json() const {
  const SpeakerConfig& s = speaker;
  nlohmann::ordered_json j;
  j["model"] = "refexp";
  j["vocab"] = s.vocab;
  j["embed"] = s.embed;
  j["lstm"] = s.lstm;
  j["fusing"] = s.fusing;
  j["image_size"] = s.image_size;
  j["cnn_channels"] = s.cnn_channels;
  if (s.cnn_pool != "flatten") j["cnn_pool"] = s.cnn_pool;
  j["feature_dim"] = s.feature_dim;
  j["dropout"] = s.dropout;
  j["tws"] = s.tws;
  j["tokenizer"] = tokenizer_mode_name(tokenizer);
  j["max_words"] = max_words;
  j["mmi"] = mmi;
  j["margin"] = margin;
  j["lambda"] = lambda;
  return j.dump(2) + "\n";
}

RefexpDataOptions RefexpModelConfig::data_options(int64_t max_images) const {
  RefexpDataOptions d;
  d.image_size = speaker.image_size;
  d.tokenizer = tokenizer;
  d.max_words = max_words;
  d.max_images = max_images;
  return d;
}

RefexpModelConfig RefexpModelConfig::from_json(const std::string& text, const std::string& what) {
  const nlohmann::json j = json_fields::config_object(text, what);
  MRNN_CHECK(j.contains("model") && j["model"].is_string() && j["model"].get<std::string>() == "refexp",
             "{}: field 'model' must be \"refexp\" (is this a referring-expression model folder?)", what);
  RefexpModelConfig c;
  SpeakerConfig& s = c.speaker;
  const json_fields::ConfigFields f(j, what);
  MRNN_CHECK(j.contains("vocab"), "{}: field 'vocab' is missing", what);
  f.get_int("vocab", s.vocab, kEosId + 2, kMaxVocab);
  f.get_int("embed", s.embed, 1, kMaxSize);
  f.get_int("lstm", s.lstm, 1, kMaxSize);
  f.get_int("fusing", s.fusing, 1, kMaxSize);
  f.get_int("image_size", s.image_size, 0, 8192);
  MRNN_CHECK(s.image_size == 0 || s.image_size >= 4, "{}: field 'image_size' must be 0 or >= 4", what);
  f.get_int("feature_dim", s.feature_dim, 1, kMaxSize);
  f.get_int_list("cnn_channels", s.cnn_channels, 8, 1, kMaxSize);
  f.get_choice("cnn_pool", s.cnn_pool, cnn_pool_names());
  f.get_real("dropout", s.dropout, 0, 1);
  f.get_bool("tws", s.tws);
  if (j.contains("tokenizer")) {
    MRNN_CHECK(j["tokenizer"].is_string(), "{}: field 'tokenizer' must be \"word\" or \"char\"", what);
    try {
      c.tokenizer = parse_tokenizer_mode(j["tokenizer"].get<std::string>());
    } catch (const Error& e) {
      MRNN_FAIL("{}: field 'tokenizer': {}", what, e.what());
    }
  }
  f.get_int("max_words", c.max_words, 1, 1000);
  if (j.contains("mmi")) {
    MRNN_CHECK(j["mmi"].is_string(), "{}: field 'mmi' must be \"none\", \"softmax\" or \"margin\"", what);
    c.mmi = j["mmi"].get<std::string>();
    MRNN_CHECK(c.mmi == "none" || c.mmi == "softmax" || c.mmi == "margin",
               "{}: field 'mmi' must be \"none\", \"softmax\" or \"margin\", got \"{}\"", what, c.mmi);
  }
  f.get_real("margin", c.margin, 0, 1e6);
  f.get_real("lambda", c.lambda, 0, 1e6);
  return c;
}

void write_refexp_dir_meta(const std::string& dir, const RefexpModelConfig& config, const Vocab& vocab) {
  std::filesystem::create_directories(dir);
  write_file_atomic(dir + "/config.json", config.to_json());
  vocab.save(dir + "/vocab.txt");
}

RefexpModelConfig load_refexp_config(const std::string& dir) {
  const std::string path = dir + "/config.json";
  MRNN_CHECK(std::filesystem::is_regular_file(path), "{}: not a refexp model folder (no config.json)", dir);
  return RefexpModelConfig::from_json(jsonio::read_file(path, "model config"), path);
}

RefexpDir load_refexp_dir(const std::string& dir, const std::string& weights_file) {
  RefexpDir m;
  m.config = load_refexp_config(dir);
  m.vocab = Vocab::load(dir + "/vocab.txt");
  MRNN_CHECK(m.vocab.size() == m.config.speaker.vocab, "{}/vocab.txt has {} tokens but {}/config.json says vocab = {}",
             dir, m.vocab.size(), dir, m.config.speaker.vocab);
  Generator gen(0);
  m.model = std::make_shared<Speaker>(m.config.speaker, gen);
  load_module(dir + "/" + weights_file, *m.model);
  m.model->eval();
  return m;
}

}  // namespace mrnn
