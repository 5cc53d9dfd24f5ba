// The fused N-input layer (kernels/fused.h: fuse) on the CPU against the unfused composition
// (linear per input, per-sequence terms broadcast over time, add, activation) in values and
// gradients for 1, 3 and 4 inputs and every activation; multimodal is its 3-input instance bit for
// bit; FusingLayer / MultimodalLayer parameters and the retrieval API. (f64 gradient checks: the
// fuse_* op-table rows.)
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "kernels/fused.h"
#include "kernels/ops.h"
#include "layers/fusing.h"
#include "layers/multimodal.h"
#include "support/compare.h"

using namespace mrnn;
using mrnn::testing::max_abs_diff;

namespace {

Tensor act_of(FuseActivation g, const Tensor& x) {
  switch (g) {
    case FuseActivation::ScaledTanh: return scaled_tanh(x);
    case FuseActivation::Tanh: return tanh(x);
    case FuseActivation::Relu: return relu(x);
    case FuseActivation::Identity: break;
  }
  return x;
}

// Leaves: inputs of the given shapes and weights [M, D], bias [M]; per-sequence when 2-d and some
// input is 3-d.
struct Case {
  std::vector<Tensor> xs, ws;
  Tensor bias;
};

Case make(const std::vector<Shape>& shapes, int64_t M, DType dt, uint64_t seed) {
  Generator g(seed);
  Case c;
  for (const Shape& s : shapes) {
    c.xs.push_back(Tensor::randn(s, g, dt).requires_grad_());
    c.ws.push_back((Tensor::randn({M, s.back()}, g, dt) * 0.4).requires_grad_());
  }
  c.bias = (Tensor::randn({M}, g, dt) * 0.2).requires_grad_();
  return c;
}

std::vector<Tensor> grads_of(const Case& c) {
  std::vector<Tensor> out;
  for (const Tensor& t : c.xs) out.push_back(t.grad().clone());
  for (const Tensor& t : c.ws) out.push_back(t.grad().clone());
  out.push_back(c.bias.grad().clone());
  return out;
}

void zero(Case& c) {
  for (Tensor& t : c.xs) t.zero_grad();
  for (Tensor& t : c.ws) t.zero_grad();
  c.bias.zero_grad();
}

Tensor unfused(const Case& c, FuseActivation g) {
  bool any3 = false;
  for (const Tensor& x : c.xs) any3 = any3 || x.dim() == 3;
  Tensor pre;
  for (size_t i = 0; i < c.xs.size(); ++i) {
    Tensor t = linear(c.xs[i], c.ws[i], Tensor());
    if (any3 && t.dim() == 2) t = unsqueeze(t, 1);  // [B, 1, M] broadcasts over time
    pre = pre.defined() ? add(pre, t) : t;
  }
  return act_of(g, add(pre, c.bias));
}

}  // namespace

TEST_CASE("fuse matches the unfused composition: 1, 3 and 4 inputs, every activation, f32 and f64",
          "[fused][fuse]") {
  const std::vector<std::vector<Shape>> layouts = {
      {{3, 4, 5}},                                  // one per-step input
      {{3, 4, 5}, {3, 4, 6}, {3, 7}},               // m-RNN: word, recurrent state, image
      {{3, 6}, {3, 7}, {3, 4, 5}, {3, 4, 2}},       // mQA: question, image (per sequence), answer, word
      {{3, 6}, {3, 7}, {3, 5}},                     // one step, all [B, D]
  };
  for (DType dt : {DType::F64, DType::F32}) {
    const double tol = dt == DType::F64 ? 1e-12 : 3e-5;
    for (size_t k = 0; k < layouts.size(); ++k) {
      for (FuseActivation g : {FuseActivation::ScaledTanh, FuseActivation::Tanh, FuseActivation::Relu,
                               FuseActivation::Identity}) {
        INFO("layout " << k << " activation " << static_cast<int>(g) << " " << dtype_name(dt));
        Case c = make(layouts[k], 8, dt, 40 + k);
        Generator gg(7);
        Tensor ref = unfused(c, g);
        Tensor seed = Tensor::randn(ref.shape(), gg, dt);
        ref.backward(seed);
        const std::vector<Tensor> gref = grads_of(c);
        zero(c);
        Tensor out = fuse(c.xs, c.ws, c.bias, g);
        REQUIRE(out.shape() == ref.shape());
        CHECK(max_abs_diff(out, ref) <= tol);
        out.backward(seed);
        const std::vector<Tensor> gf = grads_of(c);
        for (size_t i = 0; i < gf.size(); ++i) {
          INFO("gradient " << i);
          CHECK(max_abs_diff(gf[i], gref[i]) <= tol * 10);
        }
      }
    }
  }
}

TEST_CASE("multimodal is the 3-input instance of fuse bit for bit, explicit and inferred flags agree", "[fused][fuse]") {
  for (bool seq : {true, false}) {
    Case c = make(seq ? std::vector<Shape>{{2, 5, 4}, {2, 5, 3}, {2, 6}} : std::vector<Shape>{{2, 4}, {2, 3}, {2, 6}},
                  7, DType::F32, 3);
    Tensor m = multimodal(c.xs[0], c.xs[1], c.xs[2], c.ws[0], c.ws[1], c.ws[2], c.bias);
    Tensor f = fuse(c.xs, c.ws, c.bias, FuseActivation::ScaledTanh, {false, false, true});
    CHECK(max_abs_diff(m, f) == 0.0);
    if (seq) CHECK(max_abs_diff(fuse(c.xs, c.ws, c.bias, FuseActivation::ScaledTanh), m) == 0.0);
  }
}

TEST_CASE("fuse rejects bad inputs with messages naming them", "[fused][fuse]") {
  Case c = make({{2, 3, 4}, {2, 5}}, 6, DType::F32, 1);
  CHECK_THROWS_WITH(fuse({}, {}, c.bias, FuseActivation::Tanh), Catch::Contains("at least one input"));
  CHECK_THROWS_WITH(fuse(c.xs, {c.ws[0]}, c.bias, FuseActivation::Tanh), Catch::Contains("one weight per input"));
  CHECK_THROWS_WITH(fuse(c.xs, {c.ws[1], c.ws[0]}, c.bias, FuseActivation::Tanh), Catch::Contains("weight 0 must be"));
  CHECK_THROWS_WITH(fuse(c.xs, c.ws, narrow(c.bias, 0, 0, 2), FuseActivation::Tanh), Catch::Contains("bias must be"));
  CHECK_THROWS_WITH(fuse(c.xs, c.ws, c.bias, FuseActivation::Tanh, {true, false}),
                    Catch::Contains("must be [B, D] (per sequence)"));
  Tensor other_t = Tensor::zeros({2, 4, 4});
  CHECK_THROWS_WITH(fuse({c.xs[0], other_t}, {c.ws[0], c.ws[0]}, c.bias, FuseActivation::Tanh),
                    Catch::Contains("one T"));
}

TEST_CASE("FusingLayer: parameter names, init fan-in, forward = fuse, MultimodalLayer keeps Vw Vr Vi bias",
          "[fused][fuse][layers]") {
  Generator g1(11), g2(11);
  FusingLayer f({4, 3, 5}, {false, false, true}, 6, FuseActivation::ScaledTanh, g1);
  MultimodalLayer mm(4, 3, 5, 6, g2);
  std::vector<std::string> fn, mn;
  for (const auto& kv : f.state_dict()) fn.push_back(kv.first);
  for (const auto& kv : mm.state_dict()) mn.push_back(kv.first);
  CHECK(fn == std::vector<std::string>{"W0", "W1", "W2", "bias"});
  CHECK(mn == std::vector<std::string>{"Vi", "Vr", "Vw", "bias"});  // sorted names
  CHECK(max_abs_diff(f.weight(0), mm.Vw) == 0.0);  // same draws in the same order
  CHECK(max_abs_diff(f.weight(2), mm.Vi) == 0.0);
  CHECK(mm.Vw.shares_storage(mm.weight(0)));
  Generator gi(2);
  Tensor w = Tensor::randn({2, 3, 4}, gi), r = Tensor::randn({2, 3, 3}, gi), img = Tensor::randn({2, 5}, gi);
  CHECK(max_abs_diff(f.forward({w, r, img}), mm.forward(w, r, img)) == 0.0);
  // The retrieval / decoding path: the activation from the layer's two terms.
  NoGradGuard ng;
  Tensor w0 = select(w, 1, 0), r0 = select(r, 1, 0);
  Tensor via_terms = mm.from_terms(mm.text_term(w0, r0), mm.image_term(img));
  CHECK(max_abs_diff(via_terms, mm.step(w0, r0, mm.image_term(img))) == 0.0);
  CHECK(max_abs_diff(via_terms, mm.forward(w0, r0, img)) < 1e-5);
  CHECK_THROWS_WITH(FusingLayer({4}, {false, true}, 6, FuseActivation::Tanh, g1), Catch::Contains("per_sequence"));
}
