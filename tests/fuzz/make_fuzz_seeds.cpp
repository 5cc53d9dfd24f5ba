// Writes the seed corpora of fuzz_checkpoint and fuzz_model_config into CORPUS/checkpoint/ and
// CORPUS/model_config/ (built by the fuzz project; run once, the seeds are checked in):
//   <fuzz build>/make_fuzz_seeds tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/autograd.h"
#include "models/engine/checkpoint.h"
#include "models/engine/training_checkpoints.h"
#include "tests/fuzz/checkpoint_model.h"

namespace fs = std::filesystem;

namespace {

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds CORPUS_DIR\n");
    return 2;
  }
  const fs::path corpus = argv[1], tmp = fs::temp_directory_path() / "mrnn_fuzz_seeds.safetensors";

  // A checkpoint after one real Adam step, as caption_train writes it, and variants.
  mrnn::fuzz::CheckpointModel m;
  mrnn::Tensor tokens = mrnn::Tensor::from_vector(std::vector<int64_t>{2, 4, 5, 3, 2, 6, 3, 0}, {2, 4});
  mrnn::Tensor feats = mrnn::Tensor::from_vector(std::vector<float>{0.5f, -1, 2, 1, 0, -0.5f}, {2, 3});
  m.opt.zero_grad();
  m.model.loss(tokens, m.model.encode_images(feats)).backward();
  m.opt.step(0.01);
  std::map<std::string, mrnn::Tensor> all;
  for (auto& [k, t] : m.model.state_dict()) all["model." + k] = t;
  for (auto& [k, t] : m.opt.state()) all["optim." + k] = t;
  mrnn::TrainState s;
  s.step = 1;
  s.pos = 2;
  s.has_best = true;
  s.best_metric = "cider_d";
  s.best_value = 0.125;
  s.task = R"({"dropout_seed":3419,"dropout_offset":64})";
  s.options = R"({"batch":2,"seed":11,"bucket":0})";
  const fs::path out = corpus / "checkpoint";
  mrnn::save_tensors(tmp.string(), all, {{"mrnn_train_state", mrnn::train_state_json(s)}});
  const std::string ckpt = file_bytes(tmp);
  put(out, "adam-step1-file", std::string(1, '\0') + ckpt);
  put(out, "adam-step1-memory", std::string(1, '\1') + ckpt);
  s.options.clear();  // a checkpoint from before the options were recorded
  mrnn::save_tensors(tmp.string(), all, {{"mrnn_train_state", mrnn::train_state_json(s)}});
  put(out, "adam-no-options-memory", std::string(1, '\1') + file_bytes(tmp));
  mrnn::save_module(tmp.string(), m.model);  // model.safetensors: load_state_dict only
  put(out, "model-weights", std::string(1, '\2') + file_bytes(tmp));
  fs::remove(tmp);

  // config.json files as caption_train writes them, for each kind of model.
  const fs::path cfg = corpus / "model_config";
  mrnn::MrnnConfig c = mrnn::fuzz::checkpoint_model_config();
  put(cfg, "features-relu-tws", c.to_json());
  c.rnn_type = "lstm";
  c.tws = false;
  put(cfg, "features-lstm-untied", c.to_json());
  mrnn::MrnnConfig d;
  d.vocab = 40;
  d.embed1 = 8;
  d.embed2 = 8;
  d.rnn = 8;
  d.multimodal = 8;
  d.image_size = 16;
  d.image_dim = 8;
  d.rnn_type = "gru";
  d.tws_activation = "relu";
  std::string text = d.to_json();
  put(cfg, "cnn-gru", text.substr(0, text.rfind('}')) + ",\"tokenizer\": \"char\"}\n");
  put(cfg, "defaults", mrnn::MrnnConfig{}.to_json());
  std::printf("seeds written to %s/{checkpoint,model_config}\n", corpus.c_str());
  return 0;
}
