#include "models/mrnn/decoding.h"

#include <algorithm>

#include "core/autograd.h"

namespace mrnn {

MrnnStepModel::MrnnStepModel(const Mrnn& model, const Tensor& image_features) : model_(model) {
  NoGradGuard ng;
  image_term_ = model.image_term(image_features.to(model.device()));  // Tensor::to copies only if elsewhere
}

DecoderState MrnnStepModel::initial_state() const {
  DecoderState s = model_.initial_state(image_term_.size(0));
  s.tensors.push_back(image_term_);
  return s;
}

Tensor MrnnStepModel::step_logits(const Tensor& ids, DecoderState& state) const {
  std::vector<Tensor>& st = state.tensors;
  MRNN_CHECK(st.size() >= 2, "MrnnStepModel: expected the state of initial_state(), got {} tensors", st.size());
  DecoderState rec;  // the recurrent tensors; the image term is the last one
  rec.tensors.assign(st.begin(), st.end() - 1);
  Tensor logits = model_.step_logits(ids, rec, st.back());
  std::copy(rec.tensors.begin(), rec.tensors.end(), st.begin());
  return logits;
}

std::vector<Caption> greedy_captions(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
  return greedy_decode(MrnnStepModel(model, feats), opt);
}

std::vector<Caption> sample_captions(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt,
                                     Generator& gen) {
  return sample_decode(MrnnStepModel(model, feats), opt, gen);
}

std::vector<Caption> beam_search_captions(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
  return beam_decode(MrnnStepModel(model, feats), opt);
}

std::vector<Caption> beam_search_captions_batched(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
  return beam_decode(MrnnStepModel(model, feats), opt);
}

}  // namespace mrnn
