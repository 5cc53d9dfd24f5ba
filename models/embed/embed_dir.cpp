#include "models/embed/embed_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/engine/checkpoint.h"

namespace mrnn {

namespace {
std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  MRNN_CHECK(f.good(), "{}: cannot open file (is this a model folder written by embed_train?)", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

void write_embed_dir_meta(const std::string& dir, const EmbedConfig& config, const Vocab& vocab) {
  std::filesystem::create_directories(dir);
  const std::string tmp = dir + "/config.json.tmp";
  {
    std::ofstream f(tmp);
    MRNN_CHECK(f.good(), "{}: cannot write", tmp);
    f << config.to_json();
    MRNN_CHECK(f.good(), "{}: cannot write", tmp);
  }
  std::filesystem::rename(tmp, dir + "/config.json");
  vocab.save(dir + "/vocab.txt");
}

EmbedConfig load_embed_config(const std::string& dir) {
  const std::string path = dir + "/config.json";
  return EmbedConfig::from_json(read_text(path), path);
}

EmbedDir load_embed_dir(const std::string& dir, const std::string& weights_file) {
  EmbedDir d;
  d.config = load_embed_config(dir);
  d.vocab = Vocab::load(dir + "/vocab.txt");
  MRNN_CHECK(d.vocab.size() == d.config.vocab, "{}/vocab.txt has {} tokens but {}/config.json says vocab = {}", dir,
             d.vocab.size(), dir, d.config.vocab);
  Generator gen(0);
  d.model = std::make_shared<EmbedModel>(d.config, gen);
  try {
    load_module(dir + "/" + weights_file, *d.model);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find("has shape") == std::string::npos) throw;
    MRNN_FAIL("dimension mismatch: the weights do not have the sizes {}/config.json gives (embed = {}, vocab = {}): {}",
              dir, d.config.embed, d.config.vocab, what);
  }
  d.model->eval();
  return d;
}

}  // namespace mrnn
