// The small NVCS setting shared by the CPU tests (tests/models/test_nvcs.cpp) and the GPU test
// (tests/cuda/test_extensions_cuda.cpp): a seven-word base vocabulary, a small features m-RNN,
// captions over random feature rows, and the novel concepts star (star, stars) and hexagon.
#pragma once
#include <string>
#include <vector>

#include "data/vocab.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/mrnn.h"
#include "models/nvcs/novel_data.h"

namespace mrnn::testing {

inline const std::vector<std::string>& nvcs_base_words() {
  static const std::vector<std::string> w = {"a", "red", "blue", "circle", "square", "left", "right"};
  return w;
}

inline Vocab nvcs_base_vocab() { return Vocab::build({nvcs_base_words()}, 1); }

// Features input (image_dim 6), embeddings 8/10, RNN 10, multimodal 12.
inline MrnnConfig nvcs_small_config(bool tws, int64_t vocab, double dropout) {
  MrnnConfig c;
  c.vocab = vocab;
  c.embed1 = 8;
  c.embed2 = 10;
  c.rnn = 10;
  c.multimodal = 12;
  c.tws = tws;
  c.image_input = "features";
  c.image_dim = 6;
  c.dropout = dropout;
  return c;
}

// Captions (words of v) over random feature rows [n, 6] (seed), two per image.
inline CaptionSplit nvcs_split(const Vocab& v, const std::vector<std::vector<std::string>>& caps, uint64_t seed) {
  CaptionSplit s;
  Generator g(seed);
  const int64_t n = static_cast<int64_t>((caps.size() + 1) / 2);
  s.images = Tensor::randn({n, 6}, g);
  for (size_t c = 0; c < caps.size(); ++c) {
    std::vector<int32_t> ids;
    for (const std::string& w : caps[c]) ids.push_back(v.id(w));
    s.captions.push_back(ids);
    s.caption_image.push_back(static_cast<int64_t>(c / 2));
  }
  for (int64_t i = 0; i < n; ++i) {
    s.file_names.push_back("img" + std::to_string(i));
    s.image_ids.push_back(i);
    std::string ref;
    for (const std::string& w : caps[2 * i]) ref += (ref.empty() ? "" : " ") + w;
    s.references.push_back({ref});
  }
  return s;
}

inline NovelData nvcs_star_data() {
  NovelData d;
  d.path = "novel.json";
  d.concepts = {{"star", {"star", "stars"}}, {"hexagon", {"hexagon"}}};
  return d;
}

}  // namespace mrnn::testing
