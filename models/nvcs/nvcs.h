// NVCS (Mao et al., ICCV 2015, "Learning like a Child"): a trained m-RNN learns new words from a
// few images by appending rows for them (embedding and bias; with an untied output also the output
// matrix) and training only those rows, so every old parameter keeps its bits. Baseline
// probability fixation (BPF): the new words' bias is fixed at the mean of the old words' biases,
// and their logits read the output layer's input centred by its mean over the base training data
// (Mrnn::centralize). Why here: the pieces a training program needs, each testable alone.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/vocab.h"
#include "models/engine/trainer.h"
#include "models/mrnn/caption_data.h"
#include "models/mrnn/mrnn.h"
#include "models/nvcs/novel_data.h"

namespace mrnn {

struct NovelWords {
  int64_t old_vocab = 0;           // ids [0, old_vocab) are the base model's
  std::vector<std::string> words;  // new ids old_vocab, old_vocab + 1, ...
  std::vector<int> concept_of;     // per new word: its concept in the NovelData
  double new_bias = 0;             // the bias every new word starts at
};

// The mean output bias of the base model's ordinary words (ids kEosId+1 .. old_vocab-1: the
// special tokens are excluded, <pad> and <bos> are never predicted). Requires old_vocab > kEosId+1.
double mean_word_bias(const Mrnn& model, int64_t old_vocab);

// Checks the base model and the data, then grows vocab and model by every word of every concept
// (concept order, each word once), each starting at bias mean_word_bias. Requires nothing of the
// inputs; throws Error, before changing anything, naming model_dir/config.json when require_tws
// and the model is untied (or !require_tws and it is tied), and naming data.path, the concept and
// model_dir/vocab.txt when a novel word is already in the vocabulary. Ensures: old parameters keep
// their bits (Mrnn::grow_vocab), vocab.size() == model.config().vocab.
NovelWords add_novel_words(Mrnn& model, Vocab& vocab, const NovelData& data, bool require_tws, Generator& gen,
                           const std::string& model_dir);

// The mean of Mrnn::output_input over every predicted position (targets that are not <pad>) of
// up to max_captions captions of split (evenly spread over it; 0 = all), in eval mode without
// dropout: f32 [output_input_dim()] on the model's device. Requires split's images in memory.
// Why: the centring vector of BPF, computed once over the base training data.
Tensor output_input_mean(const Mrnn& model, const CaptionSplit& split, int64_t max_captions, int64_t batch = 64);

// For a model whose CNN is frozen (NVCS trains only new word rows): split.images [N, 3, S, S]
// becomes the CNN's features [N, image_dim] (Mrnn::cnn_features, in batches of `batch`), which
// Mrnn::encode_images takes in place of the images. A features model, or a split whose images are
// streamed or already features, is left as it is. Why: each image then goes through the CNN once,
// not once per step (NVCS training time 7.6 -> 3.9 s, docs/nvcs.md).
void encode_split_images_once(const Mrnn& model, CaptionSplit& split, int64_t batch = 64);

// Trainer groups that train only the new rows: embed.weight rows >= old_vocab (and output.weight
// rows when untied), output.bias rows >= old_vocab unless fixed_bias (then the whole bias is
// frozen), everything else frozen.
std::vector<ParamGroupSpec> novel_param_groups(const Mrnn& model, int64_t old_vocab, bool fixed_bias);

struct Neighbour {
  std::string word;
  double cosine = 0;
};
// The k old ordinary words (ids kEosId+1 .. old_vocab-1) whose embedding rows have the highest
// cosine similarity to word's row, best first. Requires word < vocab.size().
std::vector<Neighbour> nearest_words(const Mrnn& model, const Vocab& vocab, int32_t word, int64_t old_vocab,
                                     int64_t k);

}  // namespace mrnn

namespace mrnn {

// The training set of a, followed by the first n_b images of b with all their captions (n_b is
// clamped to b's images). Why: NVCS may mix base captions into the novel ones, so that the new
// words also learn where they do not belong (only the new rows train either way). Requires: both
// splits in memory with images of the same shape. Ensures: caption_image indexes the joined
// images; references, file names and ids follow them.
CaptionSplit join_splits(const CaptionSplit& a, const CaptionSplit& b, int64_t n_b);

}  // namespace mrnn
