#include "models/embed/embed_vectors.h"

#include "core/autograd.h"

namespace mrnn {

WordVectors word_table(const EmbedDir& d, const std::string& dir) {
  NoGradGuard ng;
  const Tensor t = d.model->table().to(Device::cpu()).contiguous();
  const int64_t V = d.vocab.size();
  MRNN_CHECK(t.dim() == 2 && t.size(0) == V && t.size(1) == d.config.embed,
             "{}: dimension mismatch: the word table is {} but {}/vocab.txt has {} tokens and {}/config.json says "
             "embed = {}", dir, t.desc(), dir, V, dir, d.config.embed);
  MRNN_CHECK(V > Vocab::kNumSpecials,
             "{}/vocab.txt: empty vocabulary (only the special tokens <pad> <unk> <bos> <eos>, no word to export)", dir);
  std::vector<float> all = t.to_vector<float>();
  std::vector<std::string> words(d.vocab.tokens().begin() + Vocab::kNumSpecials, d.vocab.tokens().end());
  std::vector<float> rows(all.begin() + Vocab::kNumSpecials * t.size(1), all.end());
  return WordVectors(std::move(words), std::move(rows), t.size(1), dir + "/model.safetensors");
}

}  // namespace mrnn
