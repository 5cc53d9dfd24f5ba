// The one op table: every differentiable op with its input generators. The same rows drive the
// f64 gradient checks (tests/core/test_gradcheck.cpp), the CPU/CUDA parity tests
// (tests/cuda/test_parity.cpp) and the op benchmarks (bench/bench_ops.cpp), so a new op is one row
// and is then tested and timed everywhere.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "kernels/fused.h"
#include "kernels/ops.h"

namespace mrnn::testing {

// How an input's random values are drawn.
enum class Domain {
  Normal,    // N(0, 1)
  Positive,  // uniform [0.5, 2] (log, sqrt, div denominators)
  Index,     // integer class/row ids in [0, hi)
};

struct InputSpec {
  Shape shape;
  Domain domain = Domain::Normal;
  int64_t hi = 0;              // Index: exclusive upper bound
  bool differentiable = true;  // float inputs that get a gradient
};

struct OpCase {
  std::string name;
  std::vector<InputSpec> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
};

// Makes a fresh random input for `spec` in `dtype` (indices are always i64).
inline Tensor make_input(const InputSpec& spec, DType dtype, Generator& gen) {
  if (spec.domain == Domain::Index) {
    Tensor u = Tensor::rand(spec.shape, gen, DType::F64, 0, static_cast<double>(spec.hi));
    std::vector<double> v = u.to_vector<double>();
    std::vector<int64_t> ids(v.size());
    for (size_t i = 0; i < v.size(); ++i) ids[i] = static_cast<int64_t>(v[i]);
    return Tensor::from_vector(ids, spec.shape);
  }
  if (spec.domain == Domain::Positive) return Tensor::rand(spec.shape, gen, dtype, 0.5, 2.0);
  return Tensor::randn(spec.shape, gen, dtype);
}

// The same values as x, laid out non-contiguously (transposed storage), as a differentiable view.
inline Tensor as_noncontiguous(const Tensor& x) {
  if (x.dim() < 2) return x;
  return transpose(transpose(x, -1, -2).contiguous(), -1, -2);
}

inline std::vector<OpCase> op_table() {
  using V = const std::vector<Tensor>&;
  std::vector<OpCase> t;
  auto unary = [&](const std::string& name, Tensor (*f)(const Tensor&), Domain d = Domain::Normal) {
    t.push_back({name, {{{3, 5}, d}}, [f](V x) { return f(x[0]); }});
  };
  unary("relu", relu);
  unary("tanh", tanh);
  unary("sigmoid", sigmoid);
  unary("scaled_tanh", scaled_tanh);
  unary("exp", exp);
  unary("log", log, Domain::Positive);
  unary("sqrt", sqrt, Domain::Positive);
  unary("square", square);
  unary("neg", neg);
  unary("abs", abs);
  unary("sign", sign);
  unary("gelu", gelu);
  t.push_back({"clamp", {{{4, 6}}}, [](V x) { return clamp(x[0], -0.5, 0.7); }});
  t.push_back({"add_scalar", {{{2, 3}}}, [](V x) { return add_scalar(x[0], 2.5); }});
  t.push_back({"mul_scalar", {{{2, 3}}}, [](V x) { return mul_scalar(x[0], -1.5); }});

  t.push_back({"add", {{{3, 4}}, {{3, 4}}}, [](V x) { return add(x[0], x[1]); }});
  t.push_back({"add_broadcast", {{{2, 3, 4}}, {{3, 1}}}, [](V x) { return add(x[0], x[1]); }});
  t.push_back({"sub_broadcast", {{{4}}, {{3, 4}}}, [](V x) { return sub(x[0], x[1]); }});
  t.push_back({"mul_broadcast", {{{2, 1, 4}}, {{3, 1}}}, [](V x) { return mul(x[0], x[1]); }});
  t.push_back({"div", {{{3, 4}}, {{3, 4}, Domain::Positive}}, [](V x) { return div(x[0], x[1]); }});
  t.push_back({"div_broadcast", {{{3, 4}}, {{4}, Domain::Positive}}, [](V x) { return div(x[0], x[1]); }});
  t.push_back({"maximum_broadcast", {{{2, 3, 4}}, {{3, 1}}}, [](V x) { return maximum(x[0], x[1]); }});
  t.push_back({"minimum_broadcast", {{{4}}, {{3, 4}}}, [](V x) { return minimum(x[0], x[1]); }});
  t.push_back({"maximum_tie", {{{3, 4}}}, [](V x) { return maximum(x[0], x[0]); }});  // split gradient
  t.push_back({"pow_scalar_int", {{{3, 4}}}, [](V x) { return pow(x[0], 3.0); }});
  t.push_back({"pow_scalar_frac", {{{3, 4}, Domain::Positive}}, [](V x) { return pow(x[0], -1.5); }});
  t.push_back({"pow_tensor", {{{3, 4}, Domain::Positive}, {{4}}}, [](V x) { return pow(x[0], x[1]); }});
  t.push_back({"where_broadcast", {{{3, 4}, Domain::Index, 2, false}, {{3, 4}}, {{4}}},
               [](V x) { return where(x[0], x[1], x[2]); }});
  t.push_back({"masked_fill", {{{2, 3, 4}}, {{3, 1}, Domain::Index, 2, false}},
               [](V x) { return masked_fill(x[0], x[1], -2.5); }});
  t.push_back({"mul_same_input", {{{3, 3}}}, [](V x) { return mul(x[0], x[0]); }});

  t.push_back({"matmul", {{{3, 4}}, {{4, 5}}}, [](V x) { return matmul(x[0], x[1]); }});
  t.push_back({"matmul_transposed", {{{4, 3}}, {{5, 4}}},
               [](V x) { return matmul(transpose(x[0], 0, 1), transpose(x[1], 0, 1)); }});
  t.push_back({"bmm", {{{2, 3, 4}}, {{2, 4, 2}}}, [](V x) { return matmul(x[0], x[1]); }});
  t.push_back({"bmm_2d", {{{2, 3, 4}}, {{4, 2}}}, [](V x) { return matmul(x[0], x[1]); }});
  t.push_back({"addmm", {{{5}}, {{3, 4}}, {{4, 5}}}, [](V x) { return addmm(x[0], x[1], x[2]); }});
  t.push_back({"linear", {{{2, 3, 4}}, {{5, 4}}, {{5}}}, [](V x) { return linear(x[0], x[1], x[2]); }});

  t.push_back({"sum_all", {{{3, 4}}}, [](V x) { return sum(x[0]); }});
  t.push_back({"sum_dim0", {{{3, 4}}}, [](V x) { return sum(x[0], {0}); }});
  t.push_back({"sum_dims_keep", {{{2, 3, 4}}}, [](V x) { return sum(x[0], {0, 2}, true); }});
  t.push_back({"mean_dim", {{{2, 3, 4}}}, [](V x) { return mean(x[0], {1}); }});
  t.push_back({"mean_all", {{{2, 3}}}, [](V x) { return mean(x[0]); }});
  t.push_back({"max_dim", {{{3, 5}}}, [](V x) { return max(x[0], 1); }});
  t.push_back({"max_dim0_keep", {{{4, 3}}}, [](V x) { return max(x[0], 0, true); }});

  t.push_back({"max_all", {{{3, 4}}}, [](V x) { return max(x[0]); }});
  t.push_back({"min_all", {{{2, 3, 2}}}, [](V x) { return min(x[0]); }});
  t.push_back({"var_dims", {{{2, 3, 4}}}, [](V x) { return var(x[0], {0, 2}); }});
  t.push_back({"var_biased_keep", {{{3, 5}}}, [](V x) { return var(x[0], {1}, false, true); }});
  t.push_back({"var_all", {{{3, 4}}}, [](V x) { return var(x[0]); }});
  t.push_back({"mse_loss", {{{3, 4}}, {{3, 4}}}, [](V x) { return mse_loss(x[0], x[1]); }});
  t.push_back({"mse_loss_none", {{{3, 4}}, {{3, 4}}}, [](V x) { return mse_loss(x[0], x[1], Reduction::None); }});
  t.push_back({"layer_norm", {{{2, 3, 6}}, {{6}}, {{6}}}, [](V x) { return layer_norm(x[0], x[1], x[2]); }});
  t.push_back({"layer_norm_plain", {{{4, 5}}}, [](V x) { return layer_norm(x[0], Tensor(), Tensor(), 1e-3); }});
  t.push_back({"softmax_last", {{{3, 6}}}, [](V x) { return softmax(x[0], -1); }});
  t.push_back({"softmax_dim0", {{{4, 3}}}, [](V x) { return softmax(x[0], 0); }});
  t.push_back({"log_softmax_last", {{{3, 6}}}, [](V x) { return log_softmax(x[0], 1); }});
  t.push_back({"log_softmax_mid", {{{2, 4, 3}}}, [](V x) { return log_softmax(x[0], 1); }});
  t.push_back({"cross_entropy", {{{5, 7}}, {{5}, Domain::Index, 7, false}},
               [](V x) { return cross_entropy(x[0], x[1]); }});
  t.push_back({"cross_entropy_ignore", {{{6, 4}}, {{6}, Domain::Index, 4, false}},
               [](V x) {
                 // rows whose target is 0 are padding
                 return cross_entropy(x[0], x[1], 0);
               }});

  t.push_back({"cross_entropy_none", {{{6, 5}}, {{6}, Domain::Index, 5, false}},
               [](V x) { return cross_entropy(x[0], x[1], 0, Reduction::None); }});
  t.push_back({"cross_entropy_sum", {{{6, 5}}, {{6}, Domain::Index, 5, false}},
               [](V x) { return cross_entropy(x[0], x[1], 0, Reduction::Sum); }});
  // gather (PyTorch semantics): along dim 0 with an index larger than x in dim 0 and smaller in
  // dim 1, and along dim 1 of a 3-d tensor.
  t.push_back({"gather_dim0", {{{4, 3}}, {{5, 2}, Domain::Index, 4, false}},
               [](V x) { return gather(x[0], 0, x[1]); }});
  t.push_back({"gather_dim1", {{{2, 5, 3}}, {{2, 6, 3}, Domain::Index, 5, false}},
               [](V x) { return gather(x[0], 1, x[1]); }});

  t.push_back({"embedding", {{{6, 3}}, {{2, 4}, Domain::Index, 6, false}},
               [](V x) { return embedding(x[0], x[1]); }});
  t.push_back({"index_select", {{{5, 2, 3}}, {{4}, Domain::Index, 5, false}},
               [](V x) { return index_select(x[0], x[1]); }});
  t.push_back({"dropout", {{{4, 5}}}, [](V x) {
                 Generator g(7);  // same mask on every call: gradcheck needs a deterministic function
                 return dropout(x[0], 0.3, true, g);
               }});

  t.push_back({"reshape", {{{2, 6}}}, [](V x) { return reshape(x[0], {3, -1}); }});
  t.push_back({"flatten", {{{2, 3, 2}}}, [](V x) { return flatten(x[0], 1); }});
  t.push_back({"transpose", {{{2, 3, 4}}}, [](V x) { return transpose(x[0], 0, 2); }});
  t.push_back({"permute", {{{2, 3, 4}}}, [](V x) { return permute(x[0], {1, 2, 0}); }});
  t.push_back({"narrow", {{{5, 4}}}, [](V x) { return narrow(x[0], 0, 1, 3); }});
  t.push_back({"select", {{{3, 4}}}, [](V x) { return select(x[0], 1, 2); }});
  t.push_back({"expand", {{{3, 1}}}, [](V x) { return expand(x[0], {2, 3, 4}); }});
  t.push_back({"unsqueeze_squeeze", {{{3, 4}}}, [](V x) { return squeeze(unsqueeze(x[0], 1), 1); }});
  t.push_back({"concat", {{{2, 3}}, {{4, 3}}}, [](V x) { return concat({x[0], x[1]}, 0); }});
  t.push_back({"stack", {{{2, 3}}, {{2, 3}}}, [](V x) { return stack({x[0], x[1]}, 1); }});
  t.push_back({"split", {{{5, 3}}}, [](V x) {
                 auto p = split(x[0], {2, 3}, 0);
                 return mul(sum(p[0], {0}), sum(p[1], {0}));
               }});
  t.push_back({"contiguous", {{{3, 4}}}, [](V x) { return transpose(x[0], 0, 1).contiguous(); }});

  t.push_back({"conv2d", {{{2, 2, 5, 5}}, {{3, 2, 3, 3}}, {{3}}},
               [](V x) { return conv2d(x[0], x[1], x[2], 1, 1); }});
  t.push_back({"conv2d_stride2", {{{1, 2, 6, 6}}, {{2, 2, 3, 3}}},
               [](V x) { return conv2d(x[0], x[1], Tensor(), 2, 0); }});
  t.push_back({"max_pool2d", {{{2, 2, 4, 4}}}, [](V x) { return max_pool2d(x[0], 2, 2); }});
  t.push_back({"max_pool2d_pad", {{{1, 2, 5, 5}}}, [](V x) { return max_pool2d(x[0], 3, 2, 1); }});
  t.push_back({"avg_pool2d", {{{1, 2, 5, 5}}}, [](V x) { return avg_pool2d(x[0], 3, 2, 1); }});
  t.push_back({"multimodal_seq", {{{2, 3, 4}}, {{2, 3, 5}}, {{2, 6}}, {{7, 4}}, {{7, 5}}, {{7, 6}}, {{7}}},
               [](V x) { return multimodal(x[0], x[1], x[2], x[3], x[4], x[5], x[6]); }});
  t.push_back({"multimodal_step", {{{3, 4}}, {{3, 5}}, {{3, 6}}, {{7, 4}}, {{7, 5}}, {{7, 6}}, {{7}}},
               [](V x) { return multimodal(x[0], x[1], x[2], x[3], x[4], x[5], x[6]); }});
  // The fused N-input layer (fuse): 1 input; m-RNN's 3 (per-step w, r, per-sequence image, flags
  // inferred); mQA's 4 (question state and image per sequence, answer state and word per step);
  // one step of 4 inputs with explicit flags and no bias. Each activation at least once.
  t.push_back({"fuse_1_relu", {{{2, 3, 4}}, {{5, 4}}, {{5}}},
               [](V x) { return fuse({x[0]}, {x[1]}, x[2], FuseActivation::Relu); }});
  t.push_back({"fuse_3_scaled_tanh", {{{2, 3, 4}}, {{2, 3, 5}}, {{2, 6}}, {{7, 4}}, {{7, 5}}, {{7, 6}}, {{7}}},
               [](V x) { return fuse({x[0], x[1], x[2]}, {x[3], x[4], x[5]}, x[6], FuseActivation::ScaledTanh); }});
  t.push_back({"fuse_4_tanh",
               {{{2, 6}}, {{2, 5}}, {{2, 3, 4}}, {{2, 3, 3}}, {{7, 6}}, {{7, 5}}, {{7, 4}}, {{7, 3}}, {{7}}},
               [](V x) {
                 return fuse({x[0], x[1], x[2], x[3]}, {x[4], x[5], x[6], x[7]}, x[8], FuseActivation::Tanh);
               }});
  t.push_back({"fuse_4_identity_step", {{{3, 6}}, {{3, 5}}, {{3, 4}}, {{3, 2}}, {{4, 6}}, {{4, 5}}, {{4, 4}}, {{4, 2}}},
               [](V x) {
                 return fuse({x[0], x[1], x[2], x[3]}, {x[4], x[5], x[6], x[7]}, Tensor(), FuseActivation::Identity,
                             {true, true, false, false});
               }});
  // The fused output layer + loss: several row blocks (the last one partial), padding rows
  // (target 0) skipped; and the bias-free single-block form.
  t.push_back({"linear_cross_entropy", {{{7, 5}}, {{6, 5}}, {{6}}, {{7}, Domain::Index, 6, false}},
               [](V x) { return linear_cross_entropy(x[0], x[1], x[2], x[3], 0, 3); }});
  // Reduction::None / Sum: several row blocks (chunk_rows 3, the last one partial) and padding rows.
  t.push_back({"linear_cross_entropy_none", {{{8, 5}}, {{6, 5}}, {{6}}, {{8}, Domain::Index, 6, false}},
               [](V x) { return linear_cross_entropy(x[0], x[1], x[2], x[3], 0, 3, Reduction::None); }});
  t.push_back({"linear_cross_entropy_sum", {{{7, 5}}, {{6, 5}}, {{6}}, {{7}, Domain::Index, 6, false}},
               [](V x) { return linear_cross_entropy(x[0], x[1], x[2], x[3], 0, 3, Reduction::Sum); }});
  t.push_back({"linear_cross_entropy_none_nobias", {{{4, 3}}, {{5, 3}}, {{4}, Domain::Index, 5, false}},
               [](V x) { return linear_cross_entropy(x[0], x[1], Tensor(), x[2], -100, 0, Reduction::None); }});
  t.push_back({"linear_cross_entropy_nobias", {{{4, 3}}, {{5, 3}}, {{4}, Domain::Index, 5, false}},
               [](V x) { return linear_cross_entropy(x[0], x[1], Tensor(), x[2], -100); }});
  // The fused recurrent cells (B = 3, H = 4); the *_step rows pass xproj as one time step of a
  // [B, T, G] tensor (a row-strided view), as the layers do.
  t.push_back({"rnn_cell_relu", {{{3, 4}}, {{3, 4}}}, [](V x) { return rnn_cell(x[0], x[1], true); }});
  t.push_back({"rnn_cell_tanh", {{{3, 4}}, {{3, 4}}}, [](V x) { return rnn_cell(x[0], x[1], false); }});
  t.push_back({"lstm_cell", {{{3, 16}}, {{3, 16}}, {{3, 4}}}, [](V x) { return lstm_cell(x[0], x[1], x[2]); }});
  t.push_back({"lstm_cell_step", {{{3, 2, 16}}, {{3, 16}}, {{3, 4}}},
               [](V x) { return lstm_cell(select(x[0], 1, 1), x[1], x[2]); }});
  t.push_back({"gru_cell", {{{3, 12}}, {{3, 12}}, {{3, 4}}}, [](V x) { return gru_cell(x[0], x[1], x[2]); }});
  t.push_back({"gru_cell_step", {{{3, 2, 12}}, {{3, 12}}, {{3, 4}}},
               [](V x) { return gru_cell(select(x[0], 1, 0), x[1], x[2]); }});
  return t;
}

}  // namespace mrnn::testing
