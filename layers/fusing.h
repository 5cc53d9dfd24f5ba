// A fusing layer m = g(sum_i W_i x_i + b) over any number of inputs, one fused op (kernels/fused.h:
// fuse). Inputs are per step ([B, T, D_i]) or per sequence ([B, D_i], broadcast over time: an
// image, a question's final state). The m-RNN multimodal layer (layers/multimodal.h) is one
// instance; mQA-style models fuse four inputs.
#pragma once
#include <string>
#include <vector>

#include "kernels/common/fuse.h"
#include "layers/module.h"

namespace mrnn {

class FusingLayer : public Module {
 public:
  // Requires: in_dims non-empty, every entry and out_dim >= 1; per_sequence one flag per input;
  // names empty (parameters "W0", "W1", ...) or one parameter name per input. Weights are drawn
  // uniform(+-1/sqrt(sum of in_dims)) from gen in input order (one fan-in: they feed one sum);
  // the bias ("bias") starts at 0.
  FusingLayer(std::vector<int64_t> in_dims, std::vector<bool> per_sequence, int64_t out_dim, FuseActivation act,
              Generator& gen, const std::vector<std::string>& names = {});
  // xs in the constructor's order: per-step inputs [B, T, D_i] (or all [B, D_i] for one step),
  // per-sequence inputs [B, D_i]. Ensures: [B, T, M] (or [B, M]).
  Tensor forward(const std::vector<Tensor>& xs) const;
  // W_i x (+ bias when with_bias): one input's term, for callers that reuse a term across many
  // evaluations (decoding's image term, retrieval's text term). Plain ops, no fused node.
  Tensor term(size_t i, const Tensor& x, bool with_bias = false) const;
  // g(pre) for a pre-activation assembled from terms: the activation stays with the layer that
  // owns it. Plain op (scaled_tanh / tanh / relu / identity).
  Tensor activate(const Tensor& pre) const;
  FuseActivation activation() const { return act_; }
  size_t inputs() const { return weights_.size(); }
  const Tensor& weight(size_t i) const { return weights_.at(i); }
  const Tensor& bias() const { return bias_; }

 private:
  std::vector<Tensor> weights_;
  std::vector<bool> per_sequence_;
  Tensor bias_;
  FuseActivation act_;
};

}  // namespace mrnn
