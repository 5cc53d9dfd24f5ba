// The CPU optimizers, clipping and finite check are the reference the GPU kernels are tested
// against (tests/cuda/test_optim_cuda.cpp): here they are checked bit for bit against the update
// rules written out longhand (the loops as they were before the per-element math moved to
// kernels/common/), over parameter groups with lr scales, weight decay and frozen rows, and the
// two-step clip (grad_sum_squares, clip_grads) against clip_grad_norm.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/engine/optim.h"
#include "models/engine/step_stats.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

std::vector<float> randv(Generator& g, int64_t n, double scale) {
  return Tensor::randn({n}, g, DType::F32, 0, scale).to_vector<float>();
}

struct Case {
  std::vector<ParamGroup> groups;
  std::vector<std::vector<float>> w0;                 // initial weights, params order
  std::vector<std::vector<std::vector<float>>> grads;  // [step][param]
  std::vector<int64_t> begin;                          // first updated element, params order
  std::vector<double> lr_scale, wd;
};

// Three parameters in two groups: a matrix with 2 of 5 rows frozen, a vector, and a matrix in a
// group with lr_scale 0.5 and weight decay 0.1; gradients for 3 steps.
Case make_case(uint64_t seed) {
  Generator g(seed);
  Case c;
  const std::vector<Shape> shapes = {{5, 3}, {7}, {4, 6}};
  std::vector<Tensor> ps;
  for (const Shape& s : shapes) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    c.w0.push_back(randv(g, n, 1.0));
    ps.push_back(Tensor::from_vector(c.w0.back(), s).requires_grad_());
  }
  ParamGroup a;
  a.name = "a";
  a.params = {ps[0], ps[1]};
  a.weight_decay = 0.01;
  a.frozen_rows = {2, 0};
  ParamGroup b;
  b.name = "b";
  b.params = {ps[2]};
  b.lr_scale = 0.5;
  b.weight_decay = 0.1;
  c.groups = {a, b};
  c.begin = {2 * 3, 0, 0};
  c.lr_scale = {1, 1, 0.5};
  c.wd = {0.01, 0.01, 0.1};
  for (int s = 0; s < 3; ++s) {
    c.grads.emplace_back();
    for (size_t k = 0; k < ps.size(); ++k) c.grads.back().push_back(randv(g, ps[k].numel(), 0.3));
  }
  return c;
}

void set_grads(const Case& c, size_t step) {
  size_t k = 0;
  for (const ParamGroup& g : c.groups)
    for (const Tensor& p : g.params) {
      Tensor t = Tensor::from_vector(c.grads[step][k++], p.shape());
      const_cast<Tensor&>(p).set_grad(t);
    }
}

std::vector<std::vector<float>> weights(const Optimizer& o) {
  std::vector<std::vector<float>> w;
  for (const Tensor& p : o.params()) w.push_back(p.to_vector<float>());
  return w;
}

bool bit_equal(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (a[k].size() != b[k].size() || std::memcmp(a[k].data(), b[k].data(), a[k].size() * sizeof(float)) != 0)
      return false;
  return true;
}

}  // namespace

TEST_CASE("optimizers on the CPU: Adam, AdamW and SGD equal the longhand update bit for bit, with groups and frozen rows",
          "[optim]") {
  for (int kind = 0; kind < 3; ++kind) {  // 0 Adam, 1 AdamW, 2 SGD
    INFO("kind " << kind);
    Case c = make_case(11 + kind);
    std::unique_ptr<Optimizer> opt;
    if (kind < 2) opt = std::make_unique<Adam>(c.groups, 0.9, 0.999, 1e-8, kind == 1);
    else opt = std::make_unique<SGD>(c.groups, 0.8);
    // The longhand reference: f32 arithmetic in the loops' order.
    std::vector<std::vector<float>> w = c.w0, m, v;
    for (auto& x : w) {
      m.emplace_back(x.size(), 0.0f);
      v.emplace_back(x.size(), 0.0f);
    }
    const double lrs[3] = {0.01, 0.02, 0.005};
    for (size_t s = 0; s < 3; ++s) {
      set_grads(c, s);
      opt->step(lrs[s]);
      const double t = static_cast<double>(s + 1);
      const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
      const float isb = static_cast<float>(1 / std::sqrt(bc2));
      for (size_t k = 0; k < w.size(); ++k) {
        const double glr = lrs[s] * c.lr_scale[k];
        const float wd = static_cast<float>(c.wd[k]);
        for (size_t i = static_cast<size_t>(c.begin[k]); i < w[k].size(); ++i) {
          const float g = c.grads[s][k][i];
          if (kind == 2) {
            const float gi = g + wd * w[k][i];
            m[k][i] = 0.8f * m[k][i] + gi;
            w[k][i] -= static_cast<float>(glr) * m[k][i];
            continue;
          }
          const float decay = static_cast<float>(1 - glr * c.wd[k]), ss = static_cast<float>(glr / bc1);
          const float w0 = kind == 1 ? w[k][i] * decay : w[k][i];
          const float gi = kind == 1 ? g : g + wd * w[k][i];
          m[k][i] = 0.9f * m[k][i] + (1 - 0.9f) * gi;
          v[k][i] = 0.999f * v[k][i] + (1 - 0.999f) * gi * gi;
          w[k][i] = w0 - ss * m[k][i] / (std::sqrt(v[k][i]) * isb + 1e-8f);
        }
      }
      CHECK(bit_equal(weights(*opt), w));
    }
    // Frozen rows never moved.
    const std::vector<float> now = opt->params()[0].to_vector<float>();
    CHECK(std::memcmp(now.data(), c.w0[0].data(), 6 * sizeof(float)) == 0);
    CHECK(opt->device() == Device::cpu());
  }
}

TEST_CASE("optimizers on the CPU: a non-finite guard skips the update, a finite one does not", "[optim]") {
  Case c = make_case(5);
  Adam a(c.groups, 0.9, 0.999, 1e-8, false);
  set_grads(c, 0);
  const auto before = weights(a);
  a.step(0.01, Tensor::from_vector(std::vector<double>{std::numeric_limits<double>::quiet_NaN()}));
  CHECK(bit_equal(weights(a), before));
  a.step(0.01, Tensor::from_vector(std::vector<double>{std::numeric_limits<double>::infinity()}));
  CHECK(bit_equal(weights(a), before));
  CHECK(a.steps() == 2);  // a guarded step counts as a call (the device cannot tell the host)
  Case d = make_case(5);
  Adam b(d.groups, 0.9, 0.999, 1e-8, false);
  set_grads(d, 0);
  b.step(0.01, Tensor::from_vector(std::vector<double>{1.0}));
  Case e = make_case(5);
  Adam r(e.groups, 0.9, 0.999, 1e-8, false);
  set_grads(e, 0);
  r.step(0.01);
  CHECK(bit_equal(weights(b), weights(r)));
  CHECK(!bit_equal(weights(b), before));
}

TEST_CASE("clipping on the CPU: grad_sum_squares + clip_grads equal clip_grad_norm bit for bit, and the sum is the finite check",
          "[optim]") {
  Generator g(3);
  std::vector<Tensor> a, b;
  for (int64_t n : {100000, 17, 40000}) {  // one over the parallel threshold, several 16384 blocks
    const std::vector<float> w = randv(g, n, 1), gr = randv(g, n, 2);
    for (auto* list : {&a, &b}) {
      Tensor p = Tensor::from_vector(w).requires_grad_();
      p.set_grad(Tensor::from_vector(gr));
      list->push_back(p);
    }
  }
  const double norm = clip_grad_norm(a, 1.5);
  const Tensor ss = grad_sum_squares(b);
  REQUIRE(ss.dtype() == DType::F64);
  REQUIRE(ss.numel() == 1);
  CHECK(std::sqrt(ss.item()) == norm);
  CHECK(norm > 1.5);
  clip_grads(b, ss, 1.5);
  for (size_t k = 0; k < a.size(); ++k) {
    const auto x = a[k].grad().to_vector<float>(), y = b[k].grad().to_vector<float>();
    CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
  }
  // Under the limit: nothing changes. max_norm 0: clipping off.
  const auto g0 = b[1].grad().to_vector<float>();
  clip_grads(b, grad_sum_squares(b), 1e9);
  clip_grads(b, grad_sum_squares(b), 0);
  CHECK(b[1].grad().to_vector<float>() == g0);
  // The sum is finite exactly when every gradient is; a NaN or an Inf anywhere shows.
  CHECK(grads_finite(b));
  CHECK(std::isfinite(grad_sum_squares(b).item()));
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> gv = b[2].grad().to_vector<float>();
    gv[123] = bad;
    b[2].set_grad(Tensor::from_vector(gv));
    size_t which = 99;
    CHECK(!std::isfinite(grad_sum_squares(b).item()));
    CHECK(!grads_finite(b, &which));
    CHECK(which == 2);
    // A non-finite sum leaves the gradients alone (the step is skipped or stopped anyway).
    const auto before = b[0].grad().to_vector<float>();
    clip_grads(b, grad_sum_squares(b), 1.0);
    CHECK(b[0].grad().to_vector<float>() == before);
  }
  // No gradient at all: a zero sum on the CPU.
  Tensor q = Tensor::from_vector(std::vector<float>{1, 2}).requires_grad_();
  CHECK(grad_sum_squares({q}).item() == 0);
}

TEST_CASE("read_step_stats on the CPU returns the loss and the sum, and checks its inputs", "[optim]") {
  const StepStats s = read_step_stats(Tensor::scalar(2.5), Tensor::from_vector(std::vector<double>{9}));
  CHECK(s.loss == 2.5);
  CHECK(s.sum_squares == 9);
  CHECK(read_step_stats(Tensor(), Tensor::from_vector(std::vector<double>{4})).loss == 0);
  const StepStats r = read_step_stats(Tensor::scalar(1), Tensor::from_vector(std::vector<double>{4}),
                                      Tensor::from_vector(std::vector<int64_t>{3, 12, 10}));
  CHECK(r.loss == 1);
  CHECK(r.index_record == std::vector<int64_t>{3, 12, 10});
  CHECK(s.index_record.empty());
  CHECK_THROWS_WITH(read_step_stats(Tensor(), Tensor::from_vector(std::vector<double>{1}), Tensor::zeros({3})),
                    Contains("index record of three i64s"));
  CHECK_THROWS_WITH(read_step_stats(Tensor::zeros({2}), Tensor::from_vector(std::vector<double>{1})),
                    Contains("expected a scalar loss"));
  CHECK_THROWS_WITH(read_step_stats(Tensor::scalar(1), Tensor()), Contains("expected one sum of squares"));
}

TEST_CASE("optimizer state: what state() returns loads into a fresh optimizer and continues bit for bit", "[optim]") {
  for (int kind = 0; kind < 2; ++kind) {
    Case c1 = make_case(21), c2 = make_case(21);
    std::unique_ptr<Optimizer> a, b;
    if (kind == 0) {
      a = std::make_unique<Adam>(c1.groups, 0.9, 0.999, 1e-8, true);
      b = std::make_unique<Adam>(c2.groups, 0.9, 0.999, 1e-8, true);
    } else {
      a = std::make_unique<SGD>(c1.groups, 0.9);
      b = std::make_unique<SGD>(c2.groups, 0.9);
    }
    set_grads(c1, 0);
    a->step(0.01);
    // b gets a's weights and state (copied, as a checkpoint would hold them), then both step on.
    {
      NoGradGuard ng;
      for (size_t k = 0; k < a->params().size(); ++k) const_cast<Tensor&>(b->params()[k]).copy_(a->params()[k]);
    }
    std::map<std::string, Tensor> st;
    for (auto& [k, t] : a->state()) st[k] = t.contiguous().to(DType::F64).to(t.dtype());  // a fresh copy
    b->load_state(st);
    CHECK(b->steps() == 1);
    set_grads(c1, 1);
    set_grads(c2, 1);
    a->step(0.02);
    b->step(0.02);
    CHECK(bit_equal(weights(*a), weights(*b)));
  }
}
